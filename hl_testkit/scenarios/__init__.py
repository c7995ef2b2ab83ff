"""Scenario files: API tests written as YAML, collected by pytest.

A file named `test_*.hl.yaml` (ini `hl_scenario_glob`) holds scenarios of
calls to the sessions API (`create`, `get`, `list`) with expectations on each
response and values saved for later steps. Each scenario, or each row of its
`parametrize` table, is one pytest item with its own cassette, so record
modes, replay, scrubbing and schema checks work as for Python tests.

The rooms: `source` (safe YAML that keeps line numbers), `structure` (the
JSON Schema `schemas/scenario.json`, its errors as sentences), `loader`
(semantic checks → cases), `variables` (`{name}` interpolation, environment
values), `expect` (matching and saving, pure), `nodes` (the pytest File and
Item). Format reference: docs/scenarios.md.
"""

from __future__ import annotations

from hl_testkit.scenarios.nodes import (
    ScenarioFile,
    ScenarioItem,
    add_options,
    collect_file,
)

__all__ = ["ScenarioFile", "ScenarioItem", "add_options", "collect_file"]
