"""What the recorder can keep, a save gives back: `loads(dumps(cassette))` is the cassette.

The guard for "a green run never loses a recorded interaction" at the file's level: a
cassette the next run would refuse, or read back otherwise, loses what it held. Every
field the recorder fills is generated (valid methods, absolute URIs, statuses 100-599,
any header names and values, lists and one list shared by several interactions, any
body), and the only difference allowed is the one the format means: a JSON request
body comes back compact (matching reads it as JSON).
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from hl_testkit.cassettes import file as cassette_file
from hl_testkit.cassettes.model import (
    CassetteData,
    Interaction,
    RecordedRequest,
    RecordedResponse,
)
from tests.test_cassette_events import _BODY, _HEADERS, _TEXT

_METHOD = st.sampled_from(["GET", "POST", "DELETE"]) | st.from_regex(
    r"\A[A-Za-z0-9!#$%&'*+.^_`|~-]{1,8}\Z"
)
_ASCII = st.characters(codec="ascii", categories=["L", "N", "P", "S"])
_URI = st.builds(
    lambda path, query: f"https://api.humanloop.com/v4/{path}" + (f"?{query}" if query else ""),
    st.text(st.characters(codec="ascii", categories=["L", "N"]), max_size=8),
    st.text(_ASCII, max_size=6),
)
_SHARED_HEADERS = st.shared(_HEADERS, key="one header mapping for several interactions")


@st.composite
def interactions(draw: st.DrawFn) -> Interaction:
    shared = draw(st.booleans())
    request_headers = draw(_SHARED_HEADERS) if shared else draw(_HEADERS)
    response_headers = request_headers if shared else draw(_HEADERS)
    return Interaction(
        RecordedRequest(draw(_METHOD), draw(_URI), request_headers, draw(_BODY)),
        RecordedResponse(
            draw(st.integers(100, 599)), draw(_TEXT), response_headers, draw(_BODY) or b""
        ),
        # None is "no violations" (an empty list is read back as None).
        draw(st.none() | st.lists(_TEXT, min_size=1, max_size=2)),
        draw(st.none() | _TEXT.filter(bool)),  # a node id: never empty
    )


_CASSETTES = st.builds(
    CassetteData,
    st.lists(interactions(), max_size=4),
    st.none() | _TEXT,
    st.none() | st.dates().map(str),
    st.dictionaries(
        _TEXT, _TEXT | st.integers() | st.floats(allow_nan=False) | st.booleans(), max_size=2
    ),
)


def _request_body_as_read(body: bytes | None) -> bytes | None:
    """The request body as the format gives it back: compact if it is kept as JSON."""
    kept = cassette_file.body_to_yaml(body)
    if kept is None or "json" not in kept:
        return body or None
    return json.dumps(kept["json"], ensure_ascii=False, separators=(",", ":")).encode()


@settings(max_examples=300, deadline=None)
@given(_CASSETTES)
def test_a_saved_cassette_loads_back_as_it_was(data: CassetteData) -> None:
    loaded = cassette_file.loads(cassette_file.dumps(data), Path("c.yaml"))
    assert len(loaded.interactions) == len(data.interactions)
    for got, kept in zip(loaded.interactions, data.interactions, strict=True):
        assert got.response == kept.response
        assert got.request.body == _request_body_as_read(kept.request.body)
        assert (got.request.method, got.request.uri, got.request.headers) == (
            kept.request.method,
            kept.request.uri,
            kept.request.headers,
        )
        assert (got.schema_violations, got.recorded_by) == (
            kept.schema_violations,
            kept.recorded_by,
        )
    assert (loaded.recorded_against, loaded.recorded_at, loaded.vars) == (
        data.recorded_against,
        data.recorded_at,
        data.vars,
    )
