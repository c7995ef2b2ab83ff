"""Direct replay for the requests clients a test makes itself (`requests.get`, its own
`requests.Session()`), while a cassette is active in direct replay.

Why: through vcrpy, each replayed call goes down requests' `HTTPAdapter.send` into
urllib3's pool, vcrpy's connection stub, a vcrpy `Request`, `HlCassette` and a
`VCRHTTPResponse` (its headers parsed by `email.parser`), none of which can change
the answer. While `Recording.direct_replay` holds (record mode `none`, no request
hook), `HTTPAdapter.send` is swapped, as `responses` does, for one that answers a
request for the recording's base URL as `HlCassette` would, with the same
bookkeeping (`Recording.answer`: the boundary refusal, `take`, `miss`), and hands
requests the raw response vcrpy's path hands it: urllib3's `HTTPResponse` over the
recorded body with the recorded headers (Content-Encoding decoded by urllib3 as
before, `raw.read()`, `stream=True`, `raw.headers`), turned into a `Response` by
the adapter's own `build_response`. Redirects, cookies on the session, `elapsed`
and hooks happen above the adapter, on both paths alike. One private difference:
urllib3's `raw._original_response` is there only for a response that sets cookies
(requests' cookie extraction needs it; without one it skips work that finds none).
Requests' CA bundle and client certificate check runs once per cassette and
setting, not per request (it looks for the files on disk).

Everything else goes on to the original `send` (vcrpy's stubs, then the network
guard), exactly as before: other hosts and paths, URLs with a fragment or an
explicit default port (vcrpy's URI would differ), a proxy, a timeout urllib3 would
refuse, retries (urllib3 may retry on a status), a streamed body, urllib3 2 (whose
raw response under vcrpy is vcrpy's own), and an `HTTPAdapter.send` someone else patched first
(e.g. `responses` started before the cassette: it answers first, as before).
`tests/test_requests_replay.py` proves both paths give the same results.
"""

from __future__ import annotations

import contextlib
import io
import threading
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import urllib3
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy
from urllib3.response import HTTPResponse

from hl_testkit.cassettes import canonical
from hl_testkit.cassettes.model import RecordedResponse
from hl_testkit.recording.recorder import Recording

#: Are a test's own requests clients answered directly? Under urllib3 1, which wraps
#: vcrpy's answer in its own `HTTPResponse` as we do; urllib3 2 hands requests vcrpy's.
#: (Tests turn it off to see vcrpy's path.)
enabled = urllib3.__version__.startswith("1.")

_lock = threading.Lock()


@dataclass
class _Active:
    """A cassette answering directly: its recording, the base URL it answers, and the
    TLS settings (verify, cert) requests' check already passed while it is active (the
    check looks for the files on disk: once per cassette, not on every request)."""

    recording: Recording
    base: str
    tls_checked: set[tuple[Any, Any]] = field(default_factory=set)


#: The active cassettes, innermost last; None for one that may not answer directly
#: (its requests go to the original `send`).
_active: list[_Active | None] = []
_original: Any = None


def genuine(send: Any) -> bool:
    """Is `send` requests' own `HTTPAdapter.send` (not one `responses` or we patched in)?"""
    return (
        getattr(send, "__module__", None) == "requests.adapters"
        and getattr(send, "__qualname__", None) == "HTTPAdapter.send"
    )


def direct_base(base_url: str) -> str | None:
    """The prefix whose requests are answered directly, or None when vcrpy's URI of
    such a request would not be its URL (an explicit default port)."""
    base = base_url.rstrip("/")
    parts = urlsplit(base)
    if parts.port is not None and parts.port == canonical.DEFAULT_PORTS.get(parts.scheme):
        return None
    return base


@contextlib.contextmanager
def answering(recording: Recording) -> Iterator[bool]:
    """Requests' `HTTPAdapter.send` answers `recording`'s base URL directly meanwhile.

    Nests (the innermost cassette answers); yields whether this cassette does.
    """
    global _original
    entry: _Active | None = None
    with _lock:
        current = HTTPAdapter.__dict__.get("send")
        base = direct_base(recording.base_url)
        if enabled and base is not None and (current is _send or genuine(current)):
            if current is not _send:
                _original = current
                HTTPAdapter.send = _send  # type: ignore[method-assign]
            entry = _Active(recording, base)
        _active.append(entry)
    try:
        yield entry is not None
    finally:
        with _lock:
            at = max(n for n, one in enumerate(_active) if one is entry)  # its own
            del _active[at]
            if not _active and HTTPAdapter.__dict__.get("send") is _send:
                HTTPAdapter.send = _original  # type: ignore[method-assign]
            # Else someone patched over us meanwhile: ours stays beneath and passes through.


