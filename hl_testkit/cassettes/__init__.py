"""Cassette files: the on-disk format, its loading, paths, and atomic locked writes."""
