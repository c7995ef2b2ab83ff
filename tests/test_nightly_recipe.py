"""examples/ci/nightly-rerecord.yml: its hl-testkit steps run as written (in a
scratch git repository holding this repo's cassettes, re-recorded by hand);
its live step is parsed by the real plugin, not run; the key stays in the
steps that need it."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
RECIPE = REPO / "examples" / "ci" / "nightly-rerecord.yml"
BIN = Path(sys.executable).parent
FAKE_KEY = "hl_sk_nightly_recipe_test_0123456789"
PAGE = "cassettes/tests/test_recorded_sessions/test_list_every_page.yaml"
GET = "cassettes/tests/test_recorded_sessions/test_get_seeded_session.yaml"


def _steps() -> list[dict[str, Any]]:
    workflow = yaml.safe_load(RECIPE.read_text(encoding="utf-8"))
    steps: list[dict[str, Any]] = workflow["jobs"]["rerecord"]["steps"]
    return steps


def _named(name: str) -> dict[str, Any]:
    return next(step for step in _steps() if step.get("name") == name)


def test_the_recipe_runs_nightly_and_keeps_the_key_to_two_steps() -> None:
    workflow = yaml.safe_load(RECIPE.read_text(encoding="utf-8"))
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["schedule"][0]["cron"]
    assert "workflow_dispatch" in triggers
    steps = _steps()
    with_key = [s.get("name") for s in steps if "HUMANLOOP_API_KEY" in str(s)]
    assert with_key == ["Re-record against the live API", "No secret in the cassettes"]
    for name in with_key:
        assert _named(name)["env"] == {"HUMANLOOP_API_KEY": "${{ secrets.HUMANLOOP_API_KEY }}"}
    record = _named("Re-record against the live API")
    assert record["continue-on-error"] is True  # the diff and the PR still happen
    pr = _named("Offer the new cassettes for review")
    assert pr["uses"].startswith("peter-evans/create-pull-request@")
    assert (pr["with"]["add-paths"], pr["with"]["body-path"]) == ("cassettes/", "drift.md")
    order = [s.get("name") for s in steps]
    assert order.index("No secret in the cassettes") < order.index(pr["name"])
    assert order.index(pr["name"]) < order.index("Fail on schema violations")
    assert _named("Fail when recording failed")["if"] == "steps.record.outcome == 'failure'"


def test_the_live_step_is_parsed_by_the_real_plugin() -> None:
    words = shlex.split(_named("Re-record against the live API")["run"])
    assert words[0] == "pytest"
    assert "--hl-record-mode=rewrite" in words
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *words[1:], "tests/"],
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if k != "HUMANLOOP_API_KEY"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _git(cwd: Path, *args: str) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(cwd),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "ci",
        "GIT_AUTHOR_EMAIL": "ci@example.invalid",
        "GIT_COMMITTER_NAME": "ci",
        "GIT_COMMITTER_EMAIL": "ci@example.invalid",
    }
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def _run_step(step: dict[str, Any], cwd: Path, summary: Path) -> int:
    """Run a step's shell as GitHub does (bash -e, pipefail), secrets replaced by a fake."""
    env = {
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(cwd),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    for name, value in step.get("env", {}).items():
        env[name] = re.sub(r"\$\{\{ secrets\.\w+ \}\}", FAKE_KEY, value)
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    return result.returncode


def _local_steps() -> list[dict[str, Any]]:
    """The steps this test runs: those whose commands are hl-testkit's."""
    local = []
    for step in _steps():
        if "run" not in step or "if" in step:
            continue
        first = shlex.split(step["run"].splitlines()[0])[0]
        if first == "hl-testkit":
            local.append(step)
        else:
            assert first in ("pip", "pytest"), f"teach this test about {step['run']!r}"
    return local


@pytest.fixture
def rerecorded(tmp_path: Path) -> Path:
    """A repository with this repo's cassettes committed, then "re-recorded": one
    answer now differs."""
    shutil.copytree(REPO / "cassettes", tmp_path / "cassettes")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "cassettes")
    page = tmp_path / PAGE
    page.write_text(page.read_text().replace("total: 23", "total: 24", 1), encoding="utf-8")
    return tmp_path


def test_the_recipe_writes_the_diff_to_the_job_summary(rerecorded: Path) -> None:
    summary = rerecorded / "summary.md"
    summary.write_text("", encoding="utf-8")
    steps = _local_steps()
    assert [s["name"] for s in steps] == [
        "No secret in the cassettes",
        "What changed in the API",
        "Fail on schema violations",
    ]
    for step in steps:
        assert _run_step(step, rerecorded, summary) == 0, step["run"]
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("### hl-testkit diff\n")
    assert "(old: `HEAD`, new: `working tree`)" in text
    assert f"| `{PAGE}` | #0 `GET /sessions?page=1&project_id=pr_demo&size=10 -> 200` |" in text
    assert "| value changed | `body.total` | `23` | `24` |" in text
    assert (rerecorded / "drift.md").read_text(encoding="utf-8") == text  # the PR's description


def test_the_recipe_fails_on_a_schema_violation(rerecorded: Path) -> None:
    get = rerecorded / GET
    text = get.read_text(encoding="utf-8")
    assert "created_at: '2024-01-01T00:00:00Z'" in text
    broken = text.replace("created_at: '2024-01-01T00:00:00Z'", "created_at: yesterday")
    get.write_text(broken, encoding="utf-8")
    summary = rerecorded / "summary.md"
    codes = {s["name"]: _run_step(s, rerecorded, summary) for s in _local_steps()}
    assert codes == {
        "No secret in the cassettes": 0,
        "What changed in the API": 0,
        "Fail on schema violations": 1,
    }
    text = summary.read_text(encoding="utf-8")
    assert "A new body breaks its JSON Schema: the API changed shape." in text
    assert "| schema violation: 'yesterday' is not a 'date-time'" in text
