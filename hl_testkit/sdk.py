"""The official SDK (`humanloop` 0.5.x), bound to a test's cassette.

Installed with the `sdk` extra: `pip install 'hl-testkit[sdk]'`. Its calls go
through urllib3 (sync) and aiohttp (`acreate`/`aget`/`alist`), both of which
vcrpy patches, so they record and replay like `sessions`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from hl_testkit.cassettes import canonical
from hl_testkit.errors import HlTestkitError
from hl_testkit.recording.recorder import Recording


def humanloop_client(recording: Recording) -> Any:
    """A `humanloop.Humanloop` with the same base URL and key rules as `sessions`."""
    try:
        from humanloop import Humanloop
    except ImportError:
        raise HlTestkitError(
            "the hl_humanloop fixture needs the official SDK: pip install 'hl-testkit[sdk]'"
        ) from None
    # The SDK refuses `localhost` as a host ("Invalid domain"); ours are IPs or names.
    sdk = Humanloop(api_key=recording.api_key, host=recording.base_url)
    _guard_paths(sdk.sessions.api_client, recording)
    return sdk


def _guard_paths(api_client: Any, recording: Recording) -> None:
    """Refuse a resource path with a `.` or `..` segment before the SDK builds its URL.

    The SDK percent-encodes path parameters but keeps `.` and `/`, so
    `sessions.get(id="../../x")` asks for `/sessions/../../x`, which urllib3 resolves
    to `/x`: another endpoint, or none of the API's. Its own templates hold no dot
    segment, so one can only come from a parameter. (The cassette also refuses any
    request that resolves outside the base path, but by then the id is gone.)
    """

    def check(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        path = str(kwargs.get("resource_path", args[0] if args else ""))
        if canonical.has_dot_segment(path):
            method = kwargs.get("method", args[1] if len(args) > 1 else "")
            resolved = canonical.resolve_dot_segments(urlsplit(recording.base_url).path + path)
            raise recording.refuse(
                f"hl-testkit refused the SDK's {method} {path}: a path parameter (an id) "
                f"holds a '.' or '..' segment, and the request would go to {resolved} "
                f"instead (base URL {recording.base_url}). Nothing was sent or recorded. "
                "Pass the id itself; the sessions fixture (SessionsClient) refuses such ids."
            )

    call_api, async_call_api = api_client.call_api, api_client.async_call_api

    def guarded_call_api(*args: Any, **kwargs: Any) -> Any:
        check(args, kwargs)
        return call_api(*args, **kwargs)

    async def guarded_async_call_api(*args: Any, **kwargs: Any) -> Any:
        check(args, kwargs)
        return await async_call_api(*args, **kwargs)

    api_client.call_api = guarded_call_api
    api_client.async_call_api = guarded_async_call_api
