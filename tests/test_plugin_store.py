"""Strict mode, the age policy and parallel recording into one cassette, through pytester."""

from __future__ import annotations

from pathlib import Path

import pytest

from hl_testkit.cassettes import file as cassette_file

TWO_CALLS = """
def test_calls(sessions):
    sessions.get(id="sesh_demo")
    sessions.list(project_id="pr_demo")
"""
ONE_CALL = """
def test_calls(sessions):
    sessions.get(id="sesh_demo")
"""


def test_strict_fails_on_unplayed_interactions_and_lists_them(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_s=TWO_CALLS)
    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=1)
    pytester.makepyfile(test_s=ONE_CALL)
    relaxed = pytester.runpytest()
    relaxed.assert_outcomes(passed=1)
    relaxed.stdout.fnmatch_lines(["*; 1 unused interaction(s)"])
    strict = pytester.runpytest("--hl-strict")
    strict.assert_outcomes(passed=1, errors=1)
    strict.stdout.fnmatch_lines(
        ["*holds 1 interaction(s) this test did not play*", "*#1 GET *sessions?project_id=pr_demo*"]
    )


def _age(pytester: pytest.Pytester, policy: str) -> pytest.RunResult:
    pytester.makepyfile(test_s=ONE_CALL)
    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=1)
    path = pytester.path / "cassettes" / "test_s" / "test_calls.yaml"
    text = path.read_text(encoding="utf-8")
    assert "recorded_at:" in text
    data = cassette_file.read(path)
    assert data is not None
    assert data.recorded_at is not None
    data.recorded_at = "2020-01-01"
    path.write_text(cassette_file.dumps(data), encoding="utf-8")
    pytester.makeini(f"[pytest]\nhl_max_cassette_age = 30d\nhl_on_expired = {policy}\n")
    return pytester.runpytest("-W", "default")


def test_expired_cassette_warns(pytester: pytest.Pytester) -> None:
    result = _age(pytester, "warn")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*recorded on 2020-01-01*"])


def test_expired_cassette_fails(pytester: pytest.Pytester) -> None:
    result = _age(pytester, "fail")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*recorded on 2020-01-01*Re-record it*"])


def test_expired_cassette_rerecords(pytester: pytest.Pytester) -> None:
    result = _age(pytester, "rerecord")
    result.assert_outcomes(passed=1)
    data = cassette_file.read(pytester.path / "cassettes" / "test_s" / "test_calls.yaml")
    assert data is not None
    assert data.recorded_at != "2020-01-01"


def test_identical_rerecord_keeps_recorded_at(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_s=ONE_CALL)
    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=1)
    path = pytester.path / "cassettes" / "test_s" / "test_calls.yaml"
    data = cassette_file.read(path)
    assert data is not None
    data.recorded_at = "2021-02-03"
    path.write_text(cassette_file.dumps(data), encoding="utf-8")
    before = path.read_bytes()
    pytester.runpytest("--hl-record-mode=rewrite").assert_outcomes(passed=1)
    assert path.read_bytes() == before


SHARED = """
import pytest

@pytest.mark.hl_cassette(name="shared")
@pytest.mark.parametrize("n", range(40))
def test_page(sessions, n):
    assert sessions.list(project_id="pr_demo", page=n + 1, size=1).status == 200
"""


@pytest.mark.parametrize("workers", ["2", "4"])
def test_xdist_workers_recording_into_one_cassette_keep_everything(
    pytester: pytest.Pytester, workers: str
) -> None:
    pytester.makepyfile(test_shared=SHARED)
    record = pytester.runpytest_subprocess("-n", workers, "--hl-record-mode=new_episodes")
    record.assert_outcomes(passed=40)
    data = cassette_file.read(pytester.path / "cassettes" / "test_shared" / "shared.yaml")
    assert data is not None
    uris = {i.request.uri for i in data.interactions}
    assert len(data.interactions) == 40
    assert len(uris) == 40
    replay = pytester.runpytest_subprocess("-n", workers)
    replay.assert_outcomes(passed=40)
    replay.stdout.fnmatch_lines(["*40 interaction(s) replayed*0 miss(es)*"])


def test_leftover_temp_files_are_never_cassettes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_s=ONE_CALL)
    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=1)
    folder = Path(pytester.path / "cassettes" / "test_s")
    (folder / ".test_calls.yaml.abc.hl-tmp").write_text("garbage: [", encoding="utf-8")
    pytester.runpytest().assert_outcomes(passed=1)
