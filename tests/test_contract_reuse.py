"""contract/ does each piece of work once, and gives exactly what it gave doing it again:
the strict twin of a set reuses its checked schemas and registry, `check_interaction`
hands its violations to `strict_drift`, and a body parsed once is checked as parsed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hl_testkit.cassettes.model import Interaction, RecordedRequest, RecordedResponse
from hl_testkit.contract import schemas
from hl_testkit.contract.check import check_interaction
from hl_testkit.contract.schemas import SCHEMA_NAMES, SchemaSet, Violation, load_schema
from tests.test_schemas import INVALID, STRICT_ONLY

#: (schema, body): valid ones, what only the strict profile refuses, what both refuse.
BODIES: list[tuple[str, Any]] = [
    *((name, body) for name, body, _, _ in STRICT_ONLY),
    *((name, body) for name, body, _, _ in INVALID),
    ("session", {"id": "sesh_1", "projects": [], "datapoints_count": 0,
                 "created_at": "2024-05-01T12:00:00Z", "extra": 1}),
]  # fmt: skip


def _in_code() -> SchemaSet:
    return SchemaSet({name: load_schema(name) for name in SCHEMA_NAMES})


def test_the_strict_twin_answers_as_the_strict_set_built_anew() -> None:
    twin = _in_code().strict_set()
    anew = SchemaSet({name: load_schema(name) for name in SCHEMA_NAMES}, profile="strict")
    assert twin.profile == anew.profile == "strict"
    assert twin.routes == anew.routes
    assert twin.names == anew.names
    for name, body in BODIES:
        assert twin.is_valid(name, body) == anew.is_valid(name, body), (name, body)
        assert twin.validate(name, body) == anew.validate(name, body), (name, body)
        assert twin.check(name, body) == anew.check(name, body), (name, body)
        assert twin.extra_properties(name, body) == anew.extra_properties(name, body)


def test_the_strict_twin_reads_checks_and_registers_nothing_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    default = _in_code()
    redone: list[str] = []
    for step in ("_with_id", "_registry_of", "_check_refs", "_fast_resources"):
        real = getattr(schemas, step)

        def again(*args: Any, _step: str = step, _real: Any = real) -> Any:
            redone.append(_step)
            return _real(*args)

        monkeypatch.setattr(schemas, step, again)
    twin = default.strict_set()
    twin.check("session", {"id": "sesh_1"})
    assert redone == []
    assert twin.registry is default.registry


def test_strict_drift_given_the_violations_is_what_it_finds_itself() -> None:
    default = SchemaSet.default()
    for name, body in BODIES:
        given = default.strict_drift(name, body, default.check(name, body))
        assert given == default.strict_drift(name, body), (name, body)


def _answer(body: Any) -> Interaction:
    return Interaction(
        RecordedRequest("GET", "https://api.humanloop.com/v4/sessions/sesh_1", {}, None),
        RecordedResponse(200, "OK", {}, json.dumps(body).encode()),
    )


@pytest.mark.parametrize(
    "body",
    [
        {"id": "sesh_1", "projects": [], "datapoints_count": -1, "created_at": "2024-05-01"},
        {"id": "sesh_1", "projects": [], "datapoints_count": -1},
        {"id": "sesh_1", "projects": [], "datapoints_count": 1, "created_at": "x", "more": 2},
    ],
)
def test_check_interaction_validates_a_body_once(
    monkeypatch: pytest.MonkeyPatch, body: dict[str, Any]
) -> None:
    default = SchemaSet.default()
    expected = check_interaction(Path("c.yaml"), 0, _answer(body), default)
    checked: list[Any] = []
    real = SchemaSet.check

    def counted(self: SchemaSet, name: str, value: Any) -> list[Violation]:
        if self is default:
            checked.append(value)
        return real(self, name, value)

    monkeypatch.setattr(SchemaSet, "check", counted)
    finding = check_interaction(Path("c.yaml"), 0, _answer(body), default)
    assert finding == expected
    assert finding is not None
    assert finding.drift  # the strict profile was asked
    assert checked == [body]
