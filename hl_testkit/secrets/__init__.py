"""Secrets: scrubbing what is recorded, scanning what is stored, guarding what is shown."""

from hl_testkit.secrets.scrub import DEFAULT_RULES, ScrubRules

__all__ = ["DEFAULT_RULES", "ScrubRules"]
