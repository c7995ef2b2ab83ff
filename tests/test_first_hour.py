"""docs/first-hour.md, followed step by step in a scratch project.

Its ```sh commands run in order (a command commented `# fails: …` must fail,
every other one must succeed); its ```python block is written where its first
line says; its ```text message blocks must be what the failing run printed.
The install line is the README's (installed for real by test_install_section.py),
and the live API step is only checked to parse (`--collect-only`: no key here).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests import other_plugins
from tests.test_docs_messages import quoted_in
from tests.test_install_section import install_commands

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "first-hour.md"
BIN = Path(sys.executable).parent


def steps() -> list[tuple[str, bool]]:
    """(command, expected to fail) for every command of the page, in order."""
    found = []
    text = DOC.read_text(encoding="utf-8")
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.splitlines():
            command, _, comment = line.partition("  #")
            if command.strip():
                found.append((command.strip(), comment.strip().startswith("fails")))
    return found


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUMANLOOP_", "HL_"))}
    env["PYTEST_ADDOPTS"] = other_plugins.addopts()  # not the outside one: only ours
    identity = {"GIT_AUTHOR_NAME": "First Hour", "GIT_AUTHOR_EMAIL": "first@example.invalid"}
    identity |= {"GIT_COMMITTER_NAME": "First Hour", "GIT_COMMITTER_EMAIL": "first@example.invalid"}
    return {**env, **identity, "PATH": f"{BIN}{os.pathsep}{env['PATH']}", **extra}


def _existing_project(root: Path) -> Path:
    """A project before hl-testkit: a pytest.ini, one test of its own, a git repository."""
    (root / "tests").mkdir(parents=True)
    (root / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n", encoding="utf-8")
    (root / "tests" / "test_own.py").write_text("def test_own():\n    pass\n", encoding="utf-8")
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "The project"]):
        subprocess.run(["git", *args], cwd=root, env=_env(), check=True, capture_output=True)
    return root


def _run(command: str, project: Path) -> subprocess.CompletedProcess[str]:
    words = shlex.split(command)
    env: dict[str, str] = {}
    while re.fullmatch(r"[A-Z_]+=\S*", words[0]):
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    if words[0] == "pytest":
        live = "HUMANLOOP_API_KEY" in env
        # -p no:cacheprovider: no .pytest_cache to commit; --collect-only: no key here.
        words = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *words[1:]]
        words += ["--collect-only"] if live else []
    return subprocess.run(
        words, cwd=project, env=_env(**env), capture_output=True, text=True, timeout=120
    )


def test_the_page_has_every_step() -> None:
    commands = [c for c, _ in steps()]
    assert commands[0] in install_commands()  # the README's line, installed elsewhere
    for needed in ("pytest --hl-record-mode=once", "git add cassettes tests", "pytest"):
        assert needed in commands
    assert any(c.startswith("HUMANLOOP_API_KEY=") and "rewrite" in c for c in commands)


def test_following_the_page_records_commits_and_replays_offline(tmp_path: Path) -> None:
    project = _existing_project(tmp_path / "project")
    text = DOC.read_text(encoding="utf-8")
    [test_file] = re.findall(r"```python\n# (\S+)\n(.*?)```", text, re.S)
    (project / test_file[0]).write_text(test_file[1], encoding="utf-8")
    messages = re.findall(r"```text message\n(.*?)```", text, re.S)
    assert messages
    for command, fails in steps()[1:]:
        done = _run(command, project)
        output = done.stdout + done.stderr
        assert (done.returncode != 0) == fails, f"{command}:\n{output}"
        if fails:
            for block in messages:
                assert quoted_in(block, output), f"{command} did not print:\n{block}\n{output}"
        if command == "pytest --hl-record-mode=once":
            assert "3 passed" in output
            written = sorted(p.name for p in (project / "cassettes").rglob("*.yaml"))
            assert written == [
                "test_a_new_session_is_empty.yaml",
                "test_an_unknown_session_is_404.yaml",
            ]
        if command == "pytest" and not fails:  # CI: replayed, nothing recorded
            assert "3 passed" in output
            assert "0 recorded; 0 miss(es)" in output
        if command.startswith("HUMANLOOP_API_KEY="):
            assert "record mode rewrite" in output
            assert "recording against the live API" in output, output
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True
    )
    assert status.stdout == ""  # everything the page made is committed
