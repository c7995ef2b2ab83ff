"""The `hl-testkit` command line, run in-process and as the installed script."""

from __future__ import annotations

import io
import subprocess
import sys
from contextlib import redirect_stdout

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
