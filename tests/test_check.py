"""`hl_testkit.contract.check`: validating every recorded answer in a tree of cassettes."""

from __future__ import annotations

import io
import json
import pathlib
import re
from typing import Any

import pytest

from hl_testkit.cassettes import file as cassette_file
from hl_testkit.cassettes.model import CassetteData, Interaction, RecordedRequest, RecordedResponse
from hl_testkit.contract.check import (
    CheckReport,
    api_target,
    check_paths,
    format_details,
    format_table,
    run_check,
)
from hl_testkit.contract.schemas import Route, SchemaSet

API = "https://api.humanloop.com/v4"
REPO = pathlib.Path(__file__).resolve().parent.parent

SESSION: dict[str, Any] = {
    "id": "sesh_demo",
    "projects": [{"id": "pr_demo", "name": "Demo"}],
    "datapoints_count": 2,
    "created_at": "2024-01-01T00:00:00Z",
}


def _interaction(method: str, uri: str, status: int, body: Any) -> Interaction:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Interaction(
        RecordedRequest(method, uri, {"Accept": "application/json"}),
        RecordedResponse(status, "", {"Content-Type": "application/json"}, raw),
    )


def _cassette(path: pathlib.Path, *interactions: Interaction) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(cassette_file.dumps(CassetteData(list(interactions), "stand-in")))
    return path


def _good_interactions() -> list[Interaction]:
    return [
        _interaction("POST", f"{API}/sessions", 201, {"id": "sesh_new"}),
        _interaction("GET", f"{API}/sessions/sesh_demo", 200, SESSION),
        _interaction(
            "GET",
            f"{API}/sessions?project_id=pr_demo&page=1&size=10",
            200,
            {"records": [SESSION, SESSION], "page": 1, "size": 10, "total": 2},
        ),
        _interaction("GET", f"{API}/sessions/nope", 404, {"detail": "Not Found"}),
        _interaction(
            "GET",
            f"{API}/sessions?project_id=pr_demo&page=0",
            422,
            {"detail": [{"loc": ["query", "page"], "msg": "m", "type": "t"}]},
        ),
    ]


@pytest.fixture
def tree(tmp_path: pathlib.Path) -> pathlib.Path:
    """cassettes/ with two good cassettes (one nested) and one tampered."""
    root = tmp_path / "cassettes"
    _cassette(root / "test_a" / "test_good.yaml", *_good_interactions())
    _cassette(
        root / "test_a" / "deeper" / "test_unrouted.yaml",
        _interaction("GET", f"{API}/sessions", 302, b"<html>moved</html>"),
        _interaction("GET", "https://example.invalid/status", 200, {"ok": True}),
        _interaction("POST", f"{API}/sessions", 201, {"id": "sesh_x"}),
    )
    _cassette(
        root / "test_b" / "test_broken.yaml",
        _interaction("POST", f"{API}/sessions", 201, {"id": "sesh_ok"}),
        _interaction(
            "GET",
            f"{API}/sessions/sesh_demo",
            200,
            {**SESSION, "id": 42, "created_at": "not-a-date"},
        ),
    )
    (root / "README.md").write_text("not a cassette")
    return root


# -- routing a recorded URI -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "path", "shown"),
    [
        (f"{API}/sessions", "/sessions", "/sessions"),
        (f"{API}/sessions/sesh_1", "/sessions/sesh_1", "/sessions/sesh_1"),
        (f"{API}/sessions?project_id=pr_1&page=2", "/sessions", "/sessions?project_id=pr_1&page=2"),
        (f"{API}", "/", "/"),
        (f"{API}/", "/", "/"),
        ("HTTPS://API.HUMANLOOP.COM/v4/sessions", "/sessions", "/sessions"),
        ("https://api.humanloop.com/v40/sessions", "/v40/sessions", "/v40/sessions"),
        ("https://api.humanloop.com/v3/sessions", "/v3/sessions", "/v3/sessions"),
        ("http://api.humanloop.com/v4/sessions", "/v4/sessions", "/v4/sessions"),
        ("http://127.0.0.1:8000/v4/sessions", "/v4/sessions", "/v4/sessions"),
        ("https://example.invalid/projects/pr_1?x=1", "/projects/pr_1", "/projects/pr_1?x=1"),
        ("https://example.invalid", "/", "/"),
    ],
)
def test_api_target(uri: str, path: str, shown: str) -> None:
    assert api_target(uri) == (path, shown)


