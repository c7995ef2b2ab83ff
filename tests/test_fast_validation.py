"""The compiled fast path (jsonschema-rs) answers exactly as jsonschema's full report.

`SchemaSet.check()` asks the compiled validator "valid?" and builds the
detailed report with jsonschema only when the answer is no. That is right only
if the two never disagree, so this module proves it over a corpus: every
schema's examples, every leaf of them replaced by each JSON type or deleted,
extra fields, and the hand-picked cases (bad ids, bad dates, negative counts,
nulls, nested records). `date-time` is checked by both, with the same rules:
fuzzed against jsonschema-rs's own checker.
"""

from __future__ import annotations

import copy
import importlib
import importlib.metadata
import random
from collections.abc import Iterator
from typing import Any

import pytest

from hl_testkit.contract import schemas
from hl_testkit.contract.schemas import SCHEMA_NAMES, SchemaSet, is_date_time

rs = pytest.importorskip("jsonschema_rs")

_DELETE = object()
_REPLACEMENTS: tuple[Any, ...] = (None, 0, -1, 1.5, True, "", "x", [], {}, [None], {"a": 1})


def _session(n: int = 1, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"sesh_{n:06x}",
        "projects": [{"id": "pr_demo", "name": "Demo"}, {"id": "pr_b-2_x", "name": ""}],
        "datapoints_count": 3,
        "created_at": "2024-05-01T12:34:56.789Z",
        "reference_id": f"conversation-{n}",
        "first_inputs": {"question": "How?"},
        "last_output": "Like this.",
    }
    for key, value in changes.items():
        if value is _DELETE:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def _page(records: list[Any], **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"records": records, "page": 1, "size": len(records), "total": 250}
    body.update(changes)
    return body


_VALID: dict[str, list[Any]] = {
    "session": [
        _session(),
        _session(reference_id=None, first_inputs=None, last_output=None),
        _session(reference_id=_DELETE, first_inputs=_DELETE, last_output=_DELETE),
        _session(projects=[], datapoints_count=0),
        _session(extra_field={"nested": [1, 2]}, another=None),  # extra fields are allowed
    ],
    "session_created": [{"id": "sesh_1a2b3c"}, {"id": "sesh_x", "more": 1}],
    "session_page": [
        _page([_session(n) for n in range(3)]),
        _page([], total=0, size=0),
        _page([_session(n) for n in range(100)]),
    ],
    "validation_error": [
        {"detail": []},
        {"detail": [{"loc": ["query", "page"], "msg": "bad", "type": "value_error"}]},
        {"detail": [{"loc": [0, "x"], "msg": "m", "type": "t", "ctx": {"limit": 1}}]},
    ],
    "error": [{"detail": "Not Found"}, {"detail": {"any": "thing"}}],
}

_BAD_IDS = ("", "sesh_", "sesh", "ses_x", "SESH_x", "xsesh_x", "sesh_x\n", "sesh_x y", "sesh_é")
_BAD_DATES = (
    "",
    "not-a-date",
    "2024-05-01",
    "2024-05-01T12:34:56",
    "2024-05-01 12:34:56Z",
    "2024-13-01T00:00:00Z",
    "2024-02-30T00:00:00Z",
    "2023-02-29T00:00:00Z",
    "2024-05-01T24:00:00Z",
    "2024-05-01T12:60:00Z",
    "2024-05-01T12:34:61Z",
    "2024-05-01T23:58:60Z",
    "2024-05-01T12:34:56Z\n",
    " 2024-05-01T12:34:56Z",
    "2024-05-01T12:34:56.Z",
    "2024-05-01T12:34:56+24:00",
    "2024-05-01T12:34:56+0530",
    "2024-5-1T12:34:56Z",
)
_GOOD_DATES = (
    "2024-05-01T12:34:56Z",
    "2024-05-01t12:34:56z",
    "2024-05-01T12:34:56.123456789+05:30",
    "2024-05-01T12:34:56-00:00",
    "2024-02-29T00:00:00Z",
    "1998-12-31T23:59:60Z",
    "1998-12-31T15:59:60.123-08:00",
)


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into `value` (objects and arrays included)."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))


def _replaced(body: Any, path: tuple[Any, ...], new: Any) -> Any:
    body = copy.deepcopy(body)
    parent = body
    for step in path[:-1]:
        parent = parent[step]
    if new is _DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return body


