"""Every shell command in README.md and docs/*.md runs as written (or, where it
would record, serve forever or recurse into this suite, is checked to parse).

Commands are the non-comment lines of ```sh blocks. hl-testkit commands run
for real in a scratch copy of the repo's cassettes; pytest commands run with
`--collect-only`, so their options are parsed by the real plugin; make
targets are dry-run.
"""

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

from hl_testkit.cli.main import build_parser
from tests.test_install_section import install_commands

REPO = Path(__file__).resolve().parent.parent
# docs/first-hour.md's commands depend on each other: tests/test_first_hour.py runs them in order.
DOCS = [
    REPO / "README.md",
    *sorted(p for p in (REPO / "docs").glob("*.md") if p.name != "first-hour.md"),
]
BIN = Path(sys.executable).parent


def _commands() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for block in re.findall(r"```(?:sh|bash|shell)\n(.*?)```", text, re.S):
            for line in block.splitlines():
                command = line.split("  #", 1)[0].strip()
                if command and not command.startswith("#"):
                    found.append((doc.name, command))
    return found


COMMANDS = _commands()
INSTALL_COMMANDS = install_commands()


def test_the_docs_hold_commands() -> None:
    assert len(COMMANDS) >= 10
    assert any(c.startswith("make demo") for _, c in COMMANDS)


def _split(command: str) -> tuple[dict[str, str], list[str]]:
    words = shlex.split(command.split(">", 1)[0])
    env = {}
    while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    return env, words


@pytest.mark.parametrize(("doc", "command"), COMMANDS, ids=[c for _, c in COMMANDS])
def test_documented_command_runs(doc: str, command: str, tmp_path: Path) -> None:
    env, words = _split(command)
    tool, args = words[0], words[1:]
    if command in INSTALL_COMMANDS:  # run in a fresh venv by tests/test_install_section.py
        return
    if tool == "make":
        result = subprocess.run(["make", "-n", *args], cwd=REPO, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    elif tool == "pytest":
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "--collect-only",
                "-q",
                "-p",
                "no:cacheprovider",
                *args,
            ],
            cwd=REPO,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    elif tool == "hl-testkit":
        _run_hl_testkit(command, args, tmp_path)
    elif tool == "pip" and args[:2] == ["install", "-e"]:  # the extras it names exist
        pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
        for extra in re.findall(r"\[(.*?)\]", args[2])[0].split(","):
            assert re.search(rf"^{re.escape(extra)} = \[", pyproject, re.M), extra
    elif tool == "python" and args and args[0].startswith("bench/"):  # runs minutes: --help
        result = subprocess.run(
            [sys.executable, args[0], "--help"], cwd=REPO, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
    else:
        pytest.fail(f"{doc}: no check for the command {command!r}; teach this test about it")


def _run_hl_testkit(command: str, args: list[str], tmp_path: Path) -> None:
    parsed = build_parser().parse_args(args)  # options exist and take these values
    if parsed.command == "serve":
        return  # serves until stopped; tests/test_standin.py runs it for real
    shutil.copytree(REPO / "cassettes", tmp_path / "cassettes")
    if "--schema-dir" in args:
        schemas = tmp_path / args[args.index("--schema-dir") + 1]
        schemas.mkdir()
        (schemas / "project.json").write_text('{"type": "object"}', encoding="utf-8")
    if parsed.command == "diff":
        _diff_inputs(parsed, tmp_path)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _diff_inputs(parsed: Any, tmp_path: Path) -> None:
    """What `hl-testkit diff` compares: a git repository with the cassettes committed
    (for --git), a copy of them for a directory named as OLD; so no difference: exit 0."""
    git = ["git", "-c", "user.name=docs", "-c", "user.email=docs@example.invalid"]
    subprocess.run([*git, "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*git, "add", "."], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "cassettes"], cwd=tmp_path, check=True)
    for name in parsed.paths:
        if not (tmp_path / name).exists():
            shutil.copytree(tmp_path / "cassettes", tmp_path / name)
