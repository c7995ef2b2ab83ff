"""Routes, schema sets (built-in and user), the drift report and the fast path."""

from __future__ import annotations

import copy
import json
import pathlib
import re
from collections.abc import Iterator
from typing import Any

import pytest

from hl_testkit.contract import schemas
from hl_testkit.contract.schemas import (
    BUILTIN_ROUTES,
    SCHEMA_NAMES,
    Drift,
    Route,
    RouteError,
    SchemaSet,
    UnknownSchemaError,
    Violation,
    extra_properties,
    operation_of,
    route_for,
    schema_name_for,
)
from hl_testkit.errors import HlTestkitError


def _session(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "sesh_1a2B-3_c",
        "projects": [{"id": "pr_4d5e6f", "name": "support-bot"}],
        "datapoints_count": 3,
        "created_at": "2024-05-01T12:34:56.789+02:00",
    }
    body.update(changes)
    return body


def _page(*records: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"records": list(records), "page": 1, "size": 10, "total": 99}
    body.update(changes)
    return body


def _found(violations: list[Violation] | None) -> list[tuple[str, str]]:
    assert violations is not None
    return [(v.path, v.keyword) for v in violations]


def _write(directory: pathlib.Path, name: str, schema: Any) -> pathlib.Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    path.write_text(json.dumps(schema), encoding="utf-8")
    return path


_PROJECT = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "name", "sessions"],
    "properties": {
        "id": {"type": "string", "pattern": "^pr_[A-Za-z0-9_-]+$(?!\\n)"},
        "name": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "sessions": {"type": "array", "items": {"$ref": "session.json"}},
    },
}


# -- routing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "name"),
    [
        ("POST", "/sessions", 201, "session_created"),
        ("GET", "/sessions/sesh_1", 200, "session"),
        ("GET", "/sessions", 200, "session_page"),
        ("POST", "/sessions", 422, "validation_error"),
        ("GET", "/sessions/sesh_1", 422, "validation_error"),
        ("GET", "/sessions", 422, "validation_error"),
        ("POST", "/sessions", 401, "error"),
        ("GET", "/sessions/sesh_1", 404, "error"),
        ("GET", "/sessions", 429, "error"),
        ("GET", "/sessions/sesh_1", 500, "error"),
        # trailing slash, query, fragment, method case
        ("GET", "/sessions/", 200, "session_page"),
        ("GET", "/sessions/sesh_1/", 200, "session"),
        ("GET", "/sessions?project_id=pr_1&page=2", 200, "session_page"),
        ("GET", "/sessions/sesh_1?x=1#top", 200, "session"),
        ("get", "/sessions/sesh_1", 200, "session"),
        ("post", "/sessions/", 201, "session_created"),
        ("GET", "sessions/sesh_1", 200, "session"),
        # {id} is one non-empty segment
        ("GET", "/sessions/sesh_1/extra", 200, None),
        ("GET", "/sessions//", 200, None),
        ("GET", "/sessions//sesh_1", 200, None),
        ("GET", "/sessions/sesh_1//", 200, None),
        # unknown: method, path, status
        ("DELETE", "/sessions/sesh_1", 200, None),
        ("POST", "/sessions/sesh_1", 201, None),
        ("PUT", "/sessions", 201, None),
        ("GET", "/v4/sessions", 200, None),
        ("GET", "/session", 200, None),
        ("GET", "/sessionsX", 200, None),
        ("GET", "/", 200, None),
        ("GET", "", 200, None),
        ("GET", "/projects/pr_1", 200, None),
        ("POST", "/sessions", 200, None),
        ("GET", "/sessions/sesh_1", 201, None),
        ("GET", "/sessions", 302, None),
        ("GET", "/sessions", 403, None),
    ],
)
def test_route_for_builtin_routes(method: str, path: str, status: int, name: str | None) -> None:
    assert SchemaSet.default().route_for(method, path, status) == name
    assert route_for(method, path, status) == name


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("POST", "/sessions", "create"),
        ("post", "/sessions/", "create"),
        ("GET", "/sessions/sesh_1", "get"),
        ("GET", "/sessions/sesh_1/", "get"),
        ("GET", "/sessions", "list"),
        ("GET", "/sessions?project_id=pr_1", "list"),
        ("GET", "/sessions/a/b", None),
        ("POST", "/sessions/sesh_1", None),
        ("DELETE", "/sessions/sesh_1", None),
        ("GET", "/projects", None),
        ("GET", "/sessions//", None),
    ],
)
def test_operation_of(method: str, path: str, operation: str | None) -> None:
    assert operation_of(method, path) == operation


