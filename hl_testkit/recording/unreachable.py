"""A connection that could not be made while recording, as one hl-testkit message.

Without it, an unreachable API shows as a long chain of requests, urllib3 (or
aiohttp) frames, with the request's headers (the key among them) in the
locals. Whichever client made the call (`sessions`, the official SDK,
requests or aiohttp directly), the failure is recognised by the exceptions in
its chain, and replaced by what was tried and what to check.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from hl_testkit.recording import paths
from hl_testkit.recording.recorder import Recording
from hl_testkit.secrets.scrub import without_userinfo

#: Exceptions, by class name, that mean "no connection was made" (the modules
#: that define them are not imported here: which are installed varies).
_CONNECT_FAILURES = {
    "NewConnectionError",  # urllib3: refused, unreachable, DNS failure
    "ConnectTimeoutError",  # urllib3
    "ClientConnectorError",  # aiohttp
    "ServerTimeoutError",  # aiohttp, also for connect timeouts
}
_MAX_CHAIN = 20


@dataclass(frozen=True)
class Unreachable:
    host: str
    port: int | None
    tried: str  # "POST http://127.0.0.1:9/v4/sessions", or "" when not known
    reason: str  # "connection refused", "host name not found", "timed out", ...


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and what it wraps: causes, contexts, and exceptions held as arguments
    (requests keeps urllib3's MaxRetryError in `args`, which keeps its `reason`)."""
    todo: list[BaseException] = [exc]
    seen: set[int] = set()
    while todo and len(seen) < _MAX_CHAIN:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked += list(current.args)
        todo += [e for e in linked if isinstance(e, BaseException)]


def unreachable(exc: BaseException, base_url: str) -> Unreachable | None:
    """What could not be reached, if `exc` is a failure to connect; else None."""
    chain = list(_chain(exc))
    names = {k.__name__ for e in chain for k in type(e).__mro__}
    refused = any(isinstance(e, ConnectionRefusedError) for e in chain)
    if not (names & _CONNECT_FAILURES or refused):
        return None
    target = urlsplit(base_url)
    host, port = target.hostname or "", target.port
    tried = ""
    for e in chain:
        pool: Any = getattr(e, "pool", None) or getattr(e, "conn", None)
        if getattr(pool, "host", None):
            host, port = str(pool.host), getattr(pool, "port", port)
        e_host, e_port = getattr(e, "host", None), getattr(e, "port", None)
        if isinstance(e_host, str) and isinstance(e_port, int):
            host, port = e_host, e_port  # aiohttp
        request: Any = getattr(e, "request", None)
        if not tried and getattr(request, "method", None) and getattr(request, "url", None):
            tried = f"{request.method} {_shown(str(request.url))}"
        url = getattr(e, "url", None)
        if not tried and isinstance(url, str):  # urllib3's MaxRetryError: a path, its pool
            scheme = getattr(pool, "scheme", None)
            prefix = f"{scheme}://{host}:{port}" if scheme and url.startswith("/") else ""
            tried = _shown(prefix + url)
    return Unreachable(host, port, tried, _reason(chain))


def _shown(url: str) -> str:
    """A URL as shown: no userinfo, no query (it may carry a key)."""
    return without_userinfo(url).partition("?")[0]


def _reason(chain: list[BaseException]) -> str:
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return "connection refused: nothing listens on that port"
    if any(isinstance(e, socket.gaierror) for e in chain):
        return "host name not found"
    if any(isinstance(e, TimeoutError) or "Timeout" in type(e).__name__ for e in chain):
        return "timed out"
    errors = [e for e in chain if isinstance(e, OSError) and e.strerror]
    return errors[-1].strerror.lower() if errors and errors[-1].strerror else "no connection"


def message(item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException]) -> str | None:
    """The failure text for a test that could not connect while recording, else None."""
    recording = getattr(item, "funcargs", {}).get("hl_cassette")
    if not isinstance(recording, Recording) or recording.record_mode == "none":
        return None  # replay has the network guard's own message
    found = unreachable(excinfo.value, recording.base_url)
    if found is None:
        return None
    where = f"{found.host}:{found.port}" if found.port else found.host
    tried = f"{found.tried} ({found.reason})" if found.tried else found.reason
    return (
        f"hl-testkit: cannot connect to {where} while recording {recording.path} "
        f"(record mode {recording.record_mode}).\n"
        f"  tried:  {tried}\n"
        f"  check:  that the API answers at {without_userinfo(recording.base_url)} "
        "(set by --hl-base-url or HUMANLOOP_BASE_URL), and any proxy in HTTPS_PROXY / "
        "HTTP_PROXY; or replay from the cassette instead: "
        f"{paths.rerecord_command(item.nodeid, 'none')}" + at_test_line(item, excinfo)
    )


def at_test_line(item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    """The test's own line the error passed through, as "at path:line: statement"."""
    for entry in reversed(excinfo.traceback):
        if entry.path == item.path:
            return f"\n\n  at {entry.path}:{entry.lineno + 1}: {str(entry.statement).strip()}"
    return ""