# -- a tree of cassettes ------------------------------------------------------------------


def test_check_counts_every_cassette_under_the_tree(tree: pathlib.Path) -> None:
    report = check_paths([tree], SchemaSet.default())
    rows = {
        c.path.relative_to(tree).as_posix(): (c.interactions, c.valid, c.invalid, c.unrouted)
        for c in report.cassettes
    }
    assert rows == {
        "test_a/deeper/test_unrouted.yaml": (3, 1, 0, 2),
        "test_a/test_good.yaml": (5, 5, 0, 0),
        "test_b/test_broken.yaml": (2, 1, 1, 0),
    }
    assert report.totals() == {
        "cassettes": 3,
        "interactions": 10,
        "valid": 7,
        "invalid": 1,
        "unrouted": 2,
    }
    assert report.errors == []
    assert report.exit_code == 1
    [failure] = report.failures
    assert failure.cassette == tree / "test_b" / "test_broken.yaml"
    assert (failure.index, failure.method, failure.target, failure.status, failure.schema) == (
        1,
        "GET",
        "/sessions/sesh_demo",
        200,
        "session",
    )
    assert [(v.path, v.keyword, v.expected, v.actual) for v in failure.violations] == [
        ("$.created_at", "format", "date-time", "not-a-date"),
        ("$.id", "type", "string", 42),
    ]