def test_routes_agree_with_schema_name_for() -> None:
    paths = {
        "create": ("POST", "/sessions"),
        "get": ("GET", "/sessions/x"),
        "list": ("GET", "/sessions"),
    }
    compared = 0
    for operation, (method, path) in paths.items():
        assert operation_of(method, path) == operation
        for status in range(100, 600):
            assert route_for(method, path, status) == schema_name_for(operation, status)
            compared += route_for(method, path, status) is not None
    assert compared == 18 == len(BUILTIN_ROUTES)


def test_route_normalises_method_and_trailing_slash() -> None:
    route = Route("get", "/projects/{id}/", 200, "project")
    assert route == Route("GET", "/projects/{id}", 200, "project")
    assert route.segments == ("projects", None)
    assert str(route) == "GET /projects/{id} 200 -> project"
    assert Route("GET", "/", 200, "x").segments == ()


@pytest.mark.parametrize(
    ("text", "route"),
    [
        ("GET /projects/{id} 200 project", Route("GET", "/projects/{id}", 200, "project")),
        ("  post   /things 201   thing ", Route("POST", "/things", 201, "thing")),
        ("GET /projects/{id} 200 -> project", Route("GET", "/projects/{id}", 200, "project")),
    ],
)
def test_route_parse(text: str, route: Route) -> None:
    assert Route.parse(text) == route


@pytest.mark.parametrize(
    "text",
    ["GET /projects/{id} project", "GET /projects 200", "GET /p 2xx project", "", "a b c d e f"],
)
def test_route_parse_rejects_malformed_lines(text: str) -> None:
    with pytest.raises(
        RouteError, match=re.escape("expected 'METHOD /path/{param} STATUS SCHEMA'")
    ):
        Route.parse(text)


@pytest.mark.parametrize(
    ("method", "template", "status", "schema", "message"),
    [
        ("GET /x", "/x", 200, "s", "letters only"),
        ("", "/x", 200, "s", "letters only"),
        ("GET", "x", 200, "s", "must start with '/'"),
        ("GET", "/x", 99, "s", "100-599"),
        ("GET", "/x", 600, "s", "100-599"),
        ("GET", "/x", True, "s", "must be an integer"),
        ("GET", "/x", 200, "", "must not be empty"),
        ("GET", "/x/sesh_{id}", 200, "s", "whole segment"),
        ("GET", "/x/{id", 200, "s", "whole segment"),
        ("GET", "/x/{1d}", 200, "s", "whole segment"),
        ("GET", "/x?page=1", 200, "s", "no query"),
        ("GET", "/x//y", 200, "s", "empty segment"),
    ],
)
def test_route_rejects_what_cannot_match(
    method: str, template: str, status: Any, schema: str, message: str
) -> None:
    with pytest.raises(RouteError, match=message) as info:
        Route(method, template, status, schema)
    assert isinstance(info.value, HlTestkitError)
    assert isinstance(info.value, ValueError)


def test_literal_template_beats_parameter_and_later_route_wins(tmp_path: pathlib.Path) -> None:
    _write(tmp_path, "search", {"type": "object"})
    _write(tmp_path, "session_v2", {"type": "object"})
    custom = SchemaSet.with_extra(
        tmp_path,
        [
            Route("GET", "/sessions/search", 200, "search"),
            Route("GET", "/sessions/{sid}", 200, "session_v2"),  # same as a built-in: overrides
        ],
    )
    assert custom.route_for("GET", "/sessions/search", 200) == "search"
    assert custom.route_for("GET", "/sessions/sesh_1", 200) == "session_v2"
    assert custom.route_for("GET", "/sessions/sesh_1", 404) == "error"  # built-ins stay
    assert SchemaSet.default().route_for("GET", "/sessions/search", 200) == "session"


