"""The shortcuts on every replayed request's key agree with what they replace.

* `matching.query_pairs` splits a query by hand when nothing needs decoding: it
  gives what `parse_qsl(query, keep_blank_values=True)` gives, for any query;
* `canonical.replay_pairs` gives, in one pass, the pairs of
  `header_pairs(replay_headers(headers, body))` (`header_pairs` below: what urllib3
  gets from vcrpy's answer);
* `matching.split_uri` cuts a URI on the API's origin at its `?` instead of
  `urlsplit`: the same origin, path and query, for any URI;
* `RequestKey` is a tuple: keys of the same request are equal and hash alike,
  keys of different requests are not equal.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from hl_testkit.cassettes import canonical, matching

# The characters that change how a query splits or decodes, and a few that do not.
QUERY_CHARS = "&=%+;?#/ aZ09é2Ef"
queries = st.text(alphabet=QUERY_CHARS, max_size=24)

# How many examples each property runs: enough to catch, under every one of 20 seeds, each
# of these mistakes planted by hand, which all needed <= 100 (and most <= 25):
# - query_pairs splitting by hand with a `+` in the query, keeping empty pieces, or
#   splitting at `;` too;
# - replay_pairs replacing any spelling of Content-Length, dropping only the exact
#   spelling `Transfer-Encoding`, or keeping only the first two values of a list.
# (Was 3000 and 2000: ~55 s of a loaded CI worker for no mistake more caught.)
QUERY_EXAMPLES = 300
REPLAY_EXAMPLES = 200


def header_pairs(headers: dict[str, list[str]]) -> list[tuple[str, str]]:
    """What urllib3 gets from vcrpy's answer with `headers` (name → values): every value
    in order, Transfer-Encoding dropped (vcrpy's body is whole, no longer chunked)."""
    return [
        (name, value)
        for name, values in headers.items()
        if name.lower() != "transfer-encoding"
        for value in values
    ]


URI_CHARS = "/?#&=%+ \t\n@:.;aZ09é"
URI_STARTS = st.sampled_from(
    ["https://api.humanloop.com", "https://api.humanloop.com/v4", "https://API.humanloop.com/",
     "http://api.humanloop.com", "https://api.humanloop.com:443", "http://localhost", ""]
)  # fmt: skip


@settings(max_examples=500, deadline=None)  # a new shortcut: not calibrated by planted mistakes yet
@given(URI_STARTS, st.text(alphabet=URI_CHARS, max_size=24))
def test_split_uri_is_urlsplit(start: str, rest: str) -> None:
    uri = start + rest
    parts = urlsplit(uri)
    assert matching.split_uri(uri) == (f"{parts.scheme}://{parts.netloc}", parts.path, parts.query)


def test_split_uri_cuts_the_apis_uris() -> None:
    # The shortcut is taken for a stored API URI (what the property compares is reached).
    uri = "https://api.humanloop.com/v4/sessions?page=1&b=?"
    assert matching.split_uri(uri) == ("https://api.humanloop.com", "/v4/sessions", "page=1&b=?")
    assert matching.plain_after(uri, matching.API_ORIGIN)
    assert not matching.plain_after(uri + "#f", matching.API_ORIGIN)


@settings(max_examples=QUERY_EXAMPLES, deadline=None)
@given(queries)
def test_query_pairs_is_parse_qsl(query: str) -> None:
    assert matching.query_pairs(query) == parse_qsl(query, keep_blank_values=True)


def test_query_pairs_corners() -> None:
    cases = ["", "&", "&&", "=", "a", "a=", "=b", "a==b", "a=1&&b=2", "a=1&a=2", "a b=c d"]
    for query in cases:
        assert matching.query_pairs(query) == parse_qsl(query, keep_blank_values=True), query
    # The split is taken where it may be: these hold no `%` and no `+`.
    assert matching.query_pairs("page=1&size=2&x") == [("page", "1"), ("size", "2"), ("x", "")]
    # And decoding is left to parse_qsl.
    assert matching.query_pairs("a=%41+b") == [("a", "A b")]


NAMES = ["Content-Type", "Content-Length", "content-length", "Transfer-Encoding",
         "transfer-encoding", "Set-Cookie", "Vary", "X-Extra"]  # fmt: skip
values = st.one_of(
    st.text(alphabet="ab, =;", max_size=6), st.lists(st.text(alphabet="ab", max_size=3))
)
headers = st.dictionaries(st.sampled_from(NAMES), values, max_size=len(NAMES))


@settings(max_examples=REPLAY_EXAMPLES, deadline=None)
@given(headers, st.binary(max_size=40))
def test_replay_pairs_is_header_pairs_of_replay_headers(
    recorded: dict[str, str | list[str]], body: bytes
) -> None:
    expected = header_pairs(canonical.replay_headers(recorded, body))
    assert canonical.replay_pairs(recorded, body) == expected


def test_replay_pairs_corners() -> None:
    recorded: dict[str, str | list[str]] = {
        "Content-Length": "999",  # replaced where it stands
        "Set-Cookie": ["a=1", "b=2"],  # each value its own pair, in order
        "Transfer-Encoding": "chunked",  # dropped: the stored body is whole
    }
    pairs = [("Content-Length", "3"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
    assert canonical.replay_pairs(recorded, b"abc") == pairs
    assert canonical.replay_pairs({}, b"") == [("Content-Length", "0")]


def _stored_key(uri: str, base: str = "http://127.0.0.1:5000/v4") -> matching.RequestKey:
    """The key of a live request to `uri`, with `base` the base URL in force."""
    stored = canonical.canonical_uri(uri, base)
    return matching.request_key("GET", stored, None, canonical.api_prefix(stored))


def test_the_origin_counts_as_stored_so_the_api_and_loopback_replay_anywhere() -> None:
    api = _stored_key("http://127.0.0.1:5000/v4/sessions/x")  # under the stand-in's base
    live = "https://api.humanloop.com/v4"
    assert api == _stored_key(live + "/sessions/x", live)
    assert api == _stored_key("https://staging.example/v4/sessions/x", "https://staging.example/v4")
    assert _stored_key("http://127.0.0.1:1234/status") == _stored_key("http://localhost:99/status")
    others = [
        _stored_key("http://other.example/sessions/x"),
        _stored_key("https://other.example/sessions/x"),
        _stored_key("http://other.example:8080/sessions/x"),
        _stored_key("http://127.0.0.1:9/sessions/x"),  # loopback, not under the base URL
    ]
    assert len({api, *others}) == 5  # the same path, five origins: never each other's answer
    assert [key.describe() for key in (api, *others)] == [
        "GET /sessions/x",
        "GET http://other.example/sessions/x",
        "GET https://other.example/sessions/x",
        "GET http://other.example:8080/sessions/x",
        "GET http://localhost/sessions/x",
    ]
    assert matching.differences(others[0], api) == [
        "origin: recorded https://api.humanloop.com, requested http://other.example"
    ]
    # The same path on another host is closer than another path on the same host.
    elsewhere = _stored_key("http://127.0.0.1:5000/v4/sessions/y")
    assert matching.closest(others[0], [elsewhere, api]) == 1


def test_request_keys_equal_exactly_when_the_requests_match() -> None:
    base = "https://api.humanloop.com/v4"
    one = matching.request_key("get", base + "/sessions?b=2&a=1", '{"x": 1, "y": 2}', "/v4")
    same = matching.request_key("GET", base + "/sessions?a=1&b=2", '{"y":2,"x":1}', "/v4")
    assert one == same
    assert hash(one) == hash(same)
    assert {one: 1}[same] == 1
    others = [
        matching.request_key("POST", base + "/sessions?a=1&b=2", '{"x":1,"y":2}', "/v4"),
        matching.request_key("GET", base + "/session?a=1&b=2", '{"x":1,"y":2}', "/v4"),
        matching.request_key("GET", base + "/sessions?a=1&b=3", '{"x":1,"y":2}', "/v4"),
        matching.request_key("GET", base + "/sessions?a=1&b=2", '{"x":1,"y":3}', "/v4"),
        matching.request_key("GET", base + "/sessions?a=1&b=2", None, "/v4"),
    ]
    assert all(other != one for other in others)
    assert len({one, *others}) == 6
    assert one.describe() == "GET /sessions?a=1&b=2"


_REQUEST_HEADER_NAMES = st.sampled_from(
    ["Accept", "accept", "Content-Type", "CONTENT-TYPE", "Content-Encoding", "content-encoding",
     "X-A", "User-Agent"]
)  # fmt: skip


@settings(max_examples=200)
@given(st.dictionaries(_REQUEST_HEADER_NAMES, st.text(max_size=3) | st.lists(st.text(max_size=2))))
def test_request_headers_and_is_request_headers_and_a_second_pass(
    headers: dict[str, str | list[str]],
) -> None:
    # One pass gives what recorded_interaction took two for: the kept headers, then every
    # Content-Encoding (any case) as str, in order.
    kept, found = canonical.request_headers_and(headers, "content-encoding")
    assert list(kept.items()) == [
        (name, value if isinstance(value, str) else ", ".join(value))
        for name, value in headers.items()
        if name.lower() in canonical.KEPT_REQUEST_HEADERS
    ]
    assert found == [(k, str(v)) for k, v in headers.items() if k.lower() == "content-encoding"]


def test_api_prefix_is_the_canonical_base_urls_path() -> None:
    # Split once, not per key: still what the split gives, and only for the API's URIs.
    path = urlsplit(canonical.CANONICAL_BASE_URL).path
    assert canonical.api_prefix(canonical.CANONICAL_BASE_URL + "/sessions") == path == "/v4"
    assert canonical.api_prefix("http://localhost/v4/sessions") == ""


_VALUE = st.text(max_size=3) | st.integers(0, 9)  # vcrpy's lists may hold non-strings
_RAW_HEADERS = st.dictionaries(
    st.sampled_from(["Content-Type", "Date", "date", "X-A", "Set-Cookie", "Content-Length"]),
    st.text(max_size=3) | st.lists(_VALUE, max_size=3) | st.tuples(_VALUE),
)


@given(_RAW_HEADERS)
def test_response_headers_keep_what_they_kept(raw: dict[str, Any]) -> None:
    # A one-value list taken without making a list of it: as before, for any value.
    expected: dict[str, Any] = {}
    for name, value in raw.items():
        if name.lower() in canonical.VOLATILE_RESPONSE_HEADERS:
            continue
        values = [value] if isinstance(value, str) else [str(v) for v in value]
        expected[name] = values[0] if len(values) == 1 else values
    made = canonical.response_headers(raw)
    assert list(made.items()) == list(expected.items())
    assert all(type(v) is str or all(type(x) is str for x in v) for v in made.values())
