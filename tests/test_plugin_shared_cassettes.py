"""Record modes never lose data, shared cassettes included (issue 12).

Each interaction says which test recorded it (`recorded_by:`); every mode
replaces, replays and counts only a test's own. The matrix: every record mode,
serial and `-n 2`, full and partial (`-k`) selection, each run holding tests
with their own cassettes *and* tests sharing one (`hl_cassette(name=...)`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from hl_testkit.settings import RECORD_MODES

pytest.importorskip("xdist")

# Every test makes a request of its own (its page) and one all of them make (the
# same GET), so a shared cassette holds identical requests of different tests.
SHARED_TESTS = """
import os
import pytest

@pytest.mark.hl_cassette(name="shared")
@pytest.mark.parametrize("n", range(int(os.environ.get("HLT_COUNT", "4"))))
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
    outside = ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HUMANLOOP_API_KEY")
    for name in (*outside, "HLT_EXTRA", "HLT_COUNT"):
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
    written = used if mode in ("rewrite", "all") else 0  # every file was altered above
    assert summary_line(recording).startswith(
        f"{used} cassette(s) used, {written} written, 0 unchanged; "
    )

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


def test_strict_counts_a_tests_own_interactions_only(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HLT_EXTRA", "1")  # test_shared[1] also lists page 9
    run(suite, "--hl-record-mode=once").assert_outcomes(passed=8)
    monkeypatch.delenv("HLT_EXTRA")

    relaxed = run(suite)
    relaxed.assert_outcomes(passed=8)
    # Two stale interactions: test_shared[1]'s and test_own[1]'s, nobody else's.
    assert summary_line(relaxed).endswith("; 2 unused interaction(s)")
    strict = run(suite, "--hl-strict", "-k", "test_shared")
    strict.assert_outcomes(passed=4, errors=1)
    strict.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_shared[[]1[]]*",
            "*shared.yaml holds 1 interaction(s) this test did not play*",
        ]
    )
    # Not selected, never counted: the others' interactions are not "unplayed".
    run(suite, "--hl-strict", "-k", "test_shared[0] or test_shared[2]").assert_outcomes(passed=2)


def test_a_request_only_another_test_recorded_is_a_miss_naming_it(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HLT_EXTRA", "1")
    run(suite, "--hl-record-mode=once", "-k", "test_shared").assert_outcomes(passed=4)
    monkeypatch.setenv("HLT_EXTRA", "2")
    result = run(suite, "-k", "test_shared")
    result.assert_outcomes(passed=3, failed=1)
    out = result.stdout.str()
    assert "  request:  GET /sessions?page=9&project_id=pr_demo&size=2\n" in out
    assert "shared.yaml (9 interactions, record mode none)\n" in out  # as docs/troubleshooting
    assert (
        "  recorded only by test_shared.py::test_shared[1], which share(s) this cassette: "
        "a test replays only what it recorded itself\n" in out
    )
    assert "  pytest --hl-record-mode=new_episodes 'test_shared.py::test_shared[2]'\n" in out


def as_format_1(text: str) -> str:
    """A format 2 cassette as hl-testkit 0.1 wrote it: no attribution, an older date."""
    text = re.sub(r"^- recorded_by: .*\n  request:", "- request:", text, flags=re.M)
    text = re.sub(r"^recorded_at: .*$", "recorded_at: '2024-01-02'", text, flags=re.M)
    return text.replace("format: hl-testkit-cassette/2", "format: hl-testkit-cassette/1")


@pytest.mark.parametrize("mode", ["rewrite", "all"])
def test_format_1_cassettes_replay_and_are_attributed_by_rerecording(
    suite: pytest.Pytester, mode: str
) -> None:
    """Unattributed interactions belong to the test in its own default-named
    cassette; in a shared one they are replayable by all, not counted by
    --hl-strict, kept by others' rewrites, and claimed by a rewrite (or all)
    that sends the same requests. Re-recording changes nothing beyond the
    attribution, not even `recorded_at`."""
    run(suite, "--hl-record-mode=once").assert_outcomes(passed=8)
    files = sorted((suite.path / "cassettes").rglob("*.yaml"))
    expected = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert text.count("recorded_by: ") == (8 if path.name == "shared.yaml" else 2)
        expected[path] = re.sub(r"^recorded_at: .*$", "recorded_at: '2024-01-02'", text, flags=re.M)
        path.write_text(as_format_1(text), encoding="utf-8")
    old = {path: path.read_text(encoding="utf-8") for path in files}

    run(suite, "--hl-strict").assert_outcomes(passed=8)
    run(suite, "--hl-record-mode=new_episodes").assert_outcomes(passed=8)
    assert {path: path.read_text(encoding="utf-8") for path in files} == old

    partial = run(suite, f"--hl-record-mode={mode}", "-k", "test_shared[1]")
    partial.assert_outcomes(passed=1)
    shared = (suite.path / SHARED).read_text(encoding="utf-8")
    assert shared.count("recorded_by: test_shared.py::test_shared[1]") == 2
    assert shared.count("- request:") == 6  # the other tests' are all still there
    run(suite, "--hl-strict").assert_outcomes(passed=8)

    run(suite, f"--hl-record-mode={mode}").assert_outcomes(passed=8)
    for path in files:
        assert path.read_text(encoding="utf-8").splitlines() == expected[path].splitlines(), path


def test_a_removed_tests_interactions_are_kept_until_pruned(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(suite, "--hl-record-mode=once", "-k", "test_shared").assert_outcomes(passed=4)
    monkeypatch.setenv("HLT_COUNT", "3")  # test_shared[3] is renamed or deleted
    run(suite, "--hl-record-mode=rewrite", "-k", "test_shared").assert_outcomes(passed=3)
    assert len(by_test(suite.path)["test_shared.py::test_shared[3]"]) == 2
    run(suite, "--hl-strict", "-k", "test_shared").assert_outcomes(passed=3)
    # Pruning, as the README says: remove the shared cassette, record its tests again.
    (suite.path / SHARED).unlink()
    run(suite, "--hl-record-mode=once", "-k", "test_shared").assert_outcomes(passed=3)
    assert sorted(by_test(suite.path)) == [f"test_shared.py::test_shared[{n}]" for n in range(3)]