def corpus() -> Iterator[tuple[str, Any]]:
    for name, bodies in _VALID.items():
        for body in bodies[:2]:  # mutate the smaller examples: a page of 100 would be 100x
            yield name, body
            for path in _leaves(body):
                if not path:
                    continue
                for new in (*_REPLACEMENTS, _DELETE):
                    yield name, _replaced(body, path, new)
            yield name, {**body, "unexpected": {"deep": [1, None]}}
        yield from ((name, body) for body in bodies[2:])
        yield from ((name, value) for value in _REPLACEMENTS)  # not even an object
    for bad in _BAD_IDS:
        yield "session", _session(id=bad)
        yield "session_created", {"id": bad}
        yield "session", _session(projects=[{"id": bad.replace("sesh", "pr"), "name": "n"}])
    for date in (*_BAD_DATES, *_GOOD_DATES):
        yield "session", _session(created_at=date)
    for count in (-1, -0.0, 0.0, 2.0, 2.5, 2**70, True, "3", None):
        yield "session", _session(datapoints_count=count)
        yield "session_page", _page([_session()], page=count)
    # nested: one bad record deep in a page, several bad ones, a bad nested project
    records: list[Any] = [_session(n) for n in range(100)]
    broken_ones: list[Any] = [_session(id=42), _session(created_at="2024-13-01T00:00:00Z"), None]
    for broken_one in [*broken_ones, "x"]:
        broken = list(records)
        broken[57] = broken_one
        yield "session_page", _page(broken)
    yield "session_page", _page([_session(datapoints_count=-1), _session(id="x"), _session()])
    yield "session_page", _page([_session(projects=[{"id": "pr_x"}])])


def _is_compiled(check: Any) -> bool:
    return type(getattr(check, "__self__", None)).__module__.startswith("jsonschema_rs")


def test_the_built_in_schemas_are_answered_by_the_compiled_validator() -> None:
    default = SchemaSet.default()
    for name in SCHEMA_NAMES:
        default.is_valid(name, {})
        assert _is_compiled(default._compiled.checks[name]), name


def test_fast_yes_no_agrees_with_the_full_report() -> None:
    default = SchemaSet.default()
    valid = invalid = 0
    for name, body in corpus():
        report = default.validate(name, body)  # jsonschema, every violation
        fast = default.is_valid(name, body)  # jsonschema-rs
        assert fast is (report == []), (name, body, report)
        assert default.check(name, body) == report, (name, body)
        valid += fast
        invalid += not fast
    assert valid >= 40
    assert invalid >= 500


def test_an_invalid_body_gets_every_violation_with_its_path() -> None:
    body = _page(
        [_session(0), _session(1, id="x", datapoints_count=-2), _session(2, created_at="no")],
        page=0,
    )
    found = [(v.path, v.keyword) for v in SchemaSet.default().check("session_page", body)]
    assert found == [("$.records[1].id", "pattern"), ("$.records[2].created_at", "format")]
    strict = SchemaSet.default("strict")
    assert [(v.path, v.keyword) for v in strict.check("session_page", body)] == [
        ("$.page", "minimum"),
        ("$.records[1].datapoints_count", "minimum"),
        ("$.records[1].id", "pattern"),
        ("$.records[2].created_at", "format"),
    ]


def test_without_jsonschema_rs_jsonschema_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schemas, "_rs", lambda: None)
    fallback = SchemaSet({name: schemas.load_schema(name) for name in SCHEMA_NAMES})
    for name, body in corpus():
        assert fallback.is_valid(name, body) is (fallback.validate(name, body) == [])
    for name in SCHEMA_NAMES:
        assert not _is_compiled(fallback._compiled.checks[name])


def test_a_schema_with_an_unproven_format_is_answered_by_jsonschema() -> None:
    custom = SchemaSet(
        {
            "mail": {"type": "string", "format": "email"},
            "when": {"type": "string", "format": "date-time"},
        },
        routes=(),
    )
    assert custom.is_valid("mail", "someone@example.com")
    assert not custom.is_valid("mail", "nobody")
    assert not _is_compiled(custom._compiled.checks["mail"])
    assert not custom.is_valid("when", "2024-05-01")
    assert _is_compiled(custom._compiled.checks["when"])


def test_a_users_schema_set_resolves_refs_offline_in_the_compiled_validator() -> None:
    custom = SchemaSet.with_extra(None, [schemas.Route.parse("GET /x 200 session_page")])
    assert custom.is_valid("session_page", _page([_session()]))
    assert not custom.is_valid("session_page", _page([_session(id="x")]))
    assert _is_compiled(custom._compiled.checks["session_page"])


