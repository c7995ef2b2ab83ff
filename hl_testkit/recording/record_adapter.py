"""Recording for the `sessions` fixture's client: a requests transport adapter that
sends through a real urllib3 pool and records into the `Recording`, without vcrpy's
stubs.

Why: while recording, vcrpy's stubs rebuild each exchange twice (a vcrpy `Request`
from the connection's calls, then a `VCRHTTPResponse` whose headers `email.parser`
parses twice), around urllib3 going through its stub connection classes. Here the
request goes through requests' own `HTTPAdapter`, whose pools make urllib3's real
connections while vcrpy's patches stay on (`real_pools`: urllib3's connection classes
name themselves through their module, which vcrpy patches; where that is not known to
be handled, urllib3 2, each request steps out of the patches with
`vcr_cassette.stepped_out`, as vcrpy's stubs do), and the exchange is handed to the
same code vcrpy's path ends in:

* the API boundary check and the request key, from the URI vcrpy's stub would
  see (scheme, host, a port only if not the default, path and query);
* record modes as `HlCassette` reads them: `all`/`rewrite` always send; `once`
  and `new_episodes` play what the cassette holds (`Recording.take`); `once` on a
  cassette holding this test's interactions refuses the rest (`Recording.miss`);
* the answer recorded as vcrpy's stub records it (status, headers by
  `vcr_cassette.serialize_headers`, which vcrpy's stub calls too while a cassette is
  active, the raw body as read off the connection) and kept through
  `vcr_cassette.recorded_interaction` (canonical form, scrubbing);
* the client gets what urllib3 makes of vcrpy's rebuilt answer: the recorded
  headers without Transfer-Encoding, the body decoded by its Content-Encoding.

The network guard works on sockets, so it sees these connections as any other.
Mounted only where it is sure to agree with vcrpy: a recording mode, no request or
response hook in `hl_vcr_config` (`Recording.direct_record`), the client's own base
URL; a request through a proxy, or with a streamed body, goes to `fallback` (the
client's adapter before, i.e. vcrpy's path). `tests/test_record_adapter.py`
proves both paths write the same cassette and give the same results.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers, select_proxy
from urllib3._collections import HTTPHeaderDict
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from hl_testkit.cassettes import canonical, matching
from hl_testkit.cassettes.model import Headers
from hl_testkit.recording import real_pools, requests_replay, vcr_cassette
from hl_testkit.recording.recorded_response import build_response
from hl_testkit.recording.recorder import Recording


class RecordAdapter(HTTPAdapter):
    """Sends for real and records into `recording` (modes once, new_episodes, all, rewrite)."""

    def __init__(self, recording: Recording, fallback: BaseAdapter) -> None:
        self.recording = recording
        self.fallback = fallback
        self.origin = stub_origin(recording.base_url)
        #: Does the pool make real connections under vcrpy's patches (`real_pools`)? Else
        #: each request steps out of them, as vcrpy's stubs do.
        self.real_pools = False
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)  # type: ignore[no-untyped-call]
        manager: Any = self.poolmanager  # (its stub lacks `pool_classes_by_scheme`)
        classes = real_pools.pool_classes(manager.pool_classes_by_scheme)
        self.real_pools = classes is not None
        if classes is not None:
            manager.pool_classes_by_scheme = classes

    def _renew_pools(self) -> None:
        self.poolmanager.clear()
        self.init_poolmanager(self._pool_connections, self._pool_maxsize, block=self._pool_block)  # type: ignore[attr-defined]

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        body = request.body
        # No proxies (the usual case): `select_proxy` would parse the URL to find none.
        # `HTTPAdapter.send` patched by another tool (`responses`): it answers, not the
        # network, and vcrpy's path records nothing of it; nor may `super().send` here.
        if (
            (proxies and select_proxy(request.url or "", proxies))
            or not isinstance(body, bytes | str | None)
            or not requests_replay.genuine(vars(HTTPAdapter)["send"])
        ):
            return self.fallback.send(request, stream, timeout, verify, cert, proxies)
        recording = self.recording
        method, uri = request.method or "GET", stub_uri(request, self.origin)
        body = body.encode("utf-8") if isinstance(body, str) else body
        recording.refuse_outside_base(method, uri)
        headers = plain_headers(request.headers)
        # Headers only decode a body (`key_of`): none, none needed.
        key, stored_uri, stored_body = recording.key_and_uri(
            method, uri, body, headers if body else {}
        )
        if recording.record_mode not in ("all", "rewrite"):
            interaction = recording.take(key)
            if interaction is not None:
                return build_response(request, interaction.response, self)
            if recording.record_mode == "once" and recording.holds_own:
                raise recording.miss(key)  # vcrpy's write protection
        if self.real_pools and not real_pools.current(self.poolmanager.pool_classes_by_scheme):
            self._renew_pools()  # a method they copied was wrapped since: honour the wrapper
        if self.real_pools:
            response = super().send(request, True, timeout, verify, cert, proxies)
        else:
            with vcr_cassette.stepped_out():
                response = super().send(request, True, timeout, verify, cert, proxies)
        raw = response.raw
        answer = {
            "status": {"code": raw.status, "message": raw.reason},
            "headers": recorded_headers(raw.headers),
            "body": {"string": _read(raw, request)},
        }
        recording.recorded.append(
            vcr_cassette.recorded_interaction(
                recording, method, uri, headers, body, answer, (stored_uri, stored_body)
            )
        )
        if _as_read(raw.headers) and not (stream or request.hooks.get("response")):
            # The answer as it was read is what urllib3 makes of vcrpy's: its headers as
            # they came (no Transfer-Encoding to drop), its body as it is (no
            # Content-Encoding to decode), so requests' own Response stands; its content
            # is the body, read already (as `Session.send` would read it: nothing streams
            # it, no response hook reads the raw answer first).
            response._content = answer["body"]["string"]
            response._content_consumed = True  # type: ignore[attr-defined]
            return response
        # HTTPAdapter's own Response, as `build_response` makes it of what urllib3 makes of
        # vcrpy's answer: the same status, reason, URL and cookies (read from the same
        # original response); only the raw answer, its headers and their encoding change.
        response.raw = _as_urllib3_sees_it(answer, raw, method)
        response.headers = case_insensitive(response.raw.headers)
        response.encoding = get_encoding_from_headers(response.headers)  # type: ignore[no-untyped-call]
        return response


def _read(raw: urllib3.HTTPResponse, request: requests.PreparedRequest) -> bytes:
    """The raw body, read whole (which releases the connection). vcrpy's stub reads it
    inside urllib3's `urlopen`, so a broken or slow body reaches the test as requests'
    ConnectionError or ReadTimeout: here too, not as urllib3's own exceptions."""
    try:
        return raw.read(decode_content=False)
    except ReadTimeoutError as exc:
        raise requests.ReadTimeout(exc, request=request) from exc
    except ProtocolError as exc:
        raise requests.ConnectionError(exc, request=request) from exc


