"""The `hl-testkit` command line, run in-process and as the installed script."""

from __future__ import annotations

import io
import subprocess
import sys
from contextlib import redirect_stdout

from hl_testkit.cli import main


def test_demo_calls_every_operation_and_validates_every_body() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        status = main(["demo"])
    text = out.getvalue()
    assert status == 0, text
    for expected in (
        "create()",
        "get(id='sesh_demo')",
        "list(page=3, size=10) → 3",
        "→ 422",
        "→ 404",
    ):
        assert expected in text
    assert "INVALID" not in text
    assert text.rstrip().endswith("all bodies valid")


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