# -- date-time: ours (given to jsonschema) and jsonschema-rs's, fuzzed ------------------------


def _date_times(count: int, seed: int = 20240501) -> Iterator[str]:
    """Valid-looking date-times and near misses: digits, separators and lengths changed."""
    rng = random.Random(seed)
    alphabet = "0123456789-:TtZz+.,_ \n"
    for _ in range(count):
        text = (
            f"{rng.randint(0, 9999):04d}-{rng.randint(0, 13):02d}-{rng.randint(0, 32):02d}"
            f"{rng.choice('Tt ')}{rng.randint(0, 24):02d}:{rng.randint(0, 60):02d}:"
            f"{rng.choice([rng.randint(0, 61), 59, 60]):02d}"
            f"{rng.choice(['', '.', '.5', '.123456', '.' + '9' * rng.randint(1, 12)])}"
            f"{rng.choice(['Z', 'z', '', '+00:00', '-08:00', '+23:59', '+24:00', '+05:60'])}"
        )
        if rng.random() < 0.3:  # a leap second at the one minute it is allowed (in UTC)
            text = text[:11] + "23:59:60" + text[19:]
        for _ in range(rng.choice([0, 0, 1, 2])):
            where = rng.randrange(len(text) + 1)
            action = rng.random()
            if action < 0.4:
                text = text[:where] + rng.choice(alphabet) + text[where:]
            elif action < 0.7:
                text = text[:where] + text[where + 1 :]
            else:
                text = text[:where] + rng.choice(alphabet) + text[where + 1 :]
        yield text


def _rs_version() -> tuple[int, ...]:
    return tuple(int(part) for part in importlib.metadata.version("jsonschema-rs").split(".")[:2])


def test_date_time_agrees_with_jsonschema_rs() -> None:
    # An independent oracle for our RFC 3339 reading (the strict profile's date-time).
    # jsonschema-rs < 0.61 (what schemathesis 4.32 allows) takes malformed times and years
    # ("18:3,:59", "455--09-12"): there it must only never refuse what we accept. Its own
    # checker is not used by hl-testkit either way: the compiled validator is given ours.
    checker = rs.validator_for({"type": "string", "format": "date-time"}, validate_formats=True)
    exact = _rs_version() >= (0, 61)
    samples = [*_BAD_DATES, *_GOOD_DATES, *_date_times(20_000)]
    accepted = 0
    for text in samples:
        if exact or is_date_time(text):
            assert is_date_time(text) is checker.is_valid(text), repr(text)
        accepted += is_date_time(text)
    assert 1_000 < accepted < len(samples) - 1_000  # both kinds, plenty of each


@pytest.mark.parametrize("profile", ["default", "strict"])
def test_the_compiled_date_time_is_ours_whatever_the_jsonschema_rs_version(profile: str) -> None:
    schema_set = SchemaSet({"when": {"format": "date-time"}}, routes=(), profile=profile)
    ours = schemas.DATE_TIME_CHECKS[profile]
    check = schema_set._compiled.check_function("when", {"format": "date-time"})
    assert _is_compiled(check)
    for text in [*_BAD_DATES, *_GOOD_DATES, *_date_times(5_000, seed=7)]:
        assert check(text) is ours(text) is (schema_set.validate("when", text) == []), repr(text)


@pytest.mark.parametrize("text", _GOOD_DATES)
def test_good_date_times(text: str) -> None:
    assert is_date_time(text)


@pytest.mark.parametrize("text", _BAD_DATES)
def test_bad_date_times(text: str) -> None:
    assert not is_date_time(text)


def test_date_time_applies_to_strings_only() -> None:
    assert is_date_time(1714566896)
    assert is_date_time(None)


def test_a_jsonschema_rs_that_does_not_take_our_date_time_check_is_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Lenient:  # ignores `formats=`: its own date-time would answer (0.60 took "18:3,:59")
        def is_valid(self, value: Any) -> bool:
            return True

    fake = type("jsonschema_rs", (), {"validator_for": staticmethod(lambda *a, **k: Lenient())})
    real_import = importlib.import_module
    monkeypatch.setattr(
        importlib,
        "import_module",
        lambda name: fake if name == "jsonschema_rs" else real_import(name),
    )
    schemas._rs.cache_clear()
    try:
        assert schemas._rs() is None
        fallback = SchemaSet({"when": {"type": "string", "format": "date-time"}}, routes=())
        assert not fallback.is_valid("when", "2024-05-01T18:3,:59Z")
        assert not _is_compiled(fallback._compiled.checks["when"])
    finally:
        monkeypatch.undo()
        schemas._rs.cache_clear()
    assert schemas._rs() is rs