def test_run_check_on_a_tampered_tree_exits_1_and_shows_where(tree: pathlib.Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert run_check([tree], out, err=err) == 1
    text = out.getvalue()
    assert err.getvalue() == ""
    broken = str(tree / "test_b" / "test_broken.yaml")
    row = next(line for line in text.splitlines() if line.startswith(broken))
    assert row.split()[1:] == ["2", "1", "1", "0"]
    total = next(line for line in text.splitlines() if line.startswith("total"))
    assert total.split()[3:] == ["10", "7", "1", "2"]
    assert (
        f"{broken}, interaction 1: GET /sessions/sesh_demo -> 200, schema session: 2 violations"
        in text
    )
    assert "  $.created_at: 'not-a-date' is not a 'date-time' (format)" in text
    assert "  $.id: 42 is not of type 'string' (type)" in text
    assert '      expected: "date-time"\n      actual:   "not-a-date"' in text
    assert '      expected: "string"\n      actual:   42' in text
    assert text.rstrip().endswith("FAILED: 1 of 8 routed interactions invalid, in 1 cassette")
    assert "README" not in text


def test_table_columns_are_aligned(tree: pathlib.Path) -> None:
    table = format_table(check_paths([tree], SchemaSet.default()))
    lines = table.splitlines()
    assert lines[0].split() == ["cassette", "interactions", "valid", "invalid", "unrouted"]
    assert len(lines) == 3 + 3 + 1  # header, rule, rows, rule, total
    assert lines[1] == lines[-2]
    assert set(lines[1]) == {"-", " "}
    # every numeric column ends where its header ends: right-aligned
    ends = [m.end() for m in re.finditer(r"\S+", lines[0])][1:]
    for line in [*lines[2:-2], lines[-1]]:
        assert [m.end() for m in re.finditer(r"\S+", line)][-4:] == ends, line
    # the cassette column is as wide as the longest path
    starts = [m.start() for m in re.finditer(r"-+", lines[1])]
    longest = max(len(line.split("  ")[0].rstrip()) for line in lines[2:-2])
    assert starts[1] == longest + 2
    assert lines[-1].startswith("total (3 cassettes)")


def test_all_valid_tree_exits_0(tmp_path: pathlib.Path) -> None:
    _cassette(tmp_path / "one.yaml", *_good_interactions())
    out = io.StringIO()
    assert run_check([tmp_path], out) == 0
    assert out.getvalue().rstrip().endswith("OK: all 5 routed interactions valid")
    assert "violation" not in out.getvalue()
    assert format_details(check_paths([tmp_path])) == ""


def test_non_json_body_on_a_routed_interaction_is_invalid(tmp_path: pathlib.Path) -> None:
    path = _cassette(
        tmp_path / "html.yaml",
        _interaction("GET", f"{API}/sessions/sesh_1", 200, b"<html>oops</html>"),
        _interaction("POST", f"{API}/sessions", 201, b""),
        _interaction("GET", f"{API}/sessions/sesh_1", 500, b"\xff\xfe\x00garbage"),
    )
    report = check_paths([path])
    [result] = report.cassettes
    assert (result.valid, result.invalid, result.unrouted) == (0, 3, 0)
    messages = [f.violations[0].message for f in report.failures]
    assert messages[0].startswith("response body is not JSON (Expecting value")
    assert messages[0].endswith("schema 'session' needs a JSON document")
    assert messages[1] == "response body is empty; schema 'session_created' needs a JSON document"
    assert "schema 'error' needs a JSON document" in messages[2]
    assert report.failures[0].violations[0].actual == "<html>oops</html>"
    assert {v.keyword for f in report.failures for v in f.violations} == {"json"}
    assert "interaction 2: GET /sessions/sesh_1 -> 500, schema error" in format_details(report)


def test_corrupt_cassette_exits_2_naming_the_file_and_checks_the_rest(
    tree: pathlib.Path,
) -> None:
    corrupt = tree / "test_c" / "test_corrupt.yaml"
    corrupt.parent.mkdir()
    corrupt.write_text("format: hl-testkit-cassette/1\ninteractions: [{request: {}}]\n")
    not_yaml = tree / "test_c" / "test_not_yaml.yaml"
    not_yaml.write_text("interactions: [unclosed\n")
    not_utf8 = tree / "test_c" / "test_not_utf8.yaml"
    not_utf8.write_bytes(b"\xff\xfe\x00\x00")
    out, err = io.StringIO(), io.StringIO()
    assert run_check([tree], out, err=err) == 2
    errors = [line for line in err.getvalue().splitlines() if line.startswith("hl-testkit")]
    assert len(errors) == 3  # one message each, in path order, naming the file
    assert errors[0].startswith(f"hl-testkit check: cassette {corrupt}")
    assert errors[1].startswith(f"hl-testkit check: cassette {not_utf8}")
    assert errors[2].startswith(f"hl-testkit check: cassette {not_yaml}")
    assert "UTF-8" in errors[1]
    assert "YAML" in errors[2]
    assert "total (3 cassettes)" in out.getvalue()  # the readable ones are still reported
    assert "test_broken.yaml, interaction 1" in out.getvalue()


def test_missing_path_exits_2(tmp_path: pathlib.Path) -> None:
    _cassette(tmp_path / "ok.yaml", *_good_interactions())
    err = io.StringIO()
    assert run_check([tmp_path / "ok.yaml", tmp_path / "gone"], io.StringIO(), err=err) == 2
    assert err.getvalue() == f"hl-testkit check: {tmp_path / 'gone'}: no such file or directory\n"


def test_unknown_format_exits_2(tmp_path: pathlib.Path) -> None:
    err = io.StringIO()
    assert run_check([tmp_path], io.StringIO(), "xml", err=err) == 2
    assert "unknown format 'xml'; use one of text, json" in err.getvalue()


def test_files_are_taken_once_and_empty_dirs_are_fine(tmp_path: pathlib.Path) -> None:
    one = _cassette(tmp_path / "d" / "one.yml.yaml", *_good_interactions()[:1])
    _cassette(tmp_path / "d" / "skipped.yml", *_good_interactions()[:1])
    explicit = _cassette(tmp_path / "named.cassette", *_good_interactions()[:2])
    (tmp_path / "empty").mkdir()
    report = check_paths([tmp_path / "d", one, explicit, tmp_path / "empty", tmp_path / "d"])
    assert [c.path for c in report.cassettes] == [one, explicit]
    assert report.exit_code == 0
    assert check_paths([tmp_path / "empty"]).totals()["cassettes"] == 0
    assert run_check([tmp_path / "empty"], io.StringIO()) == 0


def test_json_format(tree: pathlib.Path) -> None:
    out = io.StringIO()
    assert run_check([tree], out, "json") == 1
    data = json.loads(out.getvalue())
    assert data["ok"] is False
    assert data["exit_code"] == 1
    assert data["totals"] == {
        "cassettes": 3,
        "interactions": 10,
        "valid": 7,
        "invalid": 1,
        "unrouted": 2,
    }
    broken = next(c for c in data["cassettes"] if c["path"].endswith("test_broken.yaml"))
    assert (broken["valid"], broken["invalid"]) == (1, 1)
    [failure] = broken["failures"]
    assert {k: failure[k] for k in ("interaction", "method", "path", "status", "schema")} == {
        "interaction": 1,
        "method": "GET",
        "path": "/sessions/sesh_demo",
        "status": 200,
        "schema": "session",
    }
    assert failure["violations"] == [
        {
            "path": "$.created_at",
            "message": "'not-a-date' is not a 'date-time'",
            "keyword": "format",
            "expected": "date-time",
            "actual": "not-a-date",
        },
        {
            "path": "$.id",
            "message": "42 is not of type 'string'",
            "keyword": "type",
            "expected": "string",
            "actual": 42,
        },
    ]
    assert data["errors"] == []
    assert check_paths([tree]).as_json() == data


def test_drift_is_reported_but_does_not_fail(tmp_path: pathlib.Path) -> None:
    _cassette(
        tmp_path / "drift.yaml",
        _interaction(
            "GET",
            f"{API}/sessions?project_id=pr_demo",
            200,
            {"records": [{**SESSION, "new_field": 1}], "page": 1, "size": 1, "total": 1},
        ),
    )
    out = io.StringIO()
    assert run_check([tmp_path], out) == 0
    assert (
        "drift: properties the schemas do not name, and what only the strict profile refuses "
        "(allowed; not failures)"
    ) in out.getvalue()
    assert "    $.records[0].new_field: not in the schema (drift)" in out.getvalue()
    report = check_paths([tmp_path])
    [finding] = report.drift
    assert finding.violations == ()
    assert [d.path for d in finding.drift] == ["$.records[0].new_field"]
    assert report.as_json()["cassettes"][0]["drift"][0]["properties"][0]["path"] == (
        "$.records[0].new_field"
    )


def test_user_schemas_and_routes_apply(tmp_path: pathlib.Path) -> None:
    schema_dir = tmp_path / "schemas"
    schema_dir.mkdir()
    (schema_dir / "project.json").write_text(
        json.dumps({"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}})
    )
    custom = SchemaSet.with_extra(schema_dir, [Route.parse("GET /projects/{id} 200 project")])
    _cassette(
        tmp_path / "c" / "projects.yaml",
        _interaction("GET", f"{API}/projects/pr_1", 200, {"id": "pr_1"}),
        _interaction("GET", "http://127.0.0.1:9/projects/pr_2", 200, {"id": 2}),
        _interaction("GET", "http://127.0.0.1:9/v4/projects/pr_2", 200, {"id": 2}),
    )
    report = check_paths([tmp_path / "c"], custom)
    [result] = report.cassettes
    assert (result.valid, result.invalid, result.unrouted) == (1, 1, 1)
    [failure] = report.failures
    assert (failure.index, failure.schema, failure.target) == (1, "project", "/projects/pr_2")
    assert [(v.path, v.keyword) for v in failure.violations] == [("$.id", "type")]
    # the default set does not know the route
    assert check_paths([tmp_path / "c"]).cassettes[0].unrouted == 3
    assert run_check([tmp_path / "c"], io.StringIO(), schemas=custom) == 1


def test_empty_report_formats() -> None:
    report = CheckReport()
    assert report.exit_code == 0
    assert format_table(report).splitlines()[-1].split() == [
        "total",
        "(0",
        "cassettes)",
        "0",
        "0",
        "0",
        "0",
    ]
    assert format_details(report) == ""
    assert report.as_json()["cassettes"] == []


def test_long_values_are_cut_in_the_details(tmp_path: pathlib.Path) -> None:
    _cassette(
        tmp_path / "long.yaml",
        _interaction("GET", f"{API}/sessions/sesh_1", 200, {**SESSION, "created_at": "x" * 500}),
    )
    details = format_details(check_paths([tmp_path]))
    actual = next(line for line in details.splitlines() if line.strip().startswith("actual:"))
    assert actual.endswith("xxx...")
    assert len(actual.split("actual:", 1)[1].strip()) == 200


# -- the project's own cassettes ---------------------------------------------------------------


@pytest.mark.parametrize("profile", ["default", "strict"])
def test_the_committed_cassettes_pass(monkeypatch: pytest.MonkeyPatch, profile: str) -> None:
    monkeypatch.chdir(REPO)
    out, err = io.StringIO(), io.StringIO()
    schemas = SchemaSet.default(profile)
    assert run_check([pathlib.Path("cassettes")], out, err=err, schemas=schemas) == 0, (
        out.getvalue() + err.getvalue()
    )
    report = check_paths([pathlib.Path("cassettes")], schemas)
    totals = report.totals()
    assert totals["cassettes"] >= 10
    assert totals["invalid"] == 0
    assert totals["valid"] == totals["interactions"] > 0  # every recorded answer was routed
    assert report.drift == []  # not even a strict rule: the stand-in answers strictly


def test_strict_rules_are_drift_in_check_and_failures_with_the_strict_profile(
    tmp_path: pathlib.Path,
) -> None:
    naive = {**SESSION, "id": "sesh_a.b", "created_at": "2024-05-01T12:34:56.789012"}
    _cassette(tmp_path / "naive.yaml", _interaction("GET", f"{API}/sessions/sesh_a.b", 200, naive))
    out = io.StringIO()
    assert run_check([tmp_path], out) == 0
    text = out.getvalue()
    assert (
        "    $.created_at: '2024-05-01T12:34:56.789012' is not a 'date-time' "
        "(strict profile: format)"
    ) in text
    assert "    $.id: 'sesh_a.b' does not match '^sesh_[A-Za-z0-9_-]+$(?!\\\\n)' " in text
    drift = check_paths([tmp_path]).as_json()["cassettes"][0]["drift"][0]["properties"]
    assert [(d["path"], d["keyword"]) for d in drift] == [
        ("$.created_at", "format"),
        ("$.id", "pattern"),
    ]
    strict = io.StringIO()
    assert run_check([tmp_path], strict, schemas=SchemaSet.default("strict")) == 1
    assert "2 violations" in strict.getvalue()


def test_drift_is_listed_in_numeric_path_order() -> None:
    from hl_testkit.contract.check import check_interaction

    records = [
        {
            "id": f"sesh_{n}",
            "projects": [],
            "datapoints_count": 0,
            "created_at": "2024-01-01T00:00:00Z",
            "zz": n,
        }
        for n in range(12)
    ]
    body = {"records": records, "page": 1, "size": 12, "total": 12}
    raw = json.dumps(body).encode("utf-8")
    interaction = Interaction(
        RecordedRequest("GET", "https://api.humanloop.com/v4/sessions?project_id=pr_a", {}, None),
        RecordedResponse(200, "OK", {"Content-Type": "application/json"}, raw),
    )
    finding = check_interaction(pathlib.Path("c.yaml"), 0, interaction, SchemaSet.default())
    assert finding is not None
    paths = [d.path for d in finding.drift]
    assert paths == [f"$.records[{n}].zz" for n in range(12)]
