"""A saved body loads back as it was recorded: what replay hands the client is what the
server sent, and no body makes the next run refuse the cassette just written.

A JSON body is kept as data (`json:`, readable) only when the loader's compact JSON
gives it back: a response byte for byte (replay hands it to the client), a request as
something the loader can make a body of again (matching reads it as JSON anyway).
Anything else is kept as `text:` (or `base64:`), byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hl_testkit.cassettes import file as cassette_file
from hl_testkit.cassettes.file import MAX_DATA_DEPTH
from hl_testkit.cassettes.model import (
    CassetteData,
    Interaction,
    RecordedRequest,
    RecordedResponse,
)
from hl_testkit.secrets import scrub
from tests.json_api import Reply, reply_api
from tests.test_cassette_events import reference

API = "https://api.humanloop.com/v4/sessions"

#: Bodies Python's `json` reads, that compact JSON does not give back.
NOT_COMPACT = [
    b'{"a": 1, "b": [1, 2]}',  # json.dumps's default separators (requests' json=)
    b'{"a":1}\n',
    b"\t[1]",
    b'{"a":1,"a":2}',  # a repeated key: the last one wins when read
    b'{"a":1e2}',  # read as 100.0
    b'{"a":-0}',
    b'{"a":1.10}',
    b'{"a":"\\u00e9"}',  # an escape the compact form writes as the character
    b'{"a":"\\/"}',
]
#: Bodies a `json:` node cannot hold: before, saved as data that the next run refused
#: (NaN, Infinity) or that could not be written as UTF-8 (a lone surrogate).
NOT_DATA = [
    b'{"a":NaN}',
    b"[Infinity]",
    b'{"a":-Infinity}',
    b'{"a":1e400}',  # read as inf
    b'{"\\ud800":1}',
    b'["\\ud83d"]',
]


def _cassette(request_body: bytes | None, response_body: bytes) -> CassetteData:
    return CassetteData(
        [
            Interaction(
                RecordedRequest("POST", API, {"Content-Type": "application/json"}, request_body),
                RecordedResponse(200, "OK", {"Content-Type": "application/json"}, response_body),
                None,
                "test_x.py::test_y",
            )
        ],
        "stand-in",
    )


def _saved_and_loaded(data: CassetteData) -> tuple[dict[str, Any], Interaction]:
    text = cassette_file.dumps(data)
    document = yaml.safe_load(text)["interactions"][0]
    (loaded,) = cassette_file.loads(text, Path("c.yaml")).interactions
    return document, loaded


@pytest.mark.parametrize("body", NOT_COMPACT + NOT_DATA)
def test_a_response_body_loads_back_byte_for_byte(body: bytes) -> None:
    document, loaded = _saved_and_loaded(_cassette(None, body))
    assert loaded.response.body == body
    assert document["response"]["body"] == {"text": body.decode("utf-8")}


@pytest.mark.parametrize("body", NOT_DATA)
def test_a_request_body_json_cannot_hold_is_kept_as_text(body: bytes) -> None:
    document, loaded = _saved_and_loaded(_cassette(body, b"{}"))
    assert loaded.request.body == body
    assert document["request"]["body"] == {"text": body.decode("utf-8")}


def test_compact_json_stays_readable_data_and_a_request_body_stays_data() -> None:
    """The API's answers are compact: kept as data, as every cassette holds them. A
    request body is matched as JSON, so `json=`'s spacing keeps it data too."""
    body = b'{"id":"sesh_1","tags":["\xc3\xa9"],"n":1.5}'
    request = b'{"path": "a/b", "n": 1}'
    document, loaded = _saved_and_loaded(_cassette(request, body))
    assert document["response"]["body"] == {"json": json.loads(body)}
    assert loaded.response.body == body
    assert document["request"]["body"] == {"json": {"path": "a/b", "n": 1}}
    assert loaded.request.body == b'{"path":"a/b","n":1}'


@pytest.mark.parametrize("end", ["\u2028", "\u2029", "\x85"])
def test_a_text_ending_in_a_break_only_yaml_sees_leaves_the_file_loadable(end: str) -> None:
    """Before, such a body last in the file was written as a `|` block with no newline
    after it, and the next run took the file for a cut-off write and refused it."""
    body = f"line one\nline two{end}".encode()
    data = _cassette(body, body)
    text = cassette_file.dumps(data)
    assert text.endswith("\n")
    assert text == reference(data)  # the shortcut and PyYAML agree on its style
    _, loaded = _saved_and_loaded(data)
    assert (loaded.request.body, loaded.response.body) == (body, body)


@pytest.mark.parametrize("depth", [MAX_DATA_DEPTH + 1, 330, 600, 980])
@pytest.mark.parametrize("shape", ["array", "object"])
def test_json_nested_past_the_data_depth_is_kept_as_text(depth: int, shape: str) -> None:
    """Python reads JSON up to ~1,000 levels, but writing it as YAML data recursed past
    the limit from ~330: the save failed (red, nothing lost, but no cassette)."""
    opening, closing = ("[", "]") if shape == "array" else ('{"a":', "}")
    body = (opening * depth + "1" * (shape == "object") + closing * depth).encode()
    document, loaded = _saved_and_loaded(_cassette(body, body))
    assert document["response"]["body"] == {"text": body.decode()}
    assert document["request"]["body"] == {"text": body.decode()}
    assert (loaded.request.body, loaded.response.body) == (body, body)


