"""hl-testkit: record, scrub, validate and replay Humanloop v4 sessions traffic."""

from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

from hl_testkit.errors import ApiException, HlTestkitError

if TYPE_CHECKING:
    from hl_testkit.client import ApiResponse, SessionsClient

__all__ = ["ApiException", "ApiResponse", "HlTestkitError", "SessionsClient", "__version__"]


def __getattr__(name: str) -> Any:
    """`SessionsClient` and `ApiResponse` load `requests` on first use, not with the package
    (the pytest plugin imports this package whether or not a test calls the API)."""
    if name in ("ApiResponse", "SessionsClient"):
        import importlib

        return getattr(importlib.import_module("hl_testkit.client"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
