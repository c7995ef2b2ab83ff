"""The `hl-testkit` command line, run in-process and as the installed script."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from contextlib import redirect_stdout

import pytest

from hl_testkit.cli import main


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
