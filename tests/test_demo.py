"""`hl-testkit demo` when a phase fails: the real error in whole lines, the files kept."""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hl_testkit.cli import demo


def _closed_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("on_ci", [False, True], ids=["terminal", "CI"])
def test_a_failed_run_shows_the_real_error_in_whole_lines(tmp_path: Path, on_ci: bool) -> None:
    # As when the stand-in cannot be reached: a refused loopback connection. On CI
    # (CI set) pytest prints the summary line whole; elsewhere it cuts it to the width.
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "BUILD_NUMBER")}
    env.update({"CI": "true"} if on_ci else {"COLUMNS": "80"})
    port = _closed_loopback_port()
    (tmp_path / "test_down.py").write_text(
        textwrap.dedent(
            f"""
            import requests

            def test_down():
                requests.get("http://127.0.0.1:{port}/v4/sessions", timeout=5)
            """
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert result.returncode == 1
    detail = demo.failure_detail(result.stdout, result.stderr)
    shown = [line.removeprefix("    ") for line in detail.splitlines()]
    output = result.stdout.splitlines()
    for line in shown:  # nothing cut mid-line
        assert (
            line in output
            or any(o.startswith(f"{line} - ") for o in output)
            or re.fullmatch(r"\(\d+ more line\(s\) of pytest's output left out\)", line)
        ), line
    assert any(
        line.startswith("E ") and "ConnectionError" in line and "Connection refused" in line
        for line in shown
    ), detail
    if on_ci:
        assert shown[-2].startswith("FAILED test_down.py::test_down - ")
    else:
        assert shown[-2] == "FAILED test_down.py::test_down"  # its message is on the E lines


def test_a_failed_phase_keeps_the_project_and_names_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(demo, "_pytest", lambda root, *args, note="": (False, "1 failed"))
    out = io.StringIO()
    assert demo.run_demo(out) == 1
    text = out.getvalue()
    root = Path(re.findall(r"kept in (\S+) ", text)[0])
    try:
        assert root.is_dir()
        assert (root / "test_demo_sessions.py").is_file()
        assert text.splitlines()[-1] == (
            f"failed: record; the suite and its cassettes are kept in {root} "
            "(run `python -m pytest` there to see the whole output)"
        )
    finally:
        shutil.rmtree(root)
