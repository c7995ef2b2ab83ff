"""Where cassettes go: one safe, stable file per test; markers that share one; bad config."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CALL = """
    sessions.list(project_id="pr_demo", size=1)
"""

NAMES_TEST = """
import pytest

LONG = "x" * 300


@pytest.mark.parametrize(
    "value",
    [
        "a/b", 'c:d*?"<>|e', "a::b", "a.b", "a_b", "\\u00e9t\\u00e9",
        pytest.param(1, id=LONG + "1"), pytest.param(2, id=LONG + "2"),
    ],
)
def test_param(sessions, value):
    sessions.list(project_id="pr_demo", size=1)


class TestGroup:
    class TestInner:
        def test_method(self, sessions):
            sessions.list(project_id="pr_demo", size=1)
"""

SAFE_NAME = re.compile(r"^[\w.\[\]-]+\.yaml$")


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HUMANLOOP_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def cassettes(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_unsafe_and_long_test_ids_give_distinct_safe_stable_names(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_names=NAMES_TEST)
    recorded = pytester.runpytest("--hl-record-mode=once")
    recorded.assert_outcomes(passed=9)
    module_dir = pytester.path / "cassettes" / "test_names"
    files = cassettes(pytester.path / "cassettes")
    assert len(files) == 9  # no two tests share a file
    for path in files:
        assert path.parent == module_dir, path  # "/" in an id made no directory
        assert SAFE_NAME.match(path.name), path.name
        assert len(path.name.encode()) <= 105, path.name

    names = {p.name for p in files}
    assert "test_param[a.b].yaml" in names  # a safe name is kept as it is
    assert "test_param[a_b].yaml" in names
    assert "TestGroup.TestInner.test_method.yaml" in names
    # Changed names carry a hash of the original, so "a/b" is not "a_b".
    assert any(re.fullmatch(r"test_param\[a_b\]-[0-9a-f]{10}\.yaml", n) for n in names)
    assert any(re.fullmatch(r"test_param\[a__b\]-[0-9a-f]{10}\.yaml", n) for n in names)
    long_names = [n for n in names if n.startswith("test_param[xxxx")]
    assert len(long_names) == 2

    # The same names again on replay.
    pytester.runpytest().assert_outcomes(passed=9)
    assert cassettes(pytester.path / "cassettes") == files


def test_module_path_and_cassette_dir_options(pytester: pytest.Pytester) -> None:
    pytester.mkpydir("pkg")
    pytester.path.joinpath("pkg", "test_deep.py").write_text(
        "def test_it(sessions):" + CALL, encoding="utf-8"
    )
    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=1)
    assert cassettes(pytester.path / "cassettes") == [
        pytester.path / "cassettes" / "pkg" / "test_deep" / "test_it.yaml"
    ]

    result = pytester.runpytest("--hl-record-mode=once", "--hl-cassette-dir=recs")
    result.stdout.fnmatch_lines([f"hl-testkit: *; cassettes in {pytester.path / 'recs'}"])
    assert (pytester.path / "recs" / "pkg" / "test_deep" / "test_it.yaml").is_file()

    pytester.makeini("[pytest]\nhl_cassette_dir = from_ini\n")
    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=1)
    assert (pytester.path / "from_ini" / "pkg" / "test_deep" / "test_it.yaml").is_file()


def test_marker_name_shares_one_cassette(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_shared="""
        import pytest
        from hl_testkit.standin import DEMO_PROJECT_ID, DEMO_SESSION_ID

        @pytest.mark.hl_cassette(name="shared")
        def test_first(sessions, hl_cassette):
            sessions.list(project_id=DEMO_PROJECT_ID, size=1)

        @pytest.mark.hl_cassette("shared")
        def test_second(sessions, hl_cassette):
            sessions.list(project_id=DEMO_PROJECT_ID, size=1)
            sessions.get(id=DEMO_SESSION_ID)

        @pytest.mark.hl_cassette(name="calls.v1")
        def test_v1(sessions):
            sessions.list(project_id=DEMO_PROJECT_ID, size=1)

        @pytest.mark.hl_cassette(name="nested/calls.v2.yaml")
        def test_v2(sessions):
            sessions.list(project_id=DEMO_PROJECT_ID, size=2)
        """
    )
    recorded = pytester.runpytest("--hl-record-mode=new_episodes")
    recorded.assert_outcomes(passed=4)
    module_dir = pytester.path / "cassettes" / "test_shared"
    assert cassettes(pytester.path / "cassettes") == [
        module_dir / "calls.v1.yaml",
        module_dir / "nested" / "calls.v2.yaml",
        module_dir / "shared.yaml",
    ]
    shared = (module_dir / "shared.yaml").read_text(encoding="utf-8")
    # Each test records its own interactions (and replays only those): the list twice.
    assert shared.count("- recorded_by: test_shared.py::test_first\n") == 1
    assert shared.count("- recorded_by: test_shared.py::test_second\n") == 2
    assert shared.count("  request:") == 3
    pytester.runpytest().assert_outcomes(passed=4)


def test_marker_name_outside_the_cassette_dir_is_refused(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_escape="""
        import pytest

        @pytest.mark.hl_cassette(name="../../x")
        def test_it(hl_cassette):
            pass

        @pytest.mark.hl_cassette(name="../sibling")
        def test_inside(hl_cassette):
            assert hl_cassette.path.resolve() == (
                hl_cassette.path.parents[2] / "sibling.yaml"
            ).resolve()
            assert hl_cassette.path.resolve().parent.name == "cassettes"
        """
    )
    result = pytester.runpytest("--hl-record-mode=once")
    result.assert_outcomes(errors=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.hl_cassette(name='../../x') points outside the cassette directory "
            f"{pytester.path / 'cassettes'}; use a name relative to "
            f"{pytester.path / 'cassettes' / 'test_escape'}*"
        ]
    )
    assert not (pytester.path / "x.yaml").exists()


def test_unsupported_vcr_config_key_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_config="""
        import pytest

        @pytest.fixture(scope="module")
        def hl_vcr_config():
            return {"serializer": "json", "match_on": ["uri"], "filter_headers": ["x"]}

        def test_it(hl_cassette):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    assert (
        "hl_vcr_config or @pytest.mark.hl_cassette(...): unsupported key(s) "
        "['match_on', 'serializer']; hl-testkit passes on "
        "only ['before_record_request', " in result.stdout.str()
    )
    assert "(cassette format, matching and record mode are its own)." in result.stdout.str()


def test_supported_vcr_config_is_passed_on(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_config="""
        import pytest

        @pytest.fixture(scope="module")
        def hl_vcr_config():
            return {"filter_query_parameters": ["size"]}

        def test_it(sessions):
            sessions.list(project_id="pr_demo", size=1)
        """
    )
    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=1)
    text = (pytester.path / "cassettes" / "test_config" / "test_it.yaml").read_text("utf-8")
    assert "sessions?project_id=pr_demo\n" in text  # size filtered out before recording
    pytester.runpytest().assert_outcomes(passed=1)


def test_corrupt_cassette_names_the_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_bad="def test_it(sessions):" + CALL)
    path = pytester.path / "cassettes" / "test_bad" / "test_it.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("format: [unclosed\n", encoding="utf-8")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"cassette {path}*not valid YAML*"])
