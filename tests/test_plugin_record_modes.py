"""Every record mode, what it writes and what it leaves alone; and where the mode comes from.

The inner test is steered by environment variables (not by rewriting its
source between runs, which could meet a stale bytecode cache).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

MODES_TEST = """
import os
from hl_testkit.standin import DEMO_PROJECT_ID, DEMO_SESSION_ID


def test_it(sessions):
    for page in os.environ.get("HLT_PAGES", "1").split(","):
        listed = sessions.list(project_id=DEMO_PROJECT_ID, page=int(page), size=2)
        assert listed.body["page"] == int(page)
    if os.environ.get("HLT_GET"):
        sessions.get(id=DEMO_SESSION_ID)
    assert not os.environ.get("HLT_FAIL"), "failing on purpose"
"""

NODEID = "test_modes.py::test_it"
LIST_1 = "GET https://api.humanloop.com/v4/sessions?project_id=pr_demo&page=1&size=2"
LIST_2 = "GET https://api.humanloop.com/v4/sessions?project_id=pr_demo&page=2&size=2"
GET_DEMO = "GET https://api.humanloop.com/v4/sessions/sesh_demo"


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HUMANLOOP_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HLT_PAGES", "HLT_GET", "HLT_FAIL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def modes(pytester: pytest.Pytester) -> Path:
    """The inner test module; returns where its cassette goes."""
    pytester.makepyfile(test_modes=MODES_TEST)
    return pytester.path / "cassettes" / "test_modes" / "test_it.yaml"


def requests_in(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [f"{i['request']['method']} {i['request']['uri']}" for i in data["interactions"]]


def summary(result: pytest.RunResult) -> str:
    """The first line of the `hl-testkit` terminal summary section."""
    lines = result.outlines
    for n, line in enumerate(lines):
        if line.startswith("-") and " hl-testkit " in line:
            return lines[n + 1]
    raise AssertionError(f"no hl-testkit summary in {lines}")


def record(pytester: pytest.Pytester, mode: str = "once", **env: str) -> pytest.RunResult:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        return pytester.runpytest(f"--hl-record-mode={mode}")


def tamper(path: Path) -> str:
    """Change a recorded answer, so a re-recording shows whether it was replaced."""
    text = path.read_text(encoding="utf-8")
    assert "total: 23" in text
    text = text.replace("total: 23", "total: 999")
    path.write_text(text, encoding="utf-8")
    return text


def test_none_without_cassette_fails_with_the_command_to_record(
    pytester: pytest.Pytester, modes: Path
) -> None:
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*hl-testkit: the cassette has no answer for this request",
            "*request:  GET /sessions?page=1&project_id=pr_demo&size=2",
            f"*cassette: {modes} does not exist (record mode none)",
            "*To record it, run:",
            f"*  pytest --hl-record-mode=once '{NODEID}'",
        ]
    )
    assert not modes.exists()
    assert not (pytester.path / "cassettes").exists()


def test_none_with_cassette_replays_and_leaves_the_file_alone(
    pytester: pytest.Pytester, modes: Path
) -> None:
    record(pytester).assert_outcomes(passed=1)
    before = modes.stat()
    text = modes.read_text(encoding="utf-8")

    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "1 interaction(s) replayed, 0 recorded; 0 miss(es)" in summary(result)
    after = modes.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert modes.read_text(encoding="utf-8") == text


def test_once_records_a_missing_file_then_only_replays(
    pytester: pytest.Pytester, modes: Path
) -> None:
    first = record(pytester)
    first.assert_outcomes(passed=1)
    assert "1 written" in summary(first)
    assert requests_in(modes) == [LIST_1]
    text = modes.read_text(encoding="utf-8")

    # With the file there, `once` is replay: a new request is a miss, not a recording.
    second = record(pytester, HLT_PAGES="1,2")
    second.assert_outcomes(failed=1)
    second.stdout.fnmatch_lines(
        [
            "*request:  GET /sessions?page=2&project_id=pr_demo&size=2",
            f"*cassette: {modes} (1 interaction, record mode once)",
            f"*pytest --hl-record-mode=new_episodes '{NODEID}'",
        ]
    )
    assert modes.read_text(encoding="utf-8") == text


def test_new_episodes_appends_only_new_interactions(pytester: pytest.Pytester, modes: Path) -> None:
    record(pytester).assert_outcomes(passed=1)
    old = modes.read_text(encoding="utf-8")

    more = record(pytester, "new_episodes", HLT_PAGES="1,2", HLT_GET="1")
    more.assert_outcomes(passed=1)
    assert "1 written, 0 unchanged; 1 interaction(s) replayed, 2 recorded" in summary(more)
    assert requests_in(modes) == [LIST_1, LIST_2, GET_DEMO]
    assert modes.read_text(encoding="utf-8").startswith(old)  # old part byte for byte

    # Nothing new: the file is not touched at all.
    before = modes.stat()
    again = record(pytester, "new_episodes", HLT_PAGES="1,2", HLT_GET="1")
    again.assert_outcomes(passed=1)
    assert "0 written, 0 unchanged; 3 interaction(s) replayed, 0 recorded" in summary(again)
    assert modes.stat().st_ino == before.st_ino


def test_all_rerecords_and_replaces_the_matching_interactions(
    pytester: pytest.Pytester, modes: Path
) -> None:
    record(pytester, HLT_GET="1").assert_outcomes(passed=1)
    assert requests_in(modes) == [LIST_1, GET_DEMO]
    tamper(modes)

    result = record(pytester, "all")  # only the list this time
    result.assert_outcomes(passed=1)
    assert "1 written, 0 unchanged; 0 interaction(s) replayed, 1 recorded" in summary(result)
    # The unmatched GET is kept; the list is re-recorded (its real answer is back), in
    # the place of the one it replaces, so that re-recording does not reorder the file.
    assert requests_in(modes) == [LIST_1, GET_DEMO]
    text = modes.read_text(encoding="utf-8")
    assert "total: 999" not in text
    assert "total: 23" in text


def test_rewrite_replaces_the_file_and_drops_old_extras(
    pytester: pytest.Pytester, modes: Path
) -> None:
    record(pytester, HLT_GET="1", HLT_PAGES="1,2").assert_outcomes(passed=1)
    assert requests_in(modes) == [LIST_1, LIST_2, GET_DEMO]
    tamper(modes)

    result = record(pytester, "rewrite")
    result.assert_outcomes(passed=1)
    assert requests_in(modes) == [LIST_1]
    assert "total: 23" in modes.read_text(encoding="utf-8")


def test_rewrite_of_a_failing_test_keeps_the_old_file(
    pytester: pytest.Pytester, modes: Path
) -> None:
    record(pytester, HLT_GET="1").assert_outcomes(passed=1)
    tampered = tamper(modes)

    result = record(pytester, "rewrite", HLT_FAIL="1")
    result.assert_outcomes(failed=1)
    assert "0 written" in summary(result)
    result.stdout.fnmatch_lines([f"  not saved (test failed): {modes}"])
    assert modes.read_text(encoding="utf-8") == tampered


def test_a_test_failing_while_recording_saves_nothing(
    pytester: pytest.Pytester, modes: Path
) -> None:
    result = record(pytester, HLT_FAIL="1")
    result.assert_outcomes(failed=1)
    assert "0 written, 0 unchanged; 0 interaction(s) replayed, 1 recorded" in summary(result)
    result.stdout.fnmatch_lines([f"  not saved (test failed): {modes}"])
    assert not modes.exists()


def test_xfailed_and_half_skipped_tests_save_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_incomplete="""
        import pytest
        from hl_testkit.standin import DEMO_PROJECT_ID

        @pytest.mark.xfail(reason="known bug", strict=True)
        def test_xfail(sessions):
            sessions.list(project_id=DEMO_PROJECT_ID)
            assert False

        def test_skipped_halfway(sessions):
            sessions.list(project_id=DEMO_PROJECT_ID)
            pytest.skip("gave up halfway")
        """
    )
    result = pytester.runpytest("--hl-record-mode=once")
    result.assert_outcomes(xfailed=1, skipped=1)
    assert "0 written" in summary(result)
    assert not (pytester.path / "cassettes").exists()


def test_recording_twice_gives_identical_bytes_and_no_rewrite(
    pytester: pytest.Pytester, modes: Path
) -> None:
    record(pytester, HLT_GET="1", HLT_PAGES="2").assert_outcomes(passed=1)
    first = modes.read_bytes()
    modes.unlink()
    record(pytester, HLT_GET="1", HLT_PAGES="2").assert_outcomes(passed=1)
    assert modes.read_bytes() == first

    before = modes.stat()
    again = record(pytester, "rewrite", HLT_GET="1", HLT_PAGES="2")
    again.assert_outcomes(passed=1)
    assert "0 written, 1 unchanged; 0 interaction(s) replayed, 2 recorded" in summary(again)
    after = modes.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert modes.read_bytes() == first
    leftovers = [p.name for p in modes.parent.iterdir() if p != modes]
    assert leftovers == []  # no temporary files either


# -- where the mode comes from --------------------------------------------------------

PRECEDENCE_TEST = """
import pytest