_PATTERN_EDGES = [
    "2024-01-28T23:59:59.123456Z",
    "2024-01-28t00:00:00z",
    "2024-01-28T00:00:00+23:59",
    "2024-01-28T00:00:00+24:00",
    "2024-01-28T00:00:00-00:60",
    "2024-02-29T00:00:00Z",
    "2023-02-29T00:00:00Z",
    "2024-04-31T00:00:00Z",
    "2024-01-28T23:59:60Z",
    "2024-12-31T23:59:60Z",
    "0000-01-01T00:00:00Z",
    "2024-01-28T00:00:00Z\n",
    "\uff12\uff10\uff12\uff14-01-28T00:00:00Z",  # full-width digits
    "2024-01-28T00:00:00",
    "2024-01-28 00:00:00Z",
    "2024-01-28T00:00:00.Z",
    "2024-00-10T00:00:00Z",
    "2024-13-10T00:00:00Z",
    "2024-01-00T00:00:00Z",
]


@pytest.mark.parametrize("profile", ["default", "strict"])
@pytest.mark.parametrize("text", _PATTERN_EDGES)
def test_the_native_date_time_pattern_agrees_at_its_edges(profile: str, text: str) -> None:
    # jsonschema-rs answers common RFC 3339 dates with a pattern before calling ours.
    schema_set = SchemaSet({"when": {"format": "date-time"}}, routes=(), profile=profile)
    check = schema_set._compiled.check_function("when", {"format": "date-time"})
    assert check(text) is schemas.DATE_TIME_CHECKS[profile](text), repr(text)