# -- the default set: built once ------------------------------------------------------


def test_default_set_is_built_once_and_shares_the_validators() -> None:
    default = SchemaSet.default()
    assert SchemaSet.default() is default
    assert default.names == SCHEMA_NAMES
    assert default.routes == BUILTIN_ROUTES
    assert default.registry is schemas.registry()
    for name in SCHEMA_NAMES:
        assert default.validator(name) is schemas._validator(name)
        assert default.schema(name) == schemas.load_schema(name)
    assert SchemaSet.with_extra() is default
    assert SchemaSet.with_extra(None, []) is default


def test_schema_set_builds_no_validator_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    custom = SchemaSet.with_extra(None, [Route.parse("GET /x 200 session")])
    assert custom is not SchemaSet.default()
    monkeypatch.setattr(schemas, "Draft202012Validator", None)
    monkeypatch.setattr(schemas, "validator_for", None)
    monkeypatch.setattr(schemas, "_build_validator", None)
    for schema_set in (custom, SchemaSet.default()):
        assert schema_set.check("session", _session()) == []
        assert schema_set.is_valid("session", _session())
        assert _found(schema_set.check("session", _session(id="x"))) == [("$.id", "pattern")]
        assert (
            _found(schema_set.check_response("GET", "/sessions/s", 200, {}))
            == [("$", "required")] * 4
        )
    assert _found(custom.check_response("GET", "/x", 200, {"id": 1})) == [
        ("$", "required"),
        ("$", "required"),
        ("$", "required"),
        ("$.id", "type"),
    ]


def test_schema_copy_is_private() -> None:
    SchemaSet.default().schema("session")["required"].clear()
    assert SchemaSet.default().validate("session", {}) != []
    assert len(SchemaSet.default().schema("session")["required"]) == 4


def test_unknown_schema_name_in_a_set() -> None:
    with pytest.raises(UnknownSchemaError, match="no schema named 'nope'; known schemas: session,"):
        SchemaSet.default().validate("nope", {})
    with pytest.raises(KeyError):
        SchemaSet.default().extra_properties("nope", {})


# -- valid and invalid bodies through the routes ----------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("POST", "/sessions", 201, {"id": "sesh_new"}),
        ("GET", "/sessions/sesh_1", 200, _session()),
        ("GET", "/sessions", 200, _page(_session(), _session(id="sesh_2"))),
        (
            "GET",
            "/sessions",
            422,
            {"detail": [{"loc": ["query", "page"], "msg": "m", "type": "t"}]},
        ),
        ("GET", "/sessions/nope", 404, {"detail": "Not Found"}),
        ("POST", "/sessions", 401, {"detail": "Invalid API key"}),
    ],
)
def test_valid_bodies_pass_through_their_routes(
    method: str, path: str, status: int, body: Any
) -> None:
    assert SchemaSet.default().check_response(method, path, status, body) == []


@pytest.mark.parametrize(
    ("method", "path", "status", "body", "found"),
    [
        ("POST", "/sessions", 201, {"id": 42}, [("$.id", "type")]),
        (
            "GET",
            "/sessions/sesh_1",
            200,
            _session(created_at="not-a-date"),
            [("$.created_at", "format")],
        ),
        (
            "GET",
            "/sessions?project_id=pr_1",
            200,
            _page(_session(), _session(datapoints_count=-2.5), total="9"),
            [("$.records[1].datapoints_count", "type"), ("$.total", "type")],
        ),
        ("GET", "/sessions", 422, {"detail": "bad"}, [("$.detail", "type")]),
        ("GET", "/sessions/x", 404, ["Not Found"], [("$", "type")]),
        # the route decides the schema: a session body is not a page
        ("GET", "/sessions", 200, _session(), [("$", "required")] * 4),
    ],
)
def test_invalid_bodies_through_their_routes(
    method: str, path: str, status: int, body: Any, found: list[tuple[str, str]]
) -> None:
    assert _found(SchemaSet.default().check_response(method, path, status, body)) == found