def recorded_headers(headers: HTTPHeaderDict) -> dict[str, list[str]]:
    """`vcr_cassette.serialize_headers` of the message urllib3 read `headers` from (each
    name once, as first spelt, every value in any case, in order), read off urllib3's
    container (by lowercased name: [the first spelling, *every value]) rather than by
    parsing the message's headers again. `tests/test_record_adapter.py` holds the two
    to each other."""
    container: dict[str, list[str]] = headers._container  # type: ignore[attr-defined]
    return {values[0]: values[1:] for values in container.values()}


def _as_read(headers: HTTPHeaderDict) -> bool:
    """Is the answer read off the connection what urllib3 makes of vcrpy's (see
    `_as_urllib3_sees_it`)? Yes without Transfer-Encoding or Content-Encoding."""
    container: dict[str, list[str]] = headers._container  # type: ignore[attr-defined]
    return "transfer-encoding" not in container and "content-encoding" not in container


def plain_headers(headers: Mapping[str, str]) -> Headers:
    """`dict(headers)`: the same names (as last spelt), values and order. From requests'
    `CaseInsensitiveDict`, read off its store of (name, value) by lowercased name, which
    its own iteration reads one lookup at a time (several times slower)."""
    if type(headers) is CaseInsensitiveDict:
        store: Mapping[str, tuple[str, str]] = headers._store  # type: ignore[attr-defined]
        return dict(store.values())
    return dict(headers)