@pytest.fixture(scope="module")
def hl_vcr_config():
    return {"record_mode": "new_episodes"}

def test_fixture(hl_cassette):
    print("MODE", hl_cassette.record_mode)

@pytest.mark.hl_cassette(record_mode="all")
def test_marker(hl_cassette):
    print("MODE", hl_cassette.record_mode)

def test_plain():
    pass
"""


def modes_seen(result: pytest.RunResult) -> list[str]:
    return [line.split("MODE ", 1)[1] for line in result.outlines if "MODE " in line]


def test_marker_beats_fixture_beats_ini(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_prec=PRECEDENCE_TEST)
    pytester.makeini("[pytest]\nhl_record_mode = once\n")
    result = pytester.runpytest("-s")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["hl-testkit: record mode once (from ini hl_record_mode);*"])
    assert modes_seen(result) == ["new_episodes", "all"]


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--hl-record-mode=rewrite"], "all", "rewrite (from --hl-record-mode)"),
        ([], "all", "all (from HL_RECORD_MODE)"),
    ],
    ids=["cli-beats-env", "env-beats-marker"],
)
def test_command_line_and_environment_beat_marker_and_fixture(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: str,
    expected: str,
) -> None:
    pytester.makepyfile(test_prec=PRECEDENCE_TEST)
    pytester.makeini("[pytest]\nhl_record_mode = once\n")
    monkeypatch.setenv("HL_RECORD_MODE", env)
    result = pytester.runpytest("-s", *args)
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([f"hl-testkit: record mode {expected};*"])
    mode = expected.split()[0]
    assert modes_seen(result) == [mode, mode]


def test_bad_record_mode_in_environment_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_prec=PRECEDENCE_TEST)
    monkeypatch.setenv("HL_RECORD_MODE", "sometimes")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*HL_RECORD_MODE: record mode 'sometimes' is not one of "
            "none, once, new_episodes, all, rewrite*"
        ]
    )
    assert "collected" not in result.stdout.str()  # nothing ran


def test_bad_record_mode_on_command_line_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_prec=PRECEDENCE_TEST)
    result = pytester.runpytest("--hl-record-mode=sometimes")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--hl-record-mode: invalid choice: 'sometimes'*"])


def test_bad_record_mode_in_marker_errors_that_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.hl_cassette(record_mode="sometimes")
        def test_it(hl_cassette):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*@pytest.mark.hl_cassette(record_mode=...): record mode 'sometimes' is not one of*"]
    )