def test_unrouted_answer_is_not_judged() -> None:
    assert SchemaSet.default().check_response("GET", "/sessions", 302, "<html>") is None
    assert SchemaSet.default().check_response("GET", "/elsewhere", 200, {}) is None


# -- user schemas and routes -----------------------------------------------------------


def test_user_schema_dir_adds_a_schema_and_a_route_for_another_endpoint(
    tmp_path: pathlib.Path,
) -> None:
    _write(tmp_path, "project", _PROJECT)
    custom = SchemaSet.with_extra(tmp_path, [Route.parse("GET /projects/{id} 200 project")])
    assert custom.names == (*SCHEMA_NAMES, "project")
    assert custom.route_for("GET", "/projects/pr_1", 200) == "project"
    assert custom.route_for("GET", "/projects/pr_1/", 200) == "project"
    assert custom.route_for("GET", "/projects", 200) is None
    assert custom.route_for("GET", "/projects/pr_1", 201) is None
    assert custom.route_for("GET", "/sessions/sesh_1", 200) == "session"  # built-ins kept
    assert SchemaSet.default().route_for("GET", "/projects/pr_1", 200) is None
    good = {"id": "pr_1", "name": "p", "sessions": [_session()]}
    assert custom.check_response("GET", "/projects/pr_1", 200, good) == []
    bad = {"id": "sesh_1", "name": "p", "created_at": "yesterday", "sessions": [_session(id=1)]}
    assert _found(custom.check_response("GET", "/projects/pr_1", 200, bad)) == [
        ("$.created_at", "format"),
        ("$.id", "pattern"),
        ("$.sessions[0].id", "type"),  # its "$ref": "session.json" reached the built-in
    ]


def test_user_schema_overrides_a_builtin_by_file_name(tmp_path: pathlib.Path) -> None:
    session_v2 = copy.deepcopy(schemas.load_schema("session"))
    session_v2["required"].append("colour")
    session_v2["properties"]["colour"] = {"type": "string", "enum": ["red", "blue"]}
    origin = _write(tmp_path, "session", session_v2)
    custom = SchemaSet.with_extra(tmp_path)
    assert custom.names == SCHEMA_NAMES
    assert custom.routes == BUILTIN_ROUTES
    assert _found(custom.validate("session", _session())) == [("$", "required")]
    assert custom.validate("session", _session(colour="red")) == []
    assert _found(custom.validate("session", _session(colour="green"))) == [("$.colour", "enum")]
    # a page's records ($ref "session.json") reach the replacement
    assert _found(custom.check_response("GET", "/sessions", 200, _page(_session()))) == [
        ("$.records[0]", "required")
    ]
    assert custom.extra_properties("session", _session(colour="red")) == []
    # the built-in set is untouched
    assert SchemaSet.default().validate("session", _session()) == []
    assert [
        d.path for d in SchemaSet.default().extra_properties("session", _session(colour="r"))
    ] == ["$.colour"]
    assert origin.is_file()


def test_user_schema_with_its_own_id_replaces_the_builtin(tmp_path: pathlib.Path) -> None:
    _write(
        tmp_path,
        "session",
        {
            "$id": "https://example.invalid/schemas/my-session.json",
            "type": "object",
            "required": ["id"],
            "properties": {"id": {"$ref": "#/$defs/Id"}},
            "$defs": {"Id": {"type": "string", "pattern": "^s_"}},
        },
    )
    custom = SchemaSet.with_extra(tmp_path)
    assert custom.validate("session", {"id": "s_1"}) == []
    assert _found(custom.validate("session", {"id": "sesh_1"})) == [("$.id", "pattern")]
    assert _found(custom.validate("session_page", _page({"id": 1}))) == [
        ("$.records[0].id", "type")
    ]


