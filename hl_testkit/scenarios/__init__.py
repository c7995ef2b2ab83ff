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

import fnmatch
from pathlib import Path

import pytest

DEFAULT_GLOB = "test_*.hl.yaml"


def add_options(parser: pytest.Parser) -> None:
    parser.addini(
        "hl_scenario_glob",
        f"file name patterns of hl-testkit scenario files (default: {DEFAULT_GLOB})",
        type="args",
        default=[DEFAULT_GLOB],
    )


def collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    patterns = parent.config.getini("hl_scenario_glob")
    if not any(fnmatch.fnmatch(file_path.name, pattern) for pattern in patterns):
        return None
    # Imported on the first scenario file only: a run without any pays nothing.
    from hl_testkit.scenarios.nodes import ScenarioFile

    return ScenarioFile.from_parent(parent, path=file_path)


__all__ = ["DEFAULT_GLOB", "add_options", "collect_file"]
