"""The JSON Schemas and `hl_testkit.contract.schemas`: what they accept and reject, and where."""

from __future__ import annotations

import copy
import pathlib
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker  # type: ignore[import-untyped]

from hl_testkit.contract import schemas
from hl_testkit.contract.schemas import (
    SCHEMA_NAMES,
    Violation,
    load_schema,
    registry,
    schema_dir,
    schema_name_for,
    validate,
    validate_response,
)
from hl_testkit.errors import HlTestkitError

_DELETE = object()  # marks a property to remove in `_with`


def _session(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "sesh_1a2B-3_c",
        "projects": [{"id": "pr_4d5e6f", "name": "support-bot"}],
        "datapoints_count": 3,
        "created_at": "2024-05-01T12:34:56.789+02:00",
    }
    return _with(body, **changes)


def _page(*records: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = {"records": list(records), "page": 1, "size": 10, "total": len(records)}
    return _with(body, **changes)


def _with(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    for key, value in changes.items():
        if value is _DELETE:
            del out[key]
        else:
            out[key] = value
    return out


def _found(violations: list[Violation] | None) -> list[tuple[str, str]]:
    assert violations is not None
    return [(v.path, v.keyword) for v in violations]


# -- the schema files ---------------------------------------------------------------


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schema_is_valid_draft_2020_12_with_metadata(name: str) -> None:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://schemas.hl-testkit.invalid/v4/{name}.json"
    assert isinstance(schema["title"], str)
    assert schema["title"]
    assert isinstance(schema["description"], str)
    assert schema["description"]


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schema_examples_are_valid(name: str) -> None:
    examples = load_schema(name)["examples"]
    assert examples
    for example in examples:
        assert validate(name, example) == []


def test_schema_dir_holds_every_schema() -> None:
    names = {p.stem for p in schema_dir().glob("*.json")}
    assert set(SCHEMA_NAMES) <= names


def test_schema_dir_prefers_installed_copy(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = tmp_path / "hl_testkit" / "_schemas"
    installed.mkdir(parents=True)
    (installed / "session.json").write_text("{}")
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "session.json").write_text("{}")
    fake = tmp_path / "hl_testkit" / "contract" / "schemas.py"
    monkeypatch.setattr(schemas, "__file__", str(fake))
    assert schema_dir() == installed


def test_schema_dir_missing_is_a_clear_error(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "hl_testkit" / "contract" / "schemas.py"
    monkeypatch.setattr(schemas, "__file__", str(fake))
    with pytest.raises(HlTestkitError, match="JSON Schemas are missing"):
        schema_dir()


def test_unknown_schema_name_lists_known_ones() -> None:
    with pytest.raises(KeyError) as info:
        load_schema("sessions")
    assert isinstance(info.value, HlTestkitError)
    assert str(info.value) == (
        "no schema named 'sessions'; known schemas: "
        "session, session_created, session_page, validation_error, error"
    )
    with pytest.raises(KeyError, match="known schemas"):
        validate("nope", {})


def test_load_schema_returns_a_private_copy() -> None:
    load_schema("session")["required"].clear()
    assert load_schema("session")["required"] == [
        "id",
        "projects",
        "datapoints_count",
        "created_at",
    ]
    assert validate("session", {}) != []


def test_registry_is_built_once_and_keyed_by_id() -> None:
    assert registry() is registry()
    for name in SCHEMA_NAMES:
        uri = f"https://schemas.hl-testkit.invalid/v4/{name}.json"
        assert registry().contents(uri) == load_schema(name)


# -- valid bodies -------------------------------------------------------------------

VALID: list[tuple[str, Any]] = [
    ("session_created", {"id": "sesh_abc"}),
    ("session_created", {"id": "sesh_abc", "extra": [1, 2]}),
    ("session", _session()),
    ("session", _session(projects=[])),
    ("session", _session(created_at="2024-01-01T00:00:00Z", datapoints_count=0)),
    ("session", _session(reference_id="ref-1", first_inputs={"q": "hi"}, last_output="ok")),
    ("session", _session(reference_id=None, first_inputs=None, last_output=None)),
    (
        "session",
        _session(unknown_field={"x": 1}, projects=[{"id": "pr_1", "name": "", "extra": True}]),
    ),
    ("session_page", _page()),
    ("session_page", _page(_session(), _session(id="sesh_2", reference_id=None), total=57)),
    ("session_page", _page(size=0, total=0, page=3, cursor="next")),
    ("validation_error", {"detail": []}),
    (
        "validation_error",
        {
            "detail": [
                {"loc": ["query", "project_id"], "msg": "field required", "type": "missing"},
                {
                    "loc": ["query", "page", 0],
                    "msg": "ensure this value is greater than 0",
                    "type": "value_error.number.not_gt",
                    "ctx": {"limit_value": 0},
                },
            ],
            "body": None,
        },
    ),
    ("error", {"detail": "Not Found"}),
    ("error", {"detail": "", "request_id": "abc"}),
]


@pytest.mark.parametrize(("name", "body"), VALID)
def test_valid_body_is_accepted(name: str, body: Any) -> None:
    assert validate(name, body) == []


# -- invalid bodies: one violation each, at a known path ------------------------------

INVALID: list[tuple[str, Any, str, str]] = [
    # wrong types
    ("session_created", [], "$", "type"),
    ("session_created", {"id": 7}, "$.id", "type"),
    ("session", _session(datapoints_count="3"), "$.datapoints_count", "type"),
    ("session", _session(datapoints_count=1.5), "$.datapoints_count", "type"),
    ("session", _session(datapoints_count=True), "$.datapoints_count", "type"),
    ("session", _session(projects={"id": "pr_1"}), "$.projects", "type"),
    ("session", _session(created_at=1714566896), "$.created_at", "type"),
    ("session", _session(reference_id=5), "$.reference_id", "type"),
    ("session", _session(first_inputs="q"), "$.first_inputs", "type"),
    ("session", _session(last_output={"text": "x"}), "$.last_output", "type"),
    ("session", _session(projects=[{"id": "pr_1", "name": None}]), "$.projects[0].name", "type"),
    ("session_page", _page(records=None), "$.records", "type"),
    ("session_page", _page(page="1"), "$.page", "type"),
    ("validation_error", {"detail": "bad"}, "$.detail", "type"),
    (
        "validation_error",
        {"detail": [{"loc": ["query", None], "msg": "m", "type": "t"}]},
        "$.detail[0].loc[1]",
        "type",
    ),
    ("error", ["Not Found"], "$", "type"),
    # missing required properties: reported on the object that lacks them
    ("session_created", {}, "$", "required"),
    ("session", _session(id=_DELETE), "$", "required"),
    ("session", _session(projects=_DELETE), "$", "required"),
    ("session", _session(datapoints_count=_DELETE), "$", "required"),
    ("session", _session(created_at=_DELETE), "$", "required"),
    ("session", _session(projects=[{"id": "pr_1"}]), "$.projects[0]", "required"),
    ("session_page", _page(total=_DELETE), "$", "required"),
    ("session_page", _page(_session(id=_DELETE)), "$.records[0]", "required"),
    ("validation_error", {"detail": [{"loc": [], "msg": "m"}]}, "$.detail[0]", "required"),
    # id prefixes
    ("session_created", {"id": "session_1"}, "$.id", "pattern"),
    ("session_created", {"id": " sesh_abc"}, "$.id", "pattern"),
    ("session", _session(id="pr_1"), "$.id", "pattern"),
    ("session", _session(projects=[{"id": "sesh_1", "name": "n"}]), "$.projects[0].id", "pattern"),
    (
        "session_page",
        _page(
            *[_session()] * 3,
            _session(projects=[{"id": "pr_1", "name": "a"}, {"id": "project_2", "name": "b"}]),
        ),
        "$.records[3].projects[1].id",
        "pattern",
    ),
    # dates
    ("session", _session(created_at="not-a-date"), "$.created_at", "format"),
    ("session", _session(created_at="2024-13-01T00:00:00Z"), "$.created_at", "format"),
    ("session", _session(created_at="2024-02-30T00:00:00Z"), "$.created_at", "format"),
    ("session", _session(created_at="2024-05-01"), "$.created_at", "format"),
    ("session", _session(created_at="2024-05-01T25:00:00"), "$.created_at", "format"),
    (
        "session_page",
        _page(_session(), _session(created_at="")),
        "$.records[1].created_at",
        "format",
    ),
]

#: Bodies the contract allows (the default profile accepts them) that the strict profile
#: refuses, each at its path with its rule; `strict_drift` reports the same.
STRICT_ONLY: list[tuple[str, Any, str, str]] = [
    ("validation_error", {}, "$", "required"),
    (
        "validation_error",
        {"detail": [{"loc": [], "msg": "m", "type": "t", "ctx": 1}]},
        "$.detail[0].ctx",
        "type",
    ),
    ("error", {"message": "Not Found"}, "$", "required"),
    ("error", {"detail": ["Not Found"]}, "$.detail", "type"),
    ("session_created", {"id": "sesh_"}, "$.id", "pattern"),
    ("session_created", {"id": "sesh_abc\n"}, "$.id", "pattern"),
    ("session_created", {"id": "sesh_a.b"}, "$.id", "pattern"),
    ("session", _session(projects=[{"id": "pr_a/b", "name": "n"}]), "$.projects[0].id", "pattern"),
    ("session", _session(created_at="2024-05-01T12:00:00"), "$.created_at", "format"),
    ("session", _session(created_at="2024-05-01 12:34:56.789012"), "$.created_at", "format"),
    ("session", _session(reference_id=None), "$.reference_id", "type"),
    ("session", _session(first_inputs=None), "$.first_inputs", "type"),
    ("session", _session(last_output=None), "$.last_output", "type"),
    ("session", _session(datapoints_count=-1), "$.datapoints_count", "minimum"),
    ("session_page", _page(page=0), "$.page", "minimum"),
    ("session_page", _page(size=-10), "$.size", "minimum"),
    ("session_page", _page(total=-1), "$.total", "minimum"),
    ("session_page", _page(_session(id="sesh_x y")), "$.records[0].id", "pattern"),
]


@pytest.mark.parametrize(("name", "body", "path", "keyword"), STRICT_ONLY)
def test_strict_profile_refuses_what_the_default_allows(
    name: str, body: Any, path: str, keyword: str
) -> None:
    assert validate(name, body) == []
    strict = schemas.SchemaSet.default("strict")
    assert _found(strict.validate(name, body)) == [(path, keyword)]
    drift = schemas.SchemaSet.default().strict_drift(name, body)
    assert [(d.path, d.keyword) for d in drift] == [(path, keyword)]
    assert f"(strict profile: {keyword})" in str(drift[0])


@pytest.mark.parametrize(("name", "body", "path", "keyword"), INVALID)
def test_strict_profile_refuses_what_the_default_refuses(
    name: str, body: Any, path: str, keyword: str
) -> None:
    strict = schemas.SchemaSet.default("strict")
    assert (path, keyword) in _found(strict.validate(name, body))
    # Drift is what the strict profile alone refuses: nothing here is new.
    assert (path, keyword) not in [
        (d.path, d.keyword) for d in schemas.SchemaSet.default().strict_drift(name, body)
    ]


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_strict_schema_files_are_valid_with_their_examples(name: str) -> None:
    schema = load_schema(name, "strict")
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"https://schemas.hl-testkit.invalid/v4/strict/{name}.json"
    assert schema["title"] == load_schema(name)["title"]
    strict = schemas.SchemaSet.default("strict")
    for example in schema["examples"]:
        assert strict.validate(name, example) == []


def test_unknown_profile_is_a_clear_error() -> None:
    with pytest.raises(HlTestkitError, match="no schema profile named 'lax'; profiles: default"):
        schemas.SchemaSet.default("lax")


@pytest.mark.parametrize(("name", "body", "path", "keyword"), INVALID)
def test_invalid_body_is_rejected_at_its_path(
    name: str, body: Any, path: str, keyword: str
) -> None:
    assert _found(validate(name, body)) == [(path, keyword)]


def test_violation_carries_expected_and_actual() -> None:
    [violation] = validate("session", _session(id="x"))
    assert violation == Violation(
        path="$.id",
        message="'x' does not match '^sesh_'",
        keyword="pattern",
        expected="^sesh_",
        actual="x",
    )
    assert str(violation) == "$.id: 'x' does not match '^sesh_' (pattern)"


@pytest.mark.parametrize(
    ("body", "keyword", "expected", "actual"),
    [
        (_session(created_at="not-a-date"), "format", "date-time", "not-a-date"),
        (_session(datapoints_count=4.5), "type", "integer", 4.5),
        (_session(datapoints_count="4"), "type", "integer", "4"),
        (_session(last_output=1), "type", ["string", "null"], 1),
    ],
)
def test_violation_fields(body: Any, keyword: str, expected: Any, actual: Any) -> None:
    [violation] = validate("session", body)
    assert (violation.keyword, violation.expected, violation.actual) == (keyword, expected, actual)


def test_required_violation_names_the_missing_property() -> None:
    [violation] = validate("session", _session(created_at=_DELETE))
    assert violation.path == "$"
    assert violation.actual == "created_at"
    assert violation.expected == ["id", "projects", "datapoints_count", "created_at"]
    assert str(violation) == "$: required property 'created_at' is missing (required)"


def test_every_violation_is_reported_sorted_by_path() -> None:
    records = [_session() for _ in range(11)]
    records[10] = _session(id="bad", datapoints_count=None)
    records[2] = _session(projects=[{"name": "no id"}], created_at="2024-13-01T00:00:00Z")
    body = _page(*records, page="1", size=_DELETE)
    assert _found(validate("session_page", body)) == [
        ("$", "required"),
        ("$.page", "type"),
        ("$.records[2].created_at", "format"),
        ("$.records[2].projects[0]", "required"),
        ("$.records[10].datapoints_count", "type"),
        ("$.records[10].id", "pattern"),
    ]


def test_several_missing_properties_each_get_a_violation() -> None:
    violations = validate("session", {})
    assert [(v.path, v.keyword) for v in violations] == [("$", "required")] * 4
    assert sorted(v.actual for v in violations) == sorted(load_schema("session")["required"])


@pytest.mark.parametrize(
    ("parts", "path"),
    [
        ([], "$"),
        (["records", 3, "projects", 0, "id"], "$.records[3].projects[0].id"),
        (["odd key"], "$['odd key']"),
        (["it's", "x-y", "_ok1"], "$['it\\'s']['x-y']._ok1"),
        (["1st"], "$['1st']"),
    ],
)
def test_json_path_rendering(parts: list[str | int], path: str) -> None:
    assert schemas.json_path(parts) == path


# -- mapping answers to schemas ------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "status", "name"),
    [
        ("create", 201, "session_created"),
        ("get", 200, "session"),
        ("list", 200, "session_page"),
        ("create", 422, "validation_error"),
        ("get", 422, "validation_error"),
        ("list", 422, "validation_error"),
        ("create", 401, "error"),
        ("get", 404, "error"),
        ("list", 429, "error"),
        ("get", 500, "error"),
        ("create", 200, None),
        ("get", 201, None),
        ("list", 204, None),
        ("get", 400, None),
        ("get", 403, None),
        ("list", 503, None),
        ("delete", 200, None),
        ("delete", 422, None),
    ],
)
def test_schema_name_for(operation: str, status: int, name: str | None) -> None:
    assert schema_name_for(operation, status) == name


def test_validate_response() -> None:
    assert validate_response("get", 200, _session()) == []
    assert _found(validate_response("get", 200, {"id": "sesh_1"})) == [("$", "required")] * 3
    assert _found(validate_response("create", 201, {"id": "x"})) == [("$.id", "pattern")]
    assert _found(validate_response("list", 404, "Not Found")) == [("$", "type")]
    assert validate_response("get", 302, "<html>") is None


# -- validators: built once, with date-time really checked ----------------------------


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_validator_is_cached(name: str) -> None:
    assert schemas._validator(name) is schemas._validator(name)


def test_validate_builds_no_validator_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    schemas._validator("session")  # warm the cache
    monkeypatch.setattr(schemas, "Draft202012Validator", None)  # any rebuild would now fail
    assert validate("session", _session()) == []
    assert _found(validate("session", _session(id="x"))) == [("$.id", "pattern")]


def test_date_time_is_checked_by_our_rules_whatever_jsonschema_brings() -> None:
    # jsonschema checks date-time only with rfc3339-validator installed, and then lets a
    # trailing newline through and refuses every leap second: it is given ours instead.
    bare = FormatChecker(formats=["email"])
    assert "date-time" not in bare.checkers
    checker = schemas._format_checker(bare)
    assert checker.conforms("2024-05-01T12:34:56Z", "date-time")
    assert checker.conforms("1998-12-31T23:59:60Z", "date-time")
    assert not checker.conforms("2024-05-01T12:34:56Z\n", "date-time")
    assert not checker.conforms("2024-05-01", "date-time")
    assert checker.conforms("someone@example.com", "email")
    assert "date-time" not in bare.checkers  # the draft's own checker is left alone
    assert _found(validate("session", _session(created_at="x"))) == [("$.created_at", "format")]