def test_user_schema_still_checks_date_time(tmp_path: pathlib.Path) -> None:
    _write(tmp_path, "stamp", {"type": "string", "format": "date-time"})
    custom = SchemaSet.with_extra(tmp_path)
    strict = SchemaSet.with_extra(tmp_path, profile="strict")
    for good in ("2024-02-29T00:00:00Z", "1998-12-31T23:59:60Z"):
        assert custom.is_valid("stamp", good)
        assert strict.is_valid("stamp", good)
    for bad in ("2024-02-30T00:00:00Z", "2024-05-01", "not-a-date", "2024-05-01T25:00:00"):
        for schema_set in (custom, strict):
            assert not schema_set.is_valid("stamp", bad)
            assert _found(schema_set.validate("stamp", bad)) == [("$", "format")]
    # Naive: ISO 8601 as the SDK reads it (default), not RFC 3339 (strict).
    assert custom.is_valid("stamp", "2024-05-01T12:00:00")
    assert _found(strict.validate("stamp", "2024-05-01T12:00:00")) == [("$", "format")]
    [drift] = custom.strict_drift("stamp", "2024-05-01T12:00:00")
    assert (drift.path, drift.keyword) == ("$", "format")


def test_user_schema_in_another_draft(tmp_path: pathlib.Path) -> None:
    _write(
        tmp_path,
        "legacy",
        {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "array",
            "items": [{"type": "integer"}, {"type": "string"}],  # draft-07 tuple form
        },
    )
    custom = SchemaSet.with_extra(tmp_path)
    assert custom.validate("legacy", [1, "a", None]) == []
    assert _found(custom.validate("legacy", ["a"])) == [("$[0]", "type")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot read schema .*bad.json"),
        ("[1, 2]", "schema .*bad.json must hold a JSON object"),
        (
            '{"type": 12}',
            "schema 'bad' \\(.*bad.json\\) is not a valid JSON Schema: 12 is not valid",
        ),
        (
            '{"$ref": "nowhere.json"}',
            "schema 'bad' \\(.*bad.json\\): \\$ref 'nowhere.json' cannot be resolved",
        ),
        ('{"$ref": "#/$defs/missing"}', "\\$ref '#/\\$defs/missing' cannot be resolved"),
        ('{"$id": 5}', "schema 'bad' \\(.*bad.json\\): \\$id must be a non-empty string"),
    ],
)
def test_bad_user_schema_fails_at_construction_naming_the_file(
    tmp_path: pathlib.Path, content: str, message: str
) -> None:
    (tmp_path / "bad.json").write_text(content, encoding="utf-8")
    with pytest.raises(HlTestkitError, match=message):
        SchemaSet.with_extra(tmp_path)


