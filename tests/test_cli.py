"""The `hl-testkit` command line, run in-process and as the installed script."""

from __future__ import annotations

import io
import json
import os
import pathlib
import shutil
import subprocess
import sys
from contextlib import redirect_stdout

import pytest

from hl_testkit.cli.main import main

REPO = pathlib.Path(__file__).resolve().parent.parent


def test_demo_records_replays_validates_and_scans() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        status = main(["demo"])
    text = out.getvalue()
    assert status == 0, text
    for phase in ("record ", "replay ", "validate ", "scan "):
        assert any(
            line.strip().startswith(f"{phase.strip()} ") and " ok " in line
            for line in text.splitlines()
        ), (phase, text)
    assert "6 recorded" in text
    assert "6 interaction(s) replayed" in text
    assert "6 of 6 bodies valid" in text
    assert "GET /sessions?project_id=pr_demo&page=0 → 422" in text
    assert text.rstrip().endswith("all phases held")
    first = text.splitlines()[0]
    assert first.endswith(" (a temporary directory, removed at the end)")
    root = pathlib.Path(first.removeprefix("hl-testkit demo in ").split(" (")[0])
    assert not root.exists()  # as the first line says


def test_installed_script_shows_help_with_every_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hl_testkit.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for command in ("serve", "demo"):
        assert command in result.stdout


def test_no_command_is_a_usage_error() -> None:
    assert main([]) == 2


def _run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        status = main(argv)
    return status, out.getvalue()


def test_ls_lists_the_project_cassettes_with_their_origin() -> None:
    status, text = _run(["ls", "cassettes/tests/test_recorded_sessions"])
    assert status == 0
    assert "test_list_every_page.yaml: 3 interaction(s); recorded against stand-in on 20" in text
    assert text.rstrip().endswith("11 cassette(s)")


def test_show_and_ls_speak_json() -> None:
    path = "cassettes/tests/test_recorded_sessions/test_list_every_page.yaml"
    status, text = _run(["show", "--format", "json", path])
    assert status == 0
    shown = json.loads(text)
    assert [i["status"] for i in shown["interactions"]] == [200, 200, 200]
    assert shown["interactions"][2]["uri"] == "/sessions?project_id=pr_demo&page=3&size=10"
    nodeid = "tests/test_recorded_sessions.py::test_list_every_page"
    assert {i["recorded_by"] for i in shown["interactions"]} == {nodeid}
    status, text = _run(["show", path])
    assert (
        f"  #2 GET /sessions?project_id=pr_demo&page=3&size=10 -> 200  (recorded by {nodeid})\n"
        in text
    )
    status, text = _run(["ls", "--format", "json", path])
    assert status == 0
    assert json.loads(text)[0]["path"] == path


def test_show_of_a_missing_file_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "cassettes/nope.yaml"]) == 2
    assert "nope.yaml" in capsys.readouterr().err


def test_scan_and_check_speak_json() -> None:
    status, text = _run(["scan", "--format", "json", "cassettes"])
    assert status == 0
    assert json.loads(text)["findings"] == []
    status, text = _run(["check", "--format", "json", "cassettes"])
    assert status == 0
    assert json.loads(text)["totals"]["invalid"] == 0


def _tree_with_one_corrupt_cassette(tmp_path: pathlib.Path) -> pathlib.Path:
    good = REPO / "cassettes/tests/test_recorded_sessions/test_list_every_page.yaml"
    shutil.copy(good, tmp_path / "test_good.yaml")
    (tmp_path / "test_bad.yaml").write_text("interactions: [unclosed\n", encoding="utf-8")
    return tmp_path


def _script(*args: str) -> subprocess.CompletedProcess[str]:
    """As on a terminal: stderr and stdout in one stream, in the order written."""
    return subprocess.run(
        [sys.executable, "-m", "hl_testkit.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
        # Buffered as a pipe is by default: the order must come from the program's flushes.
        env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
    )


def test_check_names_a_corrupt_cassette_above_the_summary_that_points_to_it(
    tmp_path: pathlib.Path,
) -> None:
    tree = _tree_with_one_corrupt_cassette(tmp_path)
    result = _script("check", str(tree))
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    [named] = [n for n, line in enumerate(lines) if line.startswith("hl-testkit check: cassette")]
    assert str(tree / "test_bad.yaml") in lines[named]
    assert lines[-1] == (
        "ERROR: 1 path(s) or cassette(s) could not be read (listed above, on stderr)"
    )
    assert named < len(lines) - 1


def test_ls_lists_the_readable_cassettes_and_names_the_corrupt_one(
    tmp_path: pathlib.Path,
) -> None:
    tree = _tree_with_one_corrupt_cassette(tmp_path)
    result = _script("ls", str(tree))
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"hl-testkit ls: cassette {tree / 'test_bad.yaml'}")
    assert lines[1].startswith(f"{tree / 'test_good.yaml'}: 3 interaction(s); recorded against")
    assert lines[2] == "1 cassette(s)"
    assert lines[3] == (
        "hl-testkit ls: 1 cassette(s) could not be read (named above); `hl-testkit show FILE` "
        "shows where, re-recording the test replaces the file"
    )
