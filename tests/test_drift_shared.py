"""What `hl-testkit diff` shares with contract/ and secrets/, pinned: one path spelling,
one request key, one way of showing a value, one scrubbing stream, in-process."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hl_testkit.cassettes import file as cassette_file
from hl_testkit.cassettes import matching, wording
from hl_testkit.cassettes.model import CassetteData, Interaction, RecordedRequest, RecordedResponse
from hl_testkit.contract import check
from hl_testkit.contract.schemas import SchemaSet
from hl_testkit.drift import command, diff
from hl_testkit.drift import format as drift_format
from hl_testkit.recording.recorder import Recording
from hl_testkit.secrets.scrub import Secret, scrub_text
from hl_testkit.secrets.scrubbed_stream import ScrubbedStream

API = "https://api.humanloop.com/v4"


def _answer(body: Any, path: str = "/sessions/sesh_a1", method: str = "GET") -> Interaction:
    return Interaction(
        RecordedRequest(method, API + path, {}, None),
        RecordedResponse(200, "OK", {}, json.dumps(body).encode()),
    )


def _session(**extra: Any) -> dict[str, Any]:
    return {"id": "sesh_a1", "projects": [], "created_at": "2024-01-01T00:00:00Z", **extra}


def test_a_change_and_the_schema_finding_at_one_place_have_one_path() -> None:
    odd = {"odd key": 1, "it's": 2, "back\\slash": 3, "plain": 4}
    found = diff.diff_cassettes(
        "c.yaml",
        CassetteData([_answer(_session())]),
        CassetteData([_answer(_session(**odd))]),
        SchemaSet.default(),
    )
    assert found is not None
    [item] = found.interactions
    added = sorted(c.path for c in item.changes if c.kind == diff.PROPERTY_ADDED)
    unknown = sorted(c.path for c in item.changes if c.kind == diff.UNKNOWN_PROPERTY)
    assert (
        added
        == unknown
        == sorted(["body['odd key']", "body['it\\'s']", "body['back\\\\slash']", "body.plain"])
    )


def _asked(method: str, uri: str, body: bytes | None = None) -> Interaction:
    return Interaction(
        RecordedRequest(method, uri, {}, body), RecordedResponse(200, "OK", {}, b"{}")
    )


#: Requests replay tells apart or takes as one: base path, origin, query order, JSON by meaning.
_REQUESTS = [
    _asked("GET", f"{API}/sessions?page=1&size=2"),
    _asked("get", f"{API}/sessions?size=2&page=1"),
    _asked("GET", "http://localhost/sessions?page=1&size=2"),
    _asked("GET", "https://other.example/v4/sessions?page=1&size=2"),
    _asked("POST", f"{API}/sessions", b'{"a": 1, "b": [1, 2]}'),
    _asked("POST", f"{API}/sessions", b'{"b":[1,2],"a":1}'),
    _asked("POST", f"{API}/sessions", b"not json"),
    _asked("POST", f"{API}/sessions", b""),
]


def test_diff_pairs_interactions_by_the_key_replay_finds_them_by(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(cassette_file.dumps(CassetteData(list(_REQUESTS), "stand-in", "2026-01-01")))
    recording = Recording(path, "none", API, "t.py::t")
    recording.load()
    keys = [matching.stored_key(i) for i in _REQUESTS]
    assert recording._index.keys == keys  # what replay indexes is what drift pairs by
    assert len(set(keys)) == 6  # what replay takes as one request is one key
    # The n-th old request with a key pairs with the n-th new one, as replay plays them.
    new = list(reversed(_REQUESTS))
    pairs, removed, added = diff.pair(_REQUESTS, new)
    assert removed == added == []
    new_keys = [matching.stored_key(i) for i in new]
    for key in set(keys):
        olds = [n for n, k in enumerate(keys) if k == key]
        news = [m for m, k in enumerate(new_keys) if k == key]
        assert sorted((n, m) for n, m in pairs if keys[n] == key) == list(
            zip(olds, news, strict=True)
        )


# -- one show ---------------------------------------------------------------------------


def _as_drift_showed(value: Any) -> str:  # drift/format.py's, before it used wording.show
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _as_check_showed(value: Any) -> str:  # contract/check.py's, before
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= 200 else text[:197] + "..."


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=90),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(_JSON)
def test_every_report_shows_a_json_value_as_it_did(value: Any) -> None:
    assert drift_format._show(value) == _as_drift_showed(value)
    assert wording.show(value, check._VALUE_WIDTH) == _as_check_showed(value)


def test_a_value_json_cannot_hold_is_shown_as_python_would() -> None:
    # scenarios/expect.py's, moved to wording unchanged (the scenario messages' show)
    looped: list[Any] = []
    looped.append(looped)
    assert wording.show(looped) == "[[...]]"  # json.dumps refuses it: repr instead
    assert wording.show("x" * 200, 10) == '"xxxxxx...'


# -- one scrubbing stream ---------------------------------------------------------------

KEY = "hl_sk_streamsecret0123456789"


def test_the_scrubbed_stream_hides_every_form_and_is_otherwise_the_stream() -> None:
    target = io.StringIO()
    stream = ScrubbedStream.of(target, [Secret("HUMANLOOP_API_KEY", KEY)])
    text = f"key={KEY} url={quote(KEY)} b64={base64.b64encode(KEY.encode()).decode()}\n"
    assert stream.write(text) == len(text)  # as a text stream answers: what was given
    assert KEY not in target.getvalue()
    assert base64.b64encode(KEY.encode()).decode() not in target.getvalue()
    assert target.getvalue().startswith("key=<HUMANLOOP_API_KEY> ")
    assert stream.getvalue() == target.getvalue()  # anything else is the stream's
    plain = io.StringIO()
    ScrubbedStream.of(plain, []).write(text)
    assert plain.getvalue() == text


def test_the_guards_stream_scrubs_secrets_it_learns_later(tmp_path: Path) -> None:
    learnt: list[Secret] = []

    def scrub(text: str) -> str:
        return scrub_text(text, learnt)

    target = io.StringIO()
    stream = ScrubbedStream(target, scrub)
    stream.write(f"{KEY}\n")
    learnt.append(Secret("HUMANLOOP_API_KEY", KEY))
    stream.write(f"{KEY}\n")
    assert target.getvalue() == f"{KEY}\n<HUMANLOOP_API_KEY>\n"


def test_diff_and_check_print_through_the_scrubbed_stream(tmp_path: Path) -> None:
    body = {**_session(), "datapoints_count": KEY}  # a violation that shows the value
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(cassette_file.dumps(CassetteData([_answer(_session())])), encoding="utf-8")
    new.write_text(cassette_file.dumps(CassetteData([_answer(body)])), encoding="utf-8")
    env = {"HUMANLOOP_API_KEY": KEY}
    out, err = io.StringIO(), io.StringIO()
    schemas = SchemaSet.default()
    code = command.run_diff(
        old="old.yaml", new="new.yaml", paths=[], git_rev=None, fmt="text", ignore=[],
        schemas=schemas, out=out, err=err, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert code == 1
    assert KEY not in out.getvalue()
    assert "<HUMANLOOP_API_KEY>" in out.getvalue()
    out = io.StringIO()
    check.run_check([new], out, secrets=[Secret("HUMANLOOP_API_KEY", KEY)], schemas=schemas)
    assert KEY not in out.getvalue()
    assert "<HUMANLOOP_API_KEY>" in out.getvalue()


def test_a_diff_error_quoting_a_cassette_shows_no_secret(tmp_path: Path) -> None:
    # A corrupt value is quoted in the loader's message: `check` scrubbed it, `diff` did not.
    text = cassette_file.dumps(CassetteData([_answer(_session())])).replace(
        "status: 200", f"status: {KEY}"
    )
    (tmp_path / "old.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "new.yaml").write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = command.run_diff(
        old="old.yaml", new="new.yaml", paths=[], git_rev=None, fmt="text", ignore=[],
        schemas=SchemaSet.default(), out=out, err=err, cwd=tmp_path,
        env={"HUMANLOOP_API_KEY": KEY},
    )  # fmt: skip
    assert code == 2
    assert "got the string '<HUMANLOOP_API_KEY>'" in err.getvalue()
    assert KEY not in err.getvalue() + out.getvalue()


# -- each body parsed once --------------------------------------------------------------


def _bodies_of_the_repo() -> list[Interaction]:
    root = Path(__file__).resolve().parent.parent / "cassettes"
    found = [cassette_file.read(p) for p in sorted(root.rglob("*.yaml"))]
    return [i for data in found if data is not None for i in data.interactions]


def test_a_body_checked_as_parsed_is_checked_as_read() -> None:
    interactions = [
        *_bodies_of_the_repo(),
        _answer(_session(datapoints_count=-1, more=1)),
        _answer(_session(created_at="2024-05-01 12:00:00", id=None)),
    ]
    assert len(interactions) > 10
    schemas = SchemaSet.default()
    for i in (i for i in interactions if i.response.body):  # repo cassettes hold JSON
        parsed = check.check_interaction(Path(), 0, i, schemas, body=json.loads(i.response.body))
        assert parsed == check.check_interaction(Path(), 0, i, schemas)


def test_diff_parses_each_changed_body_once(monkeypatch: pytest.MonkeyPatch) -> None:
    before = [_answer(_session()), _answer("text", "/sessions/sesh_b"), _answer(_session(), "/x")]
    after = [
        _answer(_session(datapoints_count=-1, extra=1)),  # a change, a violation, drift
        _answer({"id": "sesh_b"}, "/sessions/sesh_b"),
        _answer(_session(), "/x"),  # the same: not parsed at all
    ]
    after[2] = Interaction(after[2].request, before[2].response)
    expected = diff.diff_cassettes(
        "c.yaml", CassetteData(before), CassetteData(after), SchemaSet.default()
    )
    parsed: list[Any] = []
    real = json.loads

    def counted(text: Any, *args: Any, **kwargs: Any) -> Any:
        parsed.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(json, "loads", counted)
    found = diff.diff_cassettes(
        "c.yaml", CassetteData(before), CassetteData(after), SchemaSet.default()
    )
    assert found == expected
    bodies = [i.response.body for i in [*before[:2], *after[:2]]]
    assert sorted(parsed) == sorted(bodies)
