"""Replay for the `sessions` fixture's client: a requests transport adapter that
answers straight from the `Recording`, without vcrpy's stubs or urllib3 underneath.

Why: in replay, most of a `sessions` call went to vcrpy rebuilding each answer as
a `VCRHTTPResponse` (its headers parsed by `email.parser` twice), a vcrpy
`Request` per call, and the real urllib3 pool and http.client path, none of which
can change the answer. The adapter does what `HlCassette` does in record mode
`none`, and nothing else:

* the API boundary check (a path resolving outside the base path is refused);
* the request key, exactly as `Recording.key_of` makes it for vcrpy's path;
* `Recording.take` (so played, misses, the summary and `--hl-strict` see the same
  bookkeeping) and `Recording.miss` (the same message);
* a `requests.Response` with what requests builds from vcrpy's answer: status,
  reason, headers in recorded order (repeated ones joined by ", ", as urllib3
  joins them), `Content-Length` fitted to the body, cookies, encoding, url.

It is used only where it is sure to agree with vcrpy: record mode `none`, no
request hook in `hl_vcr_config` (those may drop or rewrite the request, or let
it through to the network), and only for the client's own base URL. Every other
client, and every recording, goes through vcrpy as before.
`tests/test_replay_adapter.py` proves both paths give the same results.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from email.message import Message
from typing import Any

import requests
from requests.adapters import BaseAdapter
from requests.cookies import extract_cookies_to_jar
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from hl_testkit.cassettes import canonical
from hl_testkit.cassettes.model import RecordedResponse
from hl_testkit.recording.recorder import Recording


class ReplayAdapter(BaseAdapter):
    """Answers every request it is given from `recording` (record mode `none`)."""

    def __init__(self, recording: Recording) -> None:
        super().__init__()
        self.recording = recording

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        recording = self.recording
        method, url, body = request.method or "GET", request.url or "", request.body
        interaction = recording.answer(method, url, body, request.headers)
        return build_response(request, interaction.response, self)

    def close(self) -> None:  # nothing is held open
        pass


def response_headers(recorded: RecordedResponse) -> dict[str, str]:
    """The headers requests shows for a replayed answer, as vcrpy's path gives them.

    vcrpy drops Transfer-Encoding (the stored body is no longer chunked) and
    urllib3 joins a repeated header's values with ", ".
    """
    out: dict[str, str] = {}
    lowered: dict[str, str] = {}
    for name, value in canonical.header_pairs(
        canonical.replay_headers(recorded.headers, recorded.body)
    ):
        first = lowered.setdefault(name.lower(), name)  # urllib3 keeps the first spelling
        out[first] = f"{out[first]}, {value}" if first in out else value
    return out


def build_response(
    request: requests.PreparedRequest, recorded: RecordedResponse, adapter: BaseAdapter
) -> requests.Response:
    """What `HTTPAdapter.build_response` makes of the recorded answer."""
    response = requests.Response()
    headers = response_headers(recorded)
    response.status_code = recorded.status
    response.headers = CaseInsensitiveDict(headers)
    response.encoding = get_encoding_from_headers(response.headers)  # type: ignore[no-untyped-call]
    response.reason = recorded.reason
    response.url = request.url or ""
    response.request = request
    response.connection = adapter  # type: ignore[attr-defined]
    # The body is all there: `raw` reads it again for code that streams it.
    raw = _Raw(recorded.body)
    response.raw = raw
    response._content = recorded.body
    response._content_consumed = True  # type: ignore[attr-defined]
    if any(name.lower() == "set-cookie" for name in recorded.headers):
        # requests takes cookies from `raw._original_response.msg`: here and, for the
        # session's jar, again in `Session.send`.
        raw._original_response = _Original(recorded.headers)
        extract_cookies_to_jar(response.cookies, request, raw)  # type: ignore[no-untyped-call]
    return response


class _Raw(io.BytesIO):
    """The body, readable as from urllib3's response."""

    _original_response: _Original | None = None


class _Original:
    """Just enough of http.client's response for requests' cookie extraction."""

    def __init__(self, headers: Mapping[str, str | list[str]]) -> None:
        msg = Message()
        for name, value in headers.items():
            for one in [value] if isinstance(value, str) else value:
                msg[name] = one
        self.msg = msg
