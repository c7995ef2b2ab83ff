"""The README's install section, followed literally in a fresh venv outside the repo:
the wheel built by the documented command, installed with the documented line, runs the
example project's recorded tests offline. Also: the example's own install line resolves.

The wheel is built offline (`--no-build-isolation --no-index`: hatchling is in this
venv); installing its dependencies needs the package index pip is configured with,
and the test is skipped, saying so, when there is none.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parent.parent
PROJECT = REPO / "examples" / "project"
_NO_INDEX = re.compile(
    r"No matching distribution found|Could not find a version|NewConnectionError"
)


def install_commands() -> list[str]:
    """The commands of the ```sh blocks of README's "Install into your own project"."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Install into your own project\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    return [line.split("  #", 1)[0].strip() for block in blocks for line in block.splitlines()]


def _run(args: list[str], cwd: Path, timeout: int = 240) -> subprocess.CompletedProcess[str]:
    # No key, no base URL, no record mode from the outside: replay only.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUMANLOOP_", "HL_"))}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_the_section_names_git_a_local_path_and_a_wheel_each_with_the_sdk_extra() -> None:
    commands = install_commands()
    assert len(commands) == 4, commands
    git, local, build, wheel = (shlex.split(c) for c in commands)
    version = re.search(r'^version = "(.*)"', (REPO / "pyproject.toml").read_text(), re.M)
    assert version is not None
    for words in (git, local, wheel):
        assert words[:2] == ["pip", "install"]
    direct = Requirement(git[2])
    assert (direct.name, direct.extras) == ("hl-testkit", {"sdk"})
    assert direct.url is not None
    assert direct.url.startswith("git+https://")
    assert local[2].endswith("/hl-testkit[sdk]")
    assert build == ["python", "-m", "pip", "wheel", "--no-deps", "-w", "dist", "."]
    assert wheel[2] == f"dist/hl_testkit-{version.group(1)}-py3-none-any.whl[sdk]"


def test_a_fresh_venv_follows_the_section_and_replays_offline(tmp_path: Path) -> None:
    _, _, build, install = (shlex.split(c) for c in install_commands())
    # The documented build, run offline in the repo (the tail makes it need no index).
    built = _run(
        [
            sys.executable,
            *build[1:5],
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(tmp_path / "dist"),
            ".",
        ],
        cwd=REPO,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    project = tmp_path / "project"  # the user's project: outside the repo
    shutil.copytree(PROJECT, project)
    shutil.move(tmp_path / "dist", project / "dist")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path).check_returncode()
    python = str(venv / "bin" / "python")
    installed = _run([python, "-m", *install], cwd=project)  # pip install 'dist/...whl[sdk]'
    if installed.returncode != 0 and _NO_INDEX.search(installed.stderr):
        pytest.skip(f"pip cannot reach a package index here:\n{installed.stderr[-800:]}")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    result = _run([python, "-m", "pytest", "-p", "no:cacheprovider"], cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hl-testkit: record mode none (from default)" in result.stdout
    assert "7 passed" in result.stdout
    assert "0 recorded; 0 miss(es)" in result.stdout
    here = _run([python, "-c", "import hl_testkit, humanloop; print(hl_testkit.__file__)"], project)
    assert str(venv) in here.stdout, here.stdout + here.stderr  # the wheel, not this checkout


def test_the_example_projects_install_line_installs_this_checkout_with_the_sdk(
    tmp_path: Path,
) -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    [line] = [w for w in re.findall(r"^pip install .*$", readme, re.M)]
    words = shlex.split(line.split("  #", 1)[0])
    report = tmp_path / "report.json"
    # What pip would install from the example's folder, resolved without installing.
    resolved = _run(
        [
            sys.executable,
            "-m",
            *words[:2],
            "--dry-run",
            "--no-build-isolation",
            "--no-index",
            "--ignore-installed",
            "--no-deps",
            "--report",
            str(report),
            *words[2:],
        ],
        cwd=PROJECT,
    )
    assert resolved.returncode == 0, resolved.stdout + resolved.stderr
    [item] = json.loads(report.read_text())["install"]
    assert item["metadata"]["name"] == "hl-testkit"
    assert item["requested_extras"] == ["sdk"]
    assert Path(item["download_info"]["url"].removeprefix("file://")) == REPO
    sdk = [Requirement(r) for r in item["metadata"]["requires_dist"]]
    assert any(
        r.name == "humanloop" and r.marker is not None and r.marker.evaluate({"extra": "sdk"})
        for r in sdk
    )
