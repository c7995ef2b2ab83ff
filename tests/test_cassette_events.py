"""`file.dumps` writes what `yaml.dump` writes of `file.to_document`, byte for byte.

`dumps` does not build the document: the keys and mappings every interaction has
are added as events directly (`file._cassette_events`), and only what varies
(values, headers, bodies) goes through `fast_yaml.Events`. The document is still
what the text must be the YAML of: here every generated cassette is written both
ways and compared, with scalars YAML 1.1 reads as something else, multi-line and
binary bodies, list headers, a header list shared between interactions (written out in full:
the loader refuses aliases) and JSON nested past fast_yaml's depth limit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hl_testkit.cassettes import file as cassette_file
from hl_testkit.cassettes.model import (
    CassetteData,
    Interaction,
    RecordedRequest,
    RecordedResponse,
)
from tests.test_fast_yaml import NUMBERS, OPTIONS, TRICKY

_TEXT = st.sampled_from(TRICKY) | st.text(max_size=12)
_JSON_SCALAR = st.sampled_from([*TRICKY, *NUMBERS]) | st.integers() | st.text(max_size=8)
_JSON = st.recursive(
    _JSON_SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=12,
)
_BODY = st.one_of(
    st.none(),
    st.just(b""),
    st.builds(lambda v: json.dumps([v] if not isinstance(v, dict | list) else v).encode(), _JSON),
    _TEXT.map(str.encode),
    st.binary(max_size=12),
    st.just(b'{"n": ' + b"9" * 120 + b"}"),  # too long a number: kept as text
)
_HEADERS = st.dictionaries(_TEXT, _TEXT | st.lists(_TEXT, max_size=2), max_size=3)


@st.composite
def interactions(draw: st.DrawFn) -> Interaction:
    return Interaction(
        RecordedRequest(draw(_TEXT), draw(_TEXT), draw(_HEADERS), draw(_BODY)),
        RecordedResponse(draw(st.integers()), draw(_TEXT), draw(_HEADERS), draw(_BODY) or b""),
        draw(st.none() | st.lists(_TEXT, max_size=2)),
        draw(st.none() | _TEXT),
    )


_CASSETTES = st.builds(
    CassetteData,
    st.lists(interactions(), max_size=4),
    st.none() | _TEXT,
    st.none() | _TEXT,
    st.dictionaries(_TEXT, _TEXT | st.integers() | st.floats() | st.booleans(), max_size=2),
)


def reference(data: CassetteData) -> str:
    """The cassette's text as PyYAML writes its document."""
    document = cassette_file.to_document(data)
    text = yaml.dump(document, Dumper=cassette_file._Dumper, **OPTIONS)
    return cassette_file.HEADER_COMMENT + str(text)


@settings(max_examples=300, deadline=None)
@given(_CASSETTES)
def test_dumps_writes_what_yaml_dump_writes_of_the_document(data: CassetteData) -> None:
    assert cassette_file.dumps(data) == reference(data)


def _answer(body: bytes, headers: dict[str, Any] | None = None) -> Interaction:
    return Interaction(
        RecordedRequest("GET", "https://api.humanloop.com/v4/sessions", headers or {}),
        RecordedResponse(200, "OK", {"Content-Type": "application/json"}, body),
        None,
        "test_x.py::test_y",
    )


def _without_pyyaml(monkeypatch: Any) -> None:
    """`yaml.dump` (the module fast_yaml falls back to) fails the test if called."""

    def refused(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("dumps fell back to yaml.dump")

    monkeypatch.setattr(yaml, "dump", refused)


def test_a_header_list_shared_by_two_interactions_is_written_out_twice(monkeypatch: Any) -> None:
    """No alias: the loader refuses anchors and aliases, so an alias would make the next
    run refuse the cassette just saved. Shared or not, the same text, and it loads; the
    shortcut writes it (a dumper without aliases needs no fallback to PyYAML for it)."""
    shared = ["a=1", "b=2"]
    data = CassetteData([_answer(b"{}", {"Set-Cookie": shared})] * 2, "stand-in")
    unshared = CassetteData(
        [
            _answer(b"{}", {"Set-Cookie": list(shared)}),
            _answer(b"{}", {"Set-Cookie": list(shared)}),
        ],
        "stand-in",
    )
    expected = reference(data)
    _without_pyyaml(monkeypatch)
    text = cassette_file.dumps(data)
    assert text == expected == cassette_file.dumps(unshared)
    assert "&" not in text
    assert "*" not in text
    loaded = cassette_file.loads(text, Path("shared.yaml"))
    assert [i.request.headers for i in loaded.interactions] == [{"Set-Cookie": shared}] * 2


def test_json_nested_past_the_depth_limit_is_written_as_pyyaml_writes_it() -> None:
    # Past the limit fast_yaml hands the document to PyYAML: the same text either way.
    for depth in range(190, 200):  # around fast_yaml's limit, counted from the document
        body = ("[" * depth + "1" + "]" * depth).encode()
        data = CassetteData([_answer(body)], "stand-in", "2026-01-01", {"K": "v"})
        assert cassette_file.dumps(data) == reference(data)


def test_a_recorded_cassette_is_written_as_read_without_pyyaml(monkeypatch: Any) -> None:
    """The generated cassettes above are small: one of the shape the recorder writes, on
    the shortcut all the way (no fallback to `yaml.dump`)."""
    data = CassetteData(
        [_answer(f'{{"id":"sesh_{n}","projects":[{{"id":"pr_1"}}]}}'.encode()) for n in range(50)],
        "stand-in",
        "2026-01-01",
    )
    expected = reference(data)
    _without_pyyaml(monkeypatch)
    text = cassette_file.dumps(data)
    assert text == expected
    assert cassette_file.loads(text, Path("c.yaml")) == data
