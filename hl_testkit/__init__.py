"""hl-testkit: record, scrub, validate and replay Humanloop v4 sessions traffic."""

from __future__ import annotations

__version__ = "0.1.0"

from hl_testkit.client import ApiResponse, SessionsClient
from hl_testkit.errors import ApiException, HlTestkitError

__all__ = ["ApiException", "ApiResponse", "HlTestkitError", "SessionsClient", "__version__"]