def stub_uri(request: requests.PreparedRequest, origin: str = "") -> str:
    """The request's URI as vcrpy's connection stub makes it: the pool's scheme and
    host, the port unless it is the scheme's default, then path and query (requests'
    `path_url`, from the same split).

    A URL that is `origin` (`stub_origin`'s, so already in that form) and then a
    path, without what the split would change (a fragment, an empty query's `?`, a
    tab or newline it removes, a non-ASCII character), is that URI already: returned
    without splitting it (most of this function's cost, on every recorded request)."""
    url = request.url or ""
    return url if _in_stub_form(url, origin) else _split_stub_uri(url)


def _in_stub_form(url: str, origin: str) -> bool:
    # An empty query's `?` too: the stub leaves it out.
    return matching.plain_after(url, origin) and not url.endswith("?")


def stub_origin(base_url: str) -> str:
    """`scheme://host[:port]` of `base_url` as `stub_uri` spells it, if `stub_uri`
    leaves it and a path after it as they are (else "": no shortcut)."""
    split = urlsplit(base_url)
    origin = f"{split.scheme}://{split.netloc}"
    try:
        return origin if _split_stub_uri(origin + "/") == origin + "/" else ""
    except ValueError:  # a port out of range: left to the split, as before
        return ""


def _split_stub_uri(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme or "http"
    number = parts.port  # a property that parses the netloc again each time
    port = f":{number}" if number and number != canonical.DEFAULT_PORTS.get(scheme) else ""
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{parts.hostname}{port}{parts.path or '/'}{query}"


def _as_urllib3_sees_it(
    answer: dict[str, Any], raw: urllib3.HTTPResponse, method: str
) -> urllib3.HTTPResponse:
    """What urllib3 makes of vcrpy's `VCRHTTPResponse` for `answer`: its headers in
    recorded order, Transfer-Encoding dropped (the body is whole), the raw body to
    decode."""
    return urllib3.HTTPResponse(
        body=io.BytesIO(answer["body"]["string"]),
        headers=header_dict(answer["headers"]),
        status=raw.status,
        reason=raw.reason,
        version=raw.version,
        preload_content=False,
        decode_content=False,
        original_response=raw._original_response,  # type: ignore[attr-defined]  # requests reads cookies from its msg
        request_method=method,
    )


def header_dict(headers: Mapping[str, list[str]]) -> HTTPHeaderDict:
    """`HTTPHeaderDict` of every (name, value) of `headers` but Transfer-Encoding (vcrpy's
    body is whole), what urllib3 makes of vcrpy's answer, filled a name at a time rather
    than `add`ed a value at a time (a method call each): urllib3 keeps, by lowercased
    name, [the first spelling, *every value].
    `tests/test_record_adapter.py` holds it to urllib3's own construction."""
    out = HTTPHeaderDict()
    container: dict[str, list[str]] = out._container  # type: ignore[attr-defined]
    for name, values in headers.items():
        lower = name.lower()
        if lower == "transfer-encoding" or not values:  # pairs: none from an empty list
            continue
        kept = container.get(lower)
        if kept is None:
            container[lower] = [name, *values]
        else:
            kept.extend(values)
    return out


def case_insensitive(headers: HTTPHeaderDict) -> CaseInsensitiveDict[str]:
    """`CaseInsensitiveDict(headers)`, as requests' `build_response` makes it, filled from
    urllib3's container in one pass (by lowercased name: the first spelling, the values
    joined by ", ") rather than through the Mapping protocol, a lookup and a join per
    name. `tests/test_record_adapter.py` holds it to requests' own construction."""
    out: CaseInsensitiveDict[str] = CaseInsensitiveDict()
    container: dict[str, list[str]] = headers._container  # type: ignore[attr-defined]
    out._store = OrderedDict(  # type: ignore[attr-defined]
        (lower, (values[0], ", ".join(values[1:]))) for lower, values in container.items()
    )
    return out
