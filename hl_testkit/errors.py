"""The few exception types hl-testkit raises.

`ApiException` mirrors the official SDK's so user code can catch either.
`HlTestkitError` is for everything the toolkit itself refuses (bad
configuration, a missing or corrupt cassette, ...): its message always says
what was wrong and what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ApiException(Exception):
    """A non-2xx answer, or an answer that is not JSON, from the sessions API."""

    def __init__(
        self,
        status: int,
        reason: str,
        body: Any,
        headers: Mapping[str, str],
        round_trip_time: float,
        *,
        text: str = "",
        message: str | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.body = body
        self.headers = headers
        self.round_trip_time = round_trip_time
        self.text = text
        super().__init__(message or f"({status}) {reason}: {body!r}")


class HlTestkitError(Exception):
    """hl-testkit refused to go on; the message says why and what to do."""


class ApiBoundaryError(HlTestkitError):
    """A request on the API's host whose path leaves the API's base path (an id of `..`)."""
