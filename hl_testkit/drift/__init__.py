"""Drift: semantic diffs between two recordings of the API (`hl-testkit diff`)."""
