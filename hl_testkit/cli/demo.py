"""`hl-testkit demo`: the whole loop on the embedded stand-in, in a few seconds.

It writes a small test suite into a temporary directory, records it against
the stand-in (scrubbing on), replays it with the network blocked, checks every
recorded body against its JSON Schema, scans the cassettes for secrets, and
reports what happened in each phase and how long it took.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from hl_testkit.cassettes import file as cassette_file

SUITE = '''\
"""A small suite against the sessions API, written by `hl-testkit demo`."""

import pytest

from hl_testkit import ApiException


def test_create_then_get(sessions):
    created = sessions.create()
    assert created.status == 201
    assert sessions.get(id=created.body["id"]).body["datapoints_count"] == 0


def test_list_every_page(sessions):
    sizes = [len(sessions.list(project_id="pr_demo", page=n, size=10).body["records"])
             for n in (1, 2, 3)]
    assert sizes == [10, 10, 3]


def test_page_zero_is_422(sessions):
    with pytest.raises(ApiException) as caught:
        sessions.list(project_id="pr_demo", page=0)
    assert caught.value.status == 422
'''


@dataclass
class Phase:
    name: str
    ok: bool
    seconds: float
    detail: str


def run_demo(out: TextIO, *, keep: Path | None = None) -> int:
    """Run the phases in a temporary project (or `keep`); 0 when every phase held.

    The temporary project is removed when every phase held, and kept (and named)
    when one failed, so that what went wrong can be looked at.
    """
    root = keep or Path(tempfile.mkdtemp(prefix="hl-testkit-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    (root / "test_demo_sessions.py").write_text(SUITE, encoding="utf-8")
    (root / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    removed = " (a temporary directory, removed at the end)" if keep is None else ""
    out.write(f"hl-testkit demo in {root}{removed}\n")
    phases: list[Phase] = []
    for name, step in (
        ("record", lambda: _pytest(root, "--hl-record-mode=once")),
        ("replay", lambda: _pytest(root, note="mode none, network blocked")),
        ("validate", lambda: _check(root)),
        ("scan", lambda: _scan(root)),
    ):
        phase = _timed(name, step)
        phases.append(phase)
        out.write(f"  {phase.name:<9} {'ok ' if phase.ok else 'FAIL'} {phase.seconds:6.2f} s  ")
        out.write(f"{phase.detail}\n")
        if not phase.ok:
            break
    failed = [p.name for p in phases if not p.ok]
    if not failed:
        out.write(_what_was_recorded(root / "cassettes"))
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)
        out.write("all phases held\n")
        return 0
    out.write(
        f"failed: {', '.join(failed)}; the suite and its cassettes are kept in {root} "
        f"(run `python -m pytest` there to see the whole output)\n"
    )
    return 1


def _timed(name: str, step: Callable[[], tuple[bool, str]]) -> Phase:
    started = time.perf_counter()
    ok, detail = step()
    return Phase(name, ok, time.perf_counter() - started, detail)


def _pytest(root: Path, *args: str, note: str = "") -> tuple[bool, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUMANLOOP_", "HL_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = result.stdout.splitlines()
    summary = next((line for line in lines if "cassette(s) used" in line), "")
    outcome = lines[-1].strip("= ") if lines else "no output"
    if result.returncode != 0:
        return False, f"{outcome}\n{failure_detail(result.stdout, result.stderr)}"
    return True, f"{outcome}{f' ({note})' if note else ''}; {summary}"


def failure_detail(stdout: str, stderr: str, limit: int = 40) -> str:
    """What a failed pytest run says about its failures, in whole lines, indented.

    From the failures section on (the error itself, not the last bytes of the
    output); when that is long, the lines that name errors, then the summary.
    """
    lines = stdout.splitlines()
    start = next(
        (n for n, line in enumerate(lines) if re.fullmatch(r"=+ (FAILURES|ERRORS) =+", line)), 0
    )
    shown = [line for line in [*lines[start:], *stderr.splitlines()] if line.strip()]
    if len(shown) > limit:
        naming = [_untruncated(line) for line in shown if line.startswith(_NAMING)]
        left_out = len(shown) - len(naming[:limit])
        shown = [*naming[:limit], f"({left_out} more line(s) of pytest's output left out)"]
    return "\n".join(f"    {line}" for line in shown)


def _untruncated(line: str) -> str:
    """pytest cuts a summary line's message to the terminal's width: show the test only
    (the message is on the `E ` lines)."""
    if line.startswith(("FAILED ", "ERROR ")) and line.endswith("..."):
        return line.split(" - ", 1)[0]
    return line


#: Lines of pytest's output that name what went wrong: exceptions, our messages, the summary.
_NAMING = ("E ", "hl-testkit", "FAILED ", "ERROR ", "ERROR:")


def _check(root: Path) -> tuple[bool, str]:
    from hl_testkit.contract.check import check_paths

    report = check_paths([root / "cassettes"])
    totals = report.totals()
    detail = f"{totals['valid']} of {totals['interactions']} bodies valid against their schemas"
    return report.exit_code == 0, detail


def _scan(root: Path) -> tuple[bool, str]:
    from hl_testkit.secrets.scan import run_scan
    from hl_testkit.standin import STANDIN_API_KEY

    # The stand-in's key stands in for a real one: it must not be on disk.
    env = {**os.environ, "HUMANLOOP_API_KEY": STANDIN_API_KEY}
    sink = io.StringIO()
    status = run_scan([str(root / "cassettes")], env, sink, sink)
    verdict = sink.getvalue().strip().splitlines()[-1].removeprefix("hl-testkit scan: ")
    return status == 0, f"the X-API-KEY sent on every request is nowhere on disk: {verdict}"


def _what_was_recorded(directory: Path) -> str:
    lines = []
    for path in sorted(directory.rglob("*.yaml")):
        data = cassette_file.read(path)
        calls = ", ".join(
            f"{i.request.method} {i.request.uri.split('/v4', 1)[-1]} → {i.response.status}"
            for i in (data.interactions if data else [])
        )
        lines.append(f"    {path.relative_to(directory)}: {calls}\n")
    return "  cassettes:\n" + "".join(lines)