def test_common_date_times_need_no_call_back_into_python(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []

    def counting(value: object) -> bool:
        calls.append(value)
        return schemas.is_iso_date_time(value)

    monkeypatch.setitem(schemas.DATE_TIME_CHECKS, "default", counting)
    schema_set = SchemaSet({"when": {"format": "date-time"}}, routes=(), profile="default")
    check = schema_set._compiled.check_function("when", {"format": "date-time"})
    assert _is_compiled(check)
    assert check("2024-01-28T12:34:56.5Z")
    assert calls == []
    assert check("2024-01-31T12:34:56")  # naive, and a day the pattern leaves to us
    assert calls == ["2024-01-31T12:34:56"]
    assert not check("2024-02-30T00:00:00Z")


# -- the compiled schema: refs inlined where that keeps the answer -----------------------------


@pytest.mark.parametrize("profile", ["default", "strict"])
def test_the_built_in_schemas_are_compiled_with_their_refs_inlined(profile: str) -> None:
    schema_set = SchemaSet.default(profile)
    for name in SCHEMA_NAMES:
        fast = schemas._fast_schema(schema_set.schema(name), schema_set._compiled.fast_resources)
        assert fast is not None, name
        assert not schemas._has_ref(fast[0]), name
    page, _ = schemas._fast_schema(
        schema_set.schema("session_page"), schema_set._compiled.fast_resources
    ) or ({}, None)
    record = page["properties"]["records"]["items"]
    assert record["properties"]["id"] == schema_set.schema("session")["properties"]["id"]


def test_the_strict_yes_no_agrees_with_the_strict_report() -> None:
    strict = SchemaSet.default("strict")
    valid = invalid = 0
    for name, body in corpus():
        report = strict.validate(name, body)
        assert strict.is_valid(name, body) is (report == []), (name, body, report)
        valid += report == []
        invalid += report != []
    assert valid >= 30
    assert invalid >= 500


_NOT_INLINED: dict[str, tuple[dict[str, Any], list[Any]]] = {
    # dereference replaces the node by its target: the sibling minLength would be lost
    "a ref with an assertion beside it": (
        {
            "outer": {
                "properties": {"p": {"$ref": "inner.json", "properties": {"a": {"minLength": 2}}}}
            },
            "inner": {"properties": {"a": {"type": "string"}}},
        },
        [{"p": {"a": "x"}}, {"p": {"a": "xy"}}, {"p": {"a": 1}}, {"p": {}}],
    ),
    # the cycle is left as "#/$defs/R", which, moved into outer.json, would point to its R
    "a cycle through another file": (
        {
            "outer": {
                "properties": {"p": {"$ref": "inner.json#/$defs/R"}},
                "$defs": {"R": {"type": "string"}},
            },
            "inner": {
                "$defs": {
                    "R": {
                        "type": "object",
                        "properties": {"v": {"type": "integer"}, "next": {"$ref": "#/$defs/R"}},
                    }
                }
            },
        },
        [{"p": {"next": {"v": 1}}}, {"p": {"next": {"next": {"v": "x"}}}}, {"p": 3}],
    ),
    "a dynamic ref": (  # its target depends on the path taken: left to the registry
        {
            "outer": {
                "$dynamicAnchor": "node",
                "properties": {"v": {"type": "integer"}, "kid": {"$dynamicRef": "#node"}},
            },
            "inner": {"type": "string"},
        },
        [{"kid": {"kid": {"v": 1}}}, {"kid": {"kid": {"v": "x"}}}],
    ),
}


@pytest.mark.parametrize("case", sorted(_NOT_INLINED))
def test_refs_that_inlining_would_change_are_resolved_by_the_registry(case: str) -> None:
    files, bodies = _NOT_INLINED[case]
    custom = SchemaSet(files, routes=())
    fast = schemas._fast_schema(custom.schema("outer"), custom._compiled.fast_resources)
    assert fast is not None
    assert fast[0] == schemas._native_first(custom.schema("outer"))  # as written: not inlined
    answers = set()
    for body in bodies:
        answer = custom.is_valid("outer", body)
        assert answer is (custom.validate("outer", body) == []), (case, body)
        answers.add(answer)
    assert answers == {True, False}  # the bodies tell a lost assertion apart


def test_plain_refs_across_files_are_inlined_and_agree() -> None:
    custom = SchemaSet(
        {
            "outer": {"properties": {"p": {"$ref": "inner.json#/$defs/X", "description": "d"}}},
            "inner": {
                "$defs": {
                    "X": {"properties": {"n": {"$ref": "#/$defs/Y"}}},
                    "Y": {"type": "integer"},
                }
            },
        },
        routes=(),
    )
    fast = schemas._fast_schema(custom.schema("outer"), custom._compiled.fast_resources)
    assert fast is not None
    assert not schemas._has_ref(fast[0])
    for body, valid in (({"p": {"n": 1}}, True), ({"p": {"n": "1"}}, False), ({}, True)):
        assert custom.is_valid("outer", body) is valid is (custom.validate("outer", body) == [])


def test_a_date_time_beside_an_any_of_keeps_both() -> None:
    schema = {"anyOf": [{"type": "string", "minLength": 25}, {"type": "integer"}]}
    custom = SchemaSet({"when": {**schema, "format": "date-time"}}, routes=())
    for value in (
        "2024-05-01T12:34:56.789Z",
        "2024-05-01T12:34:56.7890Z",
        "2024-05-31T12:34:56",
        7,
        None,
    ):
        assert custom.is_valid("when", value) is (custom.validate("when", value) == []), value
    assert not custom.is_valid("when", "2024-05-01T12:34:56Z")  # a date, too short
    assert custom.is_valid("when", "2024-05-01T12:34:56.789012Z")


def test_data_that_looks_like_a_schema_is_not_rewritten() -> None:
    # `enum` and `const` hold data: a `format` key in them is not a format to check
    custom = SchemaSet(
        {"x": {"enum": [{"format": "date-time"}]}, "y": {"const": {"$ref": "x.json"}}}, routes=()
    )
    assert custom.is_valid("x", {"format": "date-time"})
    assert not custom.is_valid("x", "2024-05-01T12:34:56Z")
    assert custom.is_valid("y", {"$ref": "x.json"})
    assert _is_compiled(custom._compiled.checks["x"])


def test_a_schema_set_mixing_drafts_is_answered_by_jsonschema() -> None:
    # Into a file without `$schema`, jsonschema keeps the referring draft (07: no prefixItems),
    # jsonschema-rs takes 2020-12: the compiled answer would differ on [1].
    custom = SchemaSet(
        {
            "outer": {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "properties": {"p": {"$ref": "inner.json"}},
            },
            "inner": {"prefixItems": [{"type": "string"}]},
        },
        routes=(),
    )
    for body in ({"p": ["x"]}, {"p": [1]}, {"p": 1}):
        assert custom.is_valid("outer", body) is (custom.validate("outer", body) == []), body
    assert not _is_compiled(custom._compiled.checks["outer"])
