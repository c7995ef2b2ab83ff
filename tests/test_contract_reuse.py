"""contract/ does each piece of work once, and gives exactly what it gave doing it again:
the strict twin of a set reuses its checked schemas and registry, `check_interaction`
hands its violations to `strict_drift`, and a body parsed once is checked as parsed."""

from __future__ import annotations

from typing import Any

import pytest

from hl_testkit.contract import schemas
from hl_testkit.contract.schemas import SCHEMA_NAMES, SchemaSet, load_schema
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
