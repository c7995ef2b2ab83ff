"""Schema checks inside the plugin: at replay, at record, drift, user routes, opt-outs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from hl_testkit.cassettes import file as cassette_file
from tests.json_api import json_api

TEST = """
def test_get(sessions):
    assert sessions.get(id="sesh_demo").status == 200
"""


def _record(pytester: pytest.Pytester) -> Path:
    pytester.makepyfile(test_x=TEST)
    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=1)
    return pytester.path / "cassettes" / "test_x" / "test_get.yaml"


def _tamper(path: Path, **changes: object) -> None:
    data = cassette_file.read(path)
    assert data is not None
    body = json.loads(data.interactions[0].response.body)
    body.update(changes)
    data.interactions[0].response.body = json.dumps(body).encode()
    path.write_text(cassette_file.dumps(data), encoding="utf-8")


def test_a_tampered_cassette_fails_in_replay_with_path_and_index(pytester: pytest.Pytester) -> None:
    path = _record(pytester)
    _tamper(path, id=42, created_at="not-a-date")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    out = result.stdout.str()
    assert "break their JSON Schema" in out
    assert f"{path}, interaction 0" in out or "interaction 0" in out
    assert "GET /sessions/sesh_demo" in out
    assert "$.id" in out
    assert "$.created_at" in out
    assert "date-time" in out


def test_no_schema_option_and_marker_turn_the_check_off(pytester: pytest.Pytester) -> None:
    path = _record(pytester)
    _tamper(path, id=42)
    pytester.runpytest("--hl-no-schema").assert_outcomes(passed=1)
    pytester.makepyfile(
        test_x="""
import pytest

@pytest.mark.hl_cassette(schema=False)
def test_get(sessions):
    assert sessions.get(id="sesh_demo").status == 200
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_marker_picks_another_schema(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_x="""
import pytest

@pytest.mark.hl_cassette(schema="session_created")
def test_get(sessions):
    assert sessions.get(id="sesh_demo").status == 200
"""
    )
    # A full session body is a valid CreateSessionResponse (id + extras): passes.
    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=1)
    pytester.makepyfile(
        test_x="""
import pytest

@pytest.mark.hl_cassette(schema="session_page")
def test_get(sessions):
    assert sessions.get(id="sesh_demo").status == 200
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*schema session_page*"])


def test_drift_is_reported_only_when_strict(pytester: pytest.Pytester) -> None:
    path = _record(pytester)
    _tamper(path, brand_new_field=1)
    plain = pytester.runpytest()
    plain.assert_outcomes(passed=1)
    assert "not in the schema" not in plain.stdout.str()
    strict = pytester.runpytest("--hl-schema-strict")
    strict.assert_outcomes(passed=1)
    strict.stdout.fnmatch_lines(["*drift: *$.brand_new_field: not in the schema (drift)*"])


def test_strict_rules_are_drift_unless_the_strict_profile_is_asked_for(
    pytester: pytest.Pytester,
) -> None:
    path = _record(pytester)
    # What the contract allows and the strict reading does not: a naive date, a dot.
    _tamper(path, created_at="2024-05-01T12:34:56.789012", id="sesh_a.b")
    pytester.runpytest().assert_outcomes(passed=1)
    drift = pytester.runpytest("--hl-schema-strict")
    drift.assert_outcomes(passed=1)
    # Quoted in docs/troubleshooting.md (Drift), with <cassette> for the path.
    expected = (
        f"  drift: {path}, interaction 0: GET /sessions/sesh_demo -> 200, schema session: "
        "$.created_at: '2024-05-01T12:34:56.789012' is not a 'date-time' "
        "(strict profile: format); $.id: 'sesh_a.b' does not match "
        "'^sesh_[A-Za-z0-9_-]+$(?!\\\\n)' (strict profile: pattern)"
    )
    assert expected in drift.stdout.lines
    failed = pytester.runpytest("--hl-schema-profile=strict")
    failed.assert_outcomes(passed=1, errors=1)
    failed.stdout.fnmatch_lines(
        ["*1 response body(ies) break their JSON Schema*", "*$.created_at: *(format)", "*$.id: *"]
    )
    pytester.makeini("[pytest]\nhl_schema_profile = strict\n")
    pytester.runpytest().assert_outcomes(passed=1, errors=1)
    pytester.makeini("[pytest]\nhl_schema_profile = lax\n")
    bad = pytester.runpytest()
    assert "ini hl_schema_profile = 'lax': expected default or strict" in bad.stderr.str()


def _bad_answer(request: BaseHTTPRequestHandler) -> dict[str, object]:
    """A session whose id and date break the schema, and a project for a user route."""
    if request.path.startswith("/v4/projects/"):
        return {"id": "pr_1", "name": 7}
    return {"id": "bad", "projects": [], "datapoints_count": 0, "created_at": "x"}


@pytest.fixture
def bad_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with json_api(_bad_answer) as base:
        monkeypatch.setenv("HUMANLOOP_BASE_URL", base)
        monkeypatch.setenv("HUMANLOOP_API_KEY", "a-test-key-123")
        yield base


def test_recording_a_bad_body_fails_and_keeps_it_marked(
    pytester: pytest.Pytester, bad_api: str
) -> None:
    path = _record_failing(pytester)
    data = cassette_file.read(path)
    assert data is not None
    violations = data.interactions[0].schema_violations
    assert violations is not None
    assert any(v.startswith("$.id") for v in violations)
    assert "schema_violations:" in path.read_text(encoding="utf-8")


def _record_failing(pytester: pytest.Pytester) -> Path:
    pytester.makepyfile(test_x=TEST)
    result = pytester.runpytest("--hl-record-mode=once")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*written anyway*schema_violations*"])
    return pytester.path / "cassettes" / "test_x" / "test_get.yaml"


def test_user_schema_for_another_endpoint(pytester: pytest.Pytester, bad_api: str) -> None:
    schemas = pytester.mkdir("my_schemas")
    (schemas / "project.json").write_text(
        json.dumps(
            {
                "type": "object",
                "required": ["id", "name"],
                "properties": {"name": {"type": "string"}},
            }
        ),
        encoding="utf-8",
    )
    pytester.makeini(
        """
[pytest]
hl_schema_dir = my_schemas
hl_routes =
    GET /projects/{id} 200 project
"""
    )
    pytester.makepyfile(
        test_p="""
import requests

def test_project(hl_cassette):
    r = requests.get(hl_cassette.base_url + "/projects/pr_1", timeout=5)
    assert r.status_code == 200
"""
    )
    result = pytester.runpytest("--hl-record-mode=once")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*GET /projects/pr_1*", "*$.name*"])


def test_marker_with_an_unknown_schema_fails_at_setup(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_x="""
import pytest

@pytest.mark.hl_cassette(schema="nosuch")
def test_get(sessions):
    raise AssertionError("never runs")
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*hl_cassette(schema='nosuch'): no schema of that name*"])
