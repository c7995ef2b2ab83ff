"""The official SDK (`humanloop` 0.5.x), bound to a test's cassette.

Installed with the `sdk` extra: `pip install 'hl-testkit[sdk]'`. Its calls go
through urllib3 (sync) and aiohttp (`acreate`/`aget`/`alist`), both of which
vcrpy patches, so they record and replay like `sessions`.
"""

from __future__ import annotations

from typing import Any

from hl_testkit.errors import HlTestkitError
from hl_testkit.recorder import Recording


def humanloop_client(recording: Recording) -> Any:
    """A `humanloop.Humanloop` with the same base URL and key rules as `sessions`."""
    try:
        from humanloop import Humanloop
    except ImportError:
        raise HlTestkitError(
            "the hl_humanloop fixture needs the official SDK: pip install 'hl-testkit[sdk]'"
        ) from None
    # The SDK refuses `localhost` as a host ("Invalid domain"); ours are IPs or names.
    return Humanloop(api_key=recording.api_key, host=recording.base_url)