def test_schema_dir_must_exist_and_hold_schemas(tmp_path: pathlib.Path) -> None:
    with pytest.raises(HlTestkitError, match="does not exist"):
        SchemaSet.with_extra(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(HlTestkitError, match=r"holds no <name>\.json"):
        SchemaSet.with_extra(tmp_path)


def test_user_route_to_an_unknown_schema_is_refused() -> None:
    with pytest.raises(RouteError, match="no schema named 'project'; known schemas: session,"):
        SchemaSet.with_extra(None, [Route.parse("GET /projects/{id} 200 project")])


def test_schema_set_from_code() -> None:
    only = SchemaSet(
        {"thing": {"type": "object", "required": ["a"]}}, [Route.parse("GET /t 200 thing")]
    )
    assert only.names == ("thing",)
    assert only.schema("thing")["$id"] == "https://schemas.hl-testkit.invalid/v4/thing.json"
    assert _found(only.check_response("GET", "/t", 200, {})) == [("$", "required")]
    assert only.route_for("GET", "/sessions", 200) is None
    with pytest.raises(RouteError, match="no schema named 'session_created'"):
        SchemaSet({"thing": {}})  # the default routes need the built-in schemas


# -- drift ----------------------------------------------------------------------------


def test_drift_at_the_top_level() -> None:
    [drift] = extra_properties("session", _session(new_field=[1]))
    assert isinstance(drift, Drift)
    assert isinstance(drift, Violation)
    assert drift.path == "$.new_field"
    assert drift.keyword == "additionalProperties"
    assert drift.actual == [1]
    assert drift.expected == sorted(schemas.load_schema("session")["properties"])
    assert str(drift) == "$.new_field: not in the schema (drift)"


def test_drift_inside_records_and_projects_sorted_by_path() -> None:
    records = [_session(id=f"sesh_{n}") for n in range(12)]
    records[10]["new_field"] = True
    records[2]["projects"][0]["colour"] = "red"
    records[2]["zzz"] = None
    body = _page(*records, cursor="abc")
    found = SchemaSet.default().extra_properties("session_page", body)
    assert [str(d) for d in found] == [
        "$.cursor: not in the schema (drift)",
        "$.records[2].projects[0].colour: not in the schema (drift)",
        "$.records[2].zzz: not in the schema (drift)",
        "$.records[10].new_field: not in the schema (drift)",
    ]
    assert found[1].expected == ["id", "name"]
    # drift is allowed: the body is still valid
    assert SchemaSet.default().validate("session_page", body) == []


def test_no_drift_in_a_body_the_schema_describes() -> None:
    full = _session(reference_id="r", first_inputs={"free": {"form": 1}}, last_output=None)
    assert extra_properties("session", full) == []
    assert extra_properties("session_page", _page(full, full)) == []
    assert extra_properties("session_created", {"id": "sesh_1"}) == []
    assert extra_properties("error", {"detail": "x"}) == []


def test_drift_in_validation_error_items() -> None:
    # `ctx` is named by the schema (FastAPI sends it); `input` is not.
    body = {"detail": [{"loc": ["query"], "msg": "m", "type": "t", "ctx": {}, "input": "x"}]}
    assert [d.path for d in extra_properties("validation_error", body)] == ["$.detail[0].input"]


def test_drift_skips_maps_and_closed_objects_and_mistyped_values(tmp_path: pathlib.Path) -> None:
    _write(
        tmp_path,
        "shapes",
        {
            "type": "object",
            "properties": {
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "closed": {
                    "type": "object",
                    "properties": {"a": {}},
                    "additionalProperties": False,
                },
                "tagged": {
                    "type": "object",
                    "patternProperties": {"^x-": {}},
                    "properties": {"b": {}},
                },
                "either": {"anyOf": [{"properties": {"p": {}}}, {"properties": {"q": {}}}]},
            },
        },
    )
    custom = SchemaSet.with_extra(tmp_path)
    body = {
        "labels": {"any": "key"},
        "closed": {"a": 1, "b": 2},
        "tagged": {"b": 1, "x-trace": 2, "y": 3},
        "either": {"p": 1, "q": 2, "r": 3},
    }
    assert [d.path for d in custom.extra_properties("shapes", body)] == [
        "$.either.r",
        "$.tagged.y",
    ]
    assert _found(custom.validate("shapes", body)) == [("$.closed", "additionalProperties")]
    # values of the wrong type are validate()'s business; the walk just skips them
    assert extra_properties("session_page", {"records": "x", "page": {"q": 1}}) == []
    assert extra_properties("session", []) == []


def test_drift_follows_a_recursive_schema(tmp_path: pathlib.Path) -> None:
    _write(
        tmp_path,
        "tree",
        {"type": "object", "properties": {"name": {}, "children": {"items": {"$ref": "#"}}}},
    )
    custom = SchemaSet.with_extra(tmp_path)
    body = {"name": "a", "children": [{"name": "b", "children": [{"name": "c", "odd": 1}]}]}
    assert [d.path for d in custom.extra_properties("tree", body)] == [
        "$.children[0].children[0].odd"
    ]


# -- the fast path agrees with the full validator -----------------------------------------

_WRONG_TYPES: list[Any] = [None, True, 0, -1, 1.5, "", "x", [], [1], {}, {"k": "v"}]


def _variations(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """`body` with one thing changed: each property removed, nulled, retyped, plus an extra."""
    for key in body:
        without = dict(body)
        del without[key]
        yield without
        for value in _WRONG_TYPES:
            yield {**body, key: value}
    yield {**body, "new_field": {"nested": [1]}}


def _corpus() -> Iterator[tuple[str, Any]]:
    base = _session(reference_id="ref", first_inputs={"q": "hi"}, last_output="ok")
    sessions: list[dict[str, Any]] = [base, *_variations(base)]
    for bad_id in ("session_1", "sesh_", "sesh_a b", "sesh_abc\n", "pr_1", "SESH_1", "sesh_é"):
        sessions.append({**base, "id": bad_id})
    for project in (
        {"id": "pr_1", "name": "n"},
        {"id": "sesh_1", "name": "n"},
        {"id": "pr_", "name": "n"},
        {"id": "pr_1"},
        {"name": "n"},
        {"id": "pr_1", "name": None},
        {"id": None, "name": "n"},
        {"id": "pr_1", "name": "n", "extra": 1},
        "pr_1",
    ):
        sessions.append({**base, "projects": [project]})
    for stamp in (
        "2024-05-01T12:34:56Z",
        "2024-05-01t12:34:56z",
        "2024-05-01T12:34:56.123456+05:30",
        "2024-02-30T00:00:00Z",
        "2024-13-01T00:00:00Z",
        "2024-05-01",
        "2024-05-01 12:34:56Z",
        "12:34:56Z",
        "not-a-date",
        "",
    ):
        sessions.append({**base, "created_at": stamp})
    for count in (0, 1, 10**12, -1, -(10**12)):
        sessions.append({**base, "datapoints_count": count})
    for session in sessions:
        yield "session", session
        yield "session_page", _page(base, session, base)
    page = _page(base, base)
    for variation in _variations(page):
        yield "session_page", variation
    for page_number in (1, 0, -1):
        yield "session_page", {**page, "page": page_number}
    created: list[Any] = [{"id": "sesh_1"}, *_variations({"id": "sesh_1"}), {"id": "x"}, []]
    details: list[Any] = [{"detail": []}, {"detail": "x"}, {"detail": [{"loc": [], "msg": "m"}]}]
    errors: list[Any] = [{"detail": "Not Found"}, {"detail": None}, {"detail": 1}, {}, "x"]
    yield from (("session_created", body) for body in created)
    yield from (("validation_error", body) for body in [*details, {}])
    yield from (("error", body) for body in errors)


def test_fast_path_agrees_with_the_full_validator() -> None:
    default = SchemaSet.default()
    valid = invalid = 0
    for name, body in _corpus():
        full = default.validate(name, body)
        fast = default.is_valid(name, body)
        assert fast is (full == []), (name, body, full)
        assert schemas.is_valid(name, body) is fast
        assert default.check(name, body) == full, (name, body)
        valid += fast
        invalid += not fast
    # the corpus really holds both kinds, and mostly broken bodies
    assert valid >= 30
    assert invalid >= 200


def test_check_answers_a_valid_body_without_the_full_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    default = SchemaSet.default()
    calls: list[str] = []

    def counting_validate(self: SchemaSet, name: str, body: Any) -> list[Violation]:
        calls.append(name)
        return []

    monkeypatch.setattr(SchemaSet, "validate", counting_validate)
    assert default.check("session", _session()) == []
    assert calls == []
    default.check("session", _session(id=1))
    assert calls == ["session"]


# -- profiles: a user's schemas reach the strict profile too --------------------------------


def test_a_users_session_replaces_the_built_in_in_both_profiles(tmp_path: pathlib.Path) -> None:
    mine = {**schemas.load_schema("session"), "required": ["id", "tenant"]}
    del mine["$id"]
    _write(tmp_path, "session", mine)
    page = _page(_session(datapoints_count=-1))
    for profile in ("default", "strict"):
        custom = SchemaSet.with_extra(tmp_path, profile=profile)
        # The page's records (built-in page, either profile) reach the user's session.
        assert _found(custom.check("session_page", page)) == [("$.records[0]", "required")]
    # The user's session has no minimum: the strict page adds nothing to it.
    custom = SchemaSet.with_extra(tmp_path)
    assert [d.path for d in custom.strict_drift("session_page", {**page, "total": -1})] == [
        "$.total"
    ]


def test_the_marker_schema_keeps_its_strict_twin() -> None:
    chosen = SchemaSet.default().overriding_success("session_created")
    assert chosen.route_for("GET", "/sessions/sesh_1", 200) == "session_created"
    [drift] = chosen.strict_drift("session_created", {"id": "sesh_a.b"})
    assert (drift.path, drift.keyword) == ("$.id", "pattern")
    assert chosen.strict_set().route_for("GET", "/sessions/sesh_1", 200) == "session_created"
    assert SchemaSet.default("strict").strict_drift("session_created", {"id": "sesh_a.b"}) == []