def test_json_as_deep_as_the_data_depth_stays_data() -> None:
    body = ("[" * MAX_DATA_DEPTH + "]" * MAX_DATA_DEPTH).encode()
    wide = json.dumps([[[]] * 60, {"a": [[1]] * 60}], separators=(",", ":")).encode()
    for one in (body, wide):  # many brackets, little depth: the walk says no
        document, loaded = _saved_and_loaded(_cassette(None, one))
        assert "json" in document["response"]["body"]
        assert loaded.response.body == one


def test_json_nested_past_pythons_recursion_limit_is_kept_as_text() -> None:
    body = b"[" * 1200 + b"]" * 1200  # before: a RecursionError while saving
    document, loaded = _saved_and_loaded(_cassette(body, body))
    assert document["response"]["body"] == {"text": body.decode()}
    assert (loaded.request.body, loaded.response.body) == (body, body)


def test_a_key_four_escapes_deep_in_a_double_quoted_text_body_is_refused() -> None:
    """A `text:` body with a CR is written double-quoted, which escapes it once more:
    the leak guard peels that layer too (as deep as when it was kept as data)."""
    key = "hl_sk_Abc123Def456Ghi789Jkl0"
    escaped = "".join(f"\\u{ord(c):04x}" for c in key)
    inner = json.dumps({"echo": "KEY"}, separators=(",", ":")).replace("KEY", escaped)
    for _ in range(2):
        inner = json.dumps({"wrapped": inner})
    body = ('{\r\n "outer": ' + json.dumps(inner) + "\r\n}").encode()
    text = cassette_file.dumps(_cassette(None, body))
    assert 'text: "' in text
    (leak,) = scrub.find_leaks(text, [scrub.Secret("HUMANLOOP_API_KEY", key)])
    assert leak.form == " > ".join(["\\u-escaped"] * 5)


def _same_json(loaded: bytes | None, sent: bytes) -> bool:
    """Read as JSON, the same (NaN too: compared as written again)."""
    return json.dumps(json.loads(loaded or b"")) == json.dumps(json.loads(sent))


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=8,
)
_SPACING = st.sampled_from([(",", ":"), (", ", ": "), (",", ": ")])


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(st.lists(_JSON, max_size=3), st.dictionaries(st.text(max_size=4), _JSON)),
    _SPACING,
    st.booleans(),
    st.sampled_from([None, 2]),
    st.sampled_from(["", "\n", " "]),
)
def test_any_json_a_server_writes_is_replayed_as_it_wrote_it(
    value: Any, spacing: tuple[str, str], ascii_only: bool, indent: int | None, tail: str
) -> None:
    body = (
        json.dumps(value, separators=spacing, ensure_ascii=ascii_only, indent=indent) + tail
    ).encode("utf-8")
    _, loaded = _saved_and_loaded(_cassette(body, body))
    assert loaded.response.body == body
    assert _same_json(loaded.request.body, body)


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=40))
def test_any_bytes_are_replayed_as_sent(body: bytes) -> None:
    _, loaded = _saved_and_loaded(_cassette(body, body))
    assert loaded.response.body == body
    assert loaded.request.body == body or _same_json(loaded.request.body, body)


# -- through pytest: record from a server, then replay with the network blocked ------------

PRETTY = b'{\n  "id": "sesh_1",\n  "score": NaN,\n  "name": "\\u00e9"\n}\n'

REPLAYED_TEST = """
import requests


def test_pretty(hl_cassette):
    response = requests.get({url!r})
    assert response.content == {body!r}
"""


@pytest.fixture
def pretty_api() -> Iterator[tuple[str, list[str]]]:
    """A loopback server answering `PRETTY`; yields its URL and the paths it was asked."""
    asked: list[str] = []

    def answer(request: BaseHTTPRequestHandler) -> Reply:
        asked.append(request.path)
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(PRETTY)))]
        return Reply(200, None, headers, PRETTY)

    with reply_api(answer) as base_url:
        yield base_url.removesuffix("/v4") + "/v1/pretty", asked


def test_a_pretty_json_answer_is_replayed_as_the_server_wrote_it(
    pytester: pytest.Pytester,
    pretty_api: tuple[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before, the replay gave `{"id":"sesh_1","score":NaN,...}` compacted, and the next
    run refused the cassette outright: `a JSON body cannot hold nan`."""
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HUMANLOOP_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    url, asked = pretty_api
    pytester.makepyfile(test_pretty=REPLAYED_TEST.format(url=url, body=PRETTY))
    args = ("-p", "no:cacheprovider")
    pytester.runpytest("--hl-record-mode=once", *args).assert_outcomes(passed=1)
    assert asked == ["/v1/pretty"]
    pytester.runpytest("--hl-record-mode=none", *args).assert_outcomes(passed=1)
    assert asked == ["/v1/pretty"]  # the second run was answered by the cassette
