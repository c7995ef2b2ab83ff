"""Deprecated: moved to `hl_testkit.secrets.scrub` (import `hl_testkit.secrets.ScrubRules`)."""

import warnings

from hl_testkit.secrets.scrub import *  # noqa: F403
from hl_testkit.secrets.scrub import DEFAULT_RULES, ScrubRules

__all__ = ["DEFAULT_RULES", "ScrubRules"]

warnings.warn(
    "hl_testkit.scrub moved to hl_testkit.secrets (from hl_testkit.secrets import ScrubRules); "
    "the old path will be removed in 0.3",
    DeprecationWarning,
    stacklevel=2,
)
