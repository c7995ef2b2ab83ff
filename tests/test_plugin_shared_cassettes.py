"""Record modes never lose data, shared cassettes included (issue 12).

Each interaction says which test recorded it (`recorded_by:`); every mode
replaces, replays and counts only a test's own. The matrix: every record mode,
serial and `-n 2`, full and partial (`-k`) selection, each run holding tests
with their own cassettes *and* tests sharing one (`hl_cassette(name=...)`).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from hl_testkit.recorder import RECORD_MODES

pytest.importorskip("xdist")

# Every test makes a request of its own (its page) and one all of them make (the
# same GET), so a shared cassette holds identical requests of different tests.
SHARED_TESTS = """
import os
import pytest

@pytest.mark.hl_cassette(name="shared")
@pytest.mark.parametrize("n", range(4))
def test_shared(sessions, n):
    assert sessions.list(project_id="pr_demo", page=n + 1, size=2).status == 200
    assert sessions.get(id="sesh_demo").status == 200
    if os.environ.get("HLT_EXTRA") == str(n):
        sessions.list(project_id="pr_demo", page=9, size=2)
"""
OWN_TESTS = SHARED_TESTS.replace('@pytest.mark.hl_cassette(name="shared")\n', "").replace(
    "test_shared", "test_own"
)
NODEIDS = [f"test_{kind}.py::test_{kind}[{n}]" for kind in ("shared", "own") for n in range(4)]
PARTIAL = "test_shared[1] or test_shared[2] or test_own[1] or test_own[2]"
SELECTED_BY_PARTIAL = {i for i in NODEIDS if i.endswith(("[1]", "[2]"))}
SHARED = Path("cassettes/test_shared/shared.yaml")


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HUMANLOOP_API_KEY", "HLT_EXTRA"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_shared=SHARED_TESTS, test_own=OWN_TESTS)
    return pytester


def by_test(root: Path) -> dict[str, list[dict[str, Any]]]:
    """Every cassette's interactions under `root`, grouped by the test that recorded them."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in sorted((root / "cassettes").rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for interaction in data["interactions"]:
            found[interaction.get("recorded_by", f"unattributed in {path.name}")].append(
                interaction
            )
    return dict(found)


def run(pytester: pytest.Pytester, *args: str, workers: str = "0") -> pytest.RunResult:
    if workers == "0":
        return pytester.runpytest(*args)
    return pytester.runpytest_subprocess("-n", workers, *args)


def summary_line(result: pytest.RunResult) -> str:
    lines = result.outlines
    for n, line in enumerate(lines):
        if line.startswith("-") and " hl-testkit " in line:
            return lines[n + 1]
    raise AssertionError(f"no hl-testkit summary in {lines}")


@pytest.mark.parametrize("selection", ["full", "partial"])
@pytest.mark.parametrize("workers", ["0", "2"], ids=["serial", "n2"])
@pytest.mark.parametrize("mode", RECORD_MODES)
def test_a_green_recording_run_loses_nothing(
    suite: pytest.Pytester, mode: str, workers: str, selection: str
) -> None:
    """The invariant: after a green recording run, the whole suite replays green
    (strictly: no test has unplayed interactions of its own), and every test
    that was not selected still has exactly what it recorded before."""
    run(suite, "--hl-record-mode=once").assert_outcomes(passed=8)
    before = by_test(suite.path)
    assert sorted(before) == sorted(NODEIDS)
    assert all(len(v) == 2 for v in before.values()), before

    # Every recorded list answer altered: a re-recorded one shows the real answer again.
    for path in (suite.path / "cassettes").rglob("*.yaml"):
        path.write_text(path.read_text(encoding="utf-8").replace("total: 23", "total: 999"))
    tampered = by_test(suite.path)
    assert tampered != before

    selected = set(NODEIDS) if selection == "full" else SELECTED_BY_PARTIAL
    k = ["-k", PARTIAL] if selection == "partial" else []
    recording = run(suite, f"--hl-record-mode={mode}", *k, workers=workers)
    # From a complete recording every mode is green: the invariant below is not vacuous.
    recording.assert_outcomes(passed=len(selected))
    # One shared cassette, counted once, whatever the number of tests (and workers) using it.
    used = 1 + len(selected) // 2
    assert summary_line(recording).startswith(f"{used} cassette(s) used, ")

    run(suite, "--hl-strict").assert_outcomes(passed=8)
    after = by_test(suite.path)
    assert sorted(after) == sorted(NODEIDS)
    for nodeid in set(NODEIDS) - selected:
        assert after[nodeid] == tampered[nodeid], nodeid
    for nodeid in selected:  # only rewrite and all send again what was recorded
        assert after[nodeid] == (before if mode in ("rewrite", "all") else tampered)[nodeid]


@pytest.mark.parametrize("workers", ["0", "2"], ids=["serial", "n2"])
def test_once_records_every_test_sharing_a_new_cassette(
    suite: pytest.Pytester, workers: str
) -> None:
    """Issue row 1: the first test creates the file; the others still record."""
    run(suite, "--hl-record-mode=once", "-k", "test_shared", workers=workers).assert_outcomes(
        passed=4
    )
    recorded = by_test(suite.path)
    assert sorted(recorded) == [i for i in sorted(NODEIDS) if "shared" in i]
    assert all(len(v) == 2 for v in recorded.values())
    # A second `once` run replays them all, records nothing and writes nothing.
    again = run(suite, "--hl-record-mode=once", "-k", "test_shared", "--hl-strict")
    again.assert_outcomes(passed=4)
    assert summary_line(again).startswith(
        "1 cassette(s) used, 0 written, 0 unchanged; 8 interaction(s) replayed, 0 recorded"
    )
