"""The suite's inner pytest runs leave out this venv's unrelated plugins (tests/other_plugins.py):
pytester's subprocess runs, their xdist workers, and the subprocesses tests start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CHECK = """
import sys


def test_alone(pytestconfig):
    assert "schemathesis" not in sys.modules
    assert not pytestconfig.pluginmanager.has_plugin("schemathesis")
    assert not pytestconfig.pluginmanager.has_plugin("recording")
    assert pytestconfig.pluginmanager.has_plugin("hl_testkit")  # entry points still load
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_pytester_subprocess_runs_leave_them_out(
    pytester: pytest.Pytester, workers: list[str]
) -> None:
    pytester.makepyfile(test_check=CHECK)
    pytester.runpytest_subprocess(*workers).assert_outcomes(passed=1)


def test_a_subprocess_of_a_test_leaves_them_out(tmp_path: Path) -> None:
    (tmp_path / "test_check.py").write_text(CHECK, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_check.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