def _send(
    self: HTTPAdapter,
    request: PreparedRequest,
    stream: bool = False,
    timeout: Any = None,
    verify: Any = True,
    cert: Any = None,
    proxies: Any = None,
) -> Response:
    try:
        entry = _active[-1]
    except IndexError:
        entry = None
    if entry is None or not _direct(self, request, entry.base, timeout, proxies):
        return _original(  # type: ignore[no-any-return]
            self, request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
        )
    # What urllib3 would be told of TLS: an unusable CA bundle or client certificate is
    # refused by requests' own check, with its message (the pool itself never connects).
    tls = (verify, cert) if isinstance(cert, (str, tuple, type(None))) else None
    if tls is None or tls not in entry.tls_checked:
        self.cert_verify(types.SimpleNamespace(), request.url, verify, cert)  # type: ignore[no-untyped-call]
        if tls is not None:
            entry.tls_checked.add(tls)
    self.add_headers(  # type: ignore[no-untyped-call]  # a subclass may add some, as before
        request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
    )
    recording = entry.recording
    method, url, body = request.method or "GET", request.url or "", request.body
    if isinstance(body, str):
        body = body.encode("utf-8")  # as vcrpy's Request holds it
    interaction = recording.answer(method, url, body, request.headers)
    raw = raw_response(interaction.response, method, self.max_retries)
    return self.build_response(request, raw)  # type: ignore[no-untyped-call,no-any-return]


def _direct(
    adapter: HTTPAdapter, request: PreparedRequest, base: str, timeout: Any, proxies: Any
) -> bool:
    """May this request be answered here, sure to agree with vcrpy's path?"""
    url = request.url
    if not isinstance(url, str) or "#" in url:
        return False
    if not (url.startswith(base) and url[len(base) : len(base) + 1] in ("", "/", "?")):
        return False
    if not _timeout_ok(timeout):
        return False
    if not isinstance(request.body, (bytes, str, type(None))):
        return False  # a generator or file: urllib3 streams it
    retries = adapter.max_retries
    if retries.total != 0 or retries.status_forcelist:
        return False
    return not (proxies and select_proxy(url, proxies))


def _timeout_ok(timeout: Any) -> bool:
    """A timeout urllib3 takes without complaint (others: its own error, via vcrpy)."""
    if isinstance(timeout, tuple):
        return len(timeout) == 2 and all(map(_one_timeout_ok, timeout))
    return _one_timeout_ok(timeout)


def _one_timeout_ok(value: Any) -> bool:
    if value is None:
        return True
    return type(value) in (int, float) and value > 0


def raw_response(recorded: RecordedResponse, method: str, retries: Any) -> HTTPResponse:
    """urllib3's response over the recorded answer, as urllib3 1 makes it from vcrpy's."""
    pairs = canonical.replay_pairs(recorded.headers, recorded.body)
    body = RecordedBody(recorded.body)
    # requests reads cookies from the original response (as vcrpy's path gives it, the
    # body itself), twice per response: without one a response with no cookie to give
    # skips that work (a tenth of the call), and the jar ends up the same.
    cookies = any(name.lower() in ("set-cookie", "set-cookie2") for name, _ in pairs)
    if cookies:
        body.msg = _Message(pairs)
    return HTTPResponse(
        body=body,
        headers=pairs,  # type: ignore[arg-type]  # urllib3 takes pairs (repeats kept)
        status=recorded.status,
        version=None,  # type: ignore[arg-type]  # vcrpy's response has none
        reason=recorded.reason,
        preload_content=False,
        decode_content=False,
        original_response=body if cookies else None,  # type: ignore[arg-type]
        retries=retries,
        request_method=method,
    )


class RecordedBody(io.BytesIO):
    """The body as urllib3 reads it from vcrpy's `VCRHTTPResponse`, which is also the
    raw response's `_original_response` when it sets cookies: `close()` marks it closed
    (urllib3 then reads no more) and requests takes cookies from its `msg`."""

    msg: _Message | None = None
    _shut = False  # (class defaults: no __init__ of ours on the hot path)

    @property
    def closed(self) -> bool:
        return self._shut

    def isclosed(self) -> bool:
        return self._shut

    def close(self) -> None:
        self._shut = True


class _Message:
    """What http.cookiejar reads of a response's headers (`get_all`)."""

    def __init__(self, headers: list[tuple[str, str]]) -> None:
        self.headers = headers

    def get_all(self, name: str, failobj: Any = None) -> Any:
        name = name.lower()
        return [value for key, value in self.headers if key.lower() == name] or failobj
