"""A recorded answer as the `requests.Response` vcrpy's path would give for it, built
straight from the recording: for the `sessions` client's recording adapter
(`record_adapter`), which replays what the cassette already holds in record modes
`once` and `new_episodes`.

What requests builds from vcrpy's answer: status, reason, headers in recorded order
(Transfer-Encoding dropped, repeated ones joined by ", ", as urllib3 joins them),
`Content-Length` fitted to the body, cookies, encoding, url; the body readable again
from `raw`. `tests/test_record_adapter.py` proves it agrees with vcrpy's path.

(Direct replay, record mode `none`, is `requests_replay`'s, for every requests client.)
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from email.message import Message

import requests
from requests.adapters import BaseAdapter
from requests.cookies import extract_cookies_to_jar
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from hl_testkit.cassettes import canonical
from hl_testkit.cassettes.model import RecordedResponse


def response_headers(recorded: RecordedResponse) -> dict[str, str]:
    """The headers requests shows for a replayed answer, as vcrpy's path gives them.

    vcrpy drops Transfer-Encoding (the stored body is no longer chunked) and
    urllib3 joins a repeated header's values with ", ".
    """
    out: dict[str, str] = {}
    lowered: dict[str, str] = {}
    for name, value in canonical.replay_pairs(recorded.headers, recorded.body):
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
