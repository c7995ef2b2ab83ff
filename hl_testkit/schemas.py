"""Deprecated: moved to `hl_testkit.contract.schemas` (`hl_testkit.contract.validate_response`)."""

import warnings

from hl_testkit.contract.schemas import *  # noqa: F403
from hl_testkit.contract.schemas import is_iso_date_time, validate_response

__all__ = ["is_iso_date_time", "validate_response"]

warnings.warn(
    "hl_testkit.schemas moved to hl_testkit.contract "
    "(from hl_testkit.contract import validate_response); the old path will be removed in 0.3",
    DeprecationWarning,
    stacklevel=2,
)
