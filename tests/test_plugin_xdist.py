"""The `hl-testkit` terminal summary, in one process and added up across xdist workers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

pytest.importorskip("xdist")

SUMMARY_TEST = """
import pytest
from hl_testkit.standin import DEMO_PROJECT_ID, DEMO_SESSION_ID


def test_list(sessions):
    sessions.list(project_id=DEMO_PROJECT_ID, size=2)


def test_get(sessions):
    sessions.get(id=DEMO_SESSION_ID)


def test_create_twice(sessions):
    assert sessions.create().body["id"] != sessions.create().body["id"]


def test_create_once(sessions):
    sessions.create()


@pytest.mark.parametrize("page", [1, 2, 3])
def test_pages(sessions, page):
    assert sessions.list(project_id=DEMO_PROJECT_ID, page=page, size=10).body["page"] == page


def test_no_cassette():
    pass
"""

FILES = [
    "test_create_once.yaml",
    "test_create_twice.yaml",
    "test_get.yaml",
    "test_list.yaml",
    "test_pages[1].yaml",
    "test_pages[2].yaml",
    "test_pages[3].yaml",
]


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HUMANLOOP_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def section(result: pytest.RunResult) -> list[str]:
    """The lines of the `hl-testkit` summary section."""
    lines = result.outlines
    starts = [n for n, line in enumerate(lines) if re.fullmatch(r"-+ hl-testkit -+", line)]
    assert len(starts) == 1, lines
    out = []
    for line in lines[starts[0] + 1 :]:
        if line.startswith(("=", "-")):
            break
        out.append(line)
    return out


def created_ids(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [i["response"]["body"]["json"]["id"] for i in data["interactions"]]


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.glob("*.yaml"))}


def test_summary_lines(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_sum=SUMMARY_TEST)
    recorded = pytester.runpytest("--hl-record-mode=once")
    recorded.assert_outcomes(passed=8)
    where = pytester.path / "cassettes" / "test_sum"
    assert section(recorded) == [
        "7 cassette(s) used, 7 written, 0 unchanged; 0 interaction(s) replayed, "
        "8 recorded; 0 miss(es)",
        *(f"  written: {where / name}" for name in FILES),
    ]
    # The stand-in is reset before each test: both tests got the same first id.
    once = created_ids(where / "test_create_once.yaml")
    assert once == created_ids(where / "test_create_twice.yaml")[:1]

    replayed = pytester.runpytest()
    replayed.assert_outcomes(passed=8)
    assert section(replayed) == [
        "7 cassette(s) used, 0 written, 0 unchanged; 8 interaction(s) replayed, "
        "0 recorded; 0 miss(es)"
    ]

    (where / "test_get.yaml").unlink()
    missed = pytester.runpytest()
    missed.assert_outcomes(passed=7, failed=1)
    assert section(missed) == [
        "7 cassette(s) used, 0 written, 0 unchanged; 7 interaction(s) replayed, "
        "0 recorded; 1 miss(es)"
    ]


def test_no_summary_section_without_cassettes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_sum=SUMMARY_TEST)
    result = pytester.runpytest("-k", "no_cassette")
    result.assert_outcomes(passed=1, deselected=7)
    assert not any(re.fullmatch(r"-+ hl-testkit -+", line) for line in result.outlines)
    result.stdout.fnmatch_lines(["hl-testkit: record mode none (from default)*"])


def test_xdist_workers_add_up_to_one_summary(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_sum=SUMMARY_TEST)
    where = pytester.path / "cassettes" / "test_sum"
    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=8)
    serial = snapshot(where)
    assert sorted(serial) == FILES
    for path in where.iterdir():
        path.unlink()

    recorded = pytester.runpytest_subprocess("-n", "2", "--hl-record-mode=once")
    recorded.assert_outcomes(passed=8)
    recorded.stdout.fnmatch_lines(["hl-testkit: record mode once (from --hl-record-mode);*"])
    assert section(recorded) == [
        "7 cassette(s) used, 7 written, 0 unchanged; 0 interaction(s) replayed, "
        "8 recorded; 0 miss(es)",
        *(f"  written: {where / name}" for name in FILES),
    ]
    # Each worker has its own stand-in, reset per test: the same bytes as one process.
    assert snapshot(where) == serial

    (where / "test_get.yaml").unlink()
    replayed = pytester.runpytest_subprocess("-n", "2")
    replayed.assert_outcomes(passed=7, failed=1)
    assert section(replayed) == [
        "7 cassette(s) used, 0 written, 0 unchanged; 7 interaction(s) replayed, "
        "0 recorded; 1 miss(es)"
    ]
