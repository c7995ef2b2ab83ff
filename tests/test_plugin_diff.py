"""After a recording run, the summary names the cassettes whose meaning changed;
`--hl-diff` shows each change. Driven through pytester against the stand-in."""

from __future__ import annotations

from pathlib import Path

import pytest

DIFF_TEST = """
from hl_testkit.standin import DEMO_PROJECT_ID


def test_list(sessions):
    assert sessions.list(project_id=DEMO_PROJECT_ID, page=1, size=2).status == 200


def test_other(sessions):
    assert sessions.list(project_id=DEMO_PROJECT_ID, page=2, size=2).status == 200
"""


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HUMANLOOP_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def cassette(pytester: pytest.Pytester) -> Path:
    """The first test's cassette, recorded once against the stand-in."""
    pytester.makepyfile(test_diffs=DIFF_TEST)
    pytester.runpytest("--hl-record-mode=rewrite").assert_outcomes(passed=2)
    return pytester.path / "cassettes" / "test_diffs" / "test_list.yaml"


def section(result: pytest.RunResult) -> list[str]:
    lines = result.outlines
    start = next(n for n, line in enumerate(lines) if " hl-testkit " in line and "--" in line)
    end = next((n for n in range(start + 1, len(lines)) if lines[n].startswith("=")), len(lines))
    return lines[start + 1 : end]


def tamper(path: Path) -> None:
    """Make the stored answer differ from what the stand-in will say again."""
    text = path.read_text(encoding="utf-8")
    assert "total: 23" in text
    text = text.replace("total: 23", "total: 999").replace("size: 2", "size: '2'")
    path.write_text(text, encoding="utf-8")


def test_an_identical_re_record_reports_no_change(
    pytester: pytest.Pytester, cassette: Path
) -> None:
    result = pytester.runpytest("--hl-record-mode=rewrite", "--hl-diff")
    result.assert_outcomes(passed=2)
    lines = section(result)
    assert "0 written, 2 unchanged" in lines[0]
    assert not [line for line in lines if "changed:" in line]


def test_the_summary_counts_what_differs_and_hl_diff_shows_it(
    pytester: pytest.Pytester, cassette: Path
) -> None:
    tamper(cassette)
    result = pytester.runpytest("--hl-record-mode=rewrite")
    result.assert_outcomes(passed=2)
    lines = section(result)
    assert f"  written: {cassette}" in lines
    assert f"  changed: {cassette}: 1 of 1 interaction(s) differ (--hl-diff shows them)" in lines
    assert not [line for line in lines if "test_other" in line]  # unchanged: not named

    tamper(cassette)
    result = pytester.runpytest("--hl-record-mode=rewrite", "--hl-diff")
    lines = section(result)
    assert f"  changed: {cassette}: 1 of 1 interaction(s) differ" in lines
    assert "      #0 GET /sessions?page=1&project_id=pr_demo&size=2 -> 200" in lines
    assert "          body.total: 999 → 23" in lines
    assert '          body.size: type changed, string → number: "2" → 2' in lines


def test_ini_ignores_apply_to_the_summary(pytester: pytest.Pytester, cassette: Path) -> None:
    pytester.makeini("[pytest]\nhl_diff_ignore =\n    body.total\n    body.size\n")
    tamper(cassette)
    result = pytester.runpytest("--hl-record-mode=rewrite", "--hl-diff")
    result.assert_outcomes(passed=2)
    assert f"  changed: {cassette}: rewritten, no semantic difference" in section(result)


def test_a_bad_ini_ignore_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nhl_diff_ignore = created_at\n")
    pytester.makepyfile(test_diffs=DIFF_TEST)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ini hl_diff_ignore 'created_at': a path starts with*"])


def test_replay_reports_no_change(pytester: pytest.Pytester, cassette: Path) -> None:
    cassette.write_text(
        cassette.read_text(encoding="utf-8").replace("total: 23", "total: 7"), encoding="utf-8"
    )
    result = pytester.runpytest("--hl-diff")
    result.assert_outcomes(passed=2)
    assert not [line for line in section(result) if "changed:" in line]


def test_changes_are_reported_from_xdist_workers(pytester: pytest.Pytester, cassette: Path) -> None:
    pytest.importorskip("xdist")
    tamper(cassette)
    other = cassette.with_name("test_other.yaml")
    other.write_text(
        other.read_text(encoding="utf-8").replace("total: 23", "total: 5"), encoding="utf-8"
    )
    result = pytester.runpytest_subprocess("-n", "2", "--hl-record-mode=rewrite", "--hl-diff")
    result.assert_outcomes(passed=2)
    lines = section(result)
    assert f"  changed: {cassette}: 1 of 1 interaction(s) differ" in lines
    assert f"  changed: {other}: 1 of 1 interaction(s) differ" in lines
    assert lines.count("          body.total: 999 → 23") == 1
    assert lines.count("          body.total: 5 → 23") == 1


def test_the_summary_quoted_in_the_docs_is_what_a_run_prints(
    pytester: pytest.Pytester, cassette: Path
) -> None:
    doc = (Path(__file__).parent.parent / "docs" / "drift.md").read_text(encoding="utf-8")
    quoted = doc.split("<!-- summary -->\n```\n", 1)[1].split("```", 1)[0].splitlines()
    tamper(cassette)
    result = pytester.runpytest("--hl-record-mode=rewrite", "--hl-diff")
    printed = [line.replace(str(pytester.path), "/repo") for line in section(result)]
    assert quoted[0].strip("- ") == "hl-testkit"
    assert quoted[1:] == printed
