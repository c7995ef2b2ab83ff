"""The example project replays as shipped, and the CI recipe names real commands."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from hl_testkit.cli.main import build_parser
from hl_testkit.contract.check import check_paths
from hl_testkit.secrets.scan import scan_paths

REPO = Path(__file__).resolve().parent.parent
PROJECT = REPO / "examples" / "project"


def test_example_project_replays_offline() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        env={"PATH": str(Path(sys.executable).parent)},  # no key, no base URL
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 passed" in result.stdout
    assert "0 recorded; 0 miss(es)" in result.stdout


def test_example_cassettes_are_valid_and_clean() -> None:
    assert check_paths([PROJECT / "cassettes"]).exit_code == 0
    assert scan_paths([PROJECT / "cassettes"], {}) == []


def _runs(workflow: dict[str, Any]) -> list[str]:
    return [
        step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step
    ]


def test_ci_recipe_commands_exist() -> None:
    workflow = yaml.safe_load((REPO / "examples" / "ci" / "github-actions.yml").read_text())
    runs = _runs(workflow)
    assert any("--hl-record-mode=rewrite" in r for r in runs)  # the scheduled re-record job
    replay = workflow["jobs"]["replay"]
    assert "HUMANLOOP_API_KEY" not in str(replay)  # the replay job holds no secret
    for command in runs:
        words = shlex.split(command.split(">", 1)[0])
        if words[0] == "hl-testkit":
            build_parser().parse_args(words[1:])
        elif words[0] == "pytest":
            options = [w for w in words[1:] if w.startswith("--hl-")]
            result = subprocess.run(
                [sys.executable, "-m", "pytest", "--collect-only", "-q", *options, "tests/"],
                cwd=REPO,
                capture_output=True,
                text=True,
            )
            assert result.returncode == 0, (command, result.stdout + result.stderr)
