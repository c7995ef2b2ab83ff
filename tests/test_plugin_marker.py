"""Mistakes in the marker and in ini values: each says what to write instead."""

from __future__ import annotations

import pytest

SHAPE = "the marker is @pytest.mark.hl_cassette(name=None, record_mode=None, schema=True, "


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HUMANLOOP_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def _error_of(pytester: pytest.Pytester, marker: str) -> str:
    pytester.makepyfile(
        test_marked=f"""
        import pytest

        @pytest.mark.hl_cassette({marker})
        def test_it(sessions):
            pass
        """
    )
    result = pytester.runpytest("--hl-record-mode=once")
    result.assert_outcomes(errors=1)
    assert "Traceback" not in result.stdout.str()
    return result.stdout.str()


def test_a_misspelt_argument_is_named_with_a_suggestion_and_every_allowed_one(
    pytester: pytest.Pytester,
) -> None:
    out = _error_of(pytester, 'nmae="x"')
    assert (
        "hl-testkit: @pytest.mark.hl_cassette: unknown argument(s) 'nmae' (did you mean "
        "'name'?): it takes name, record_mode, schema and the vcrpy settings "
        "before_record_request, " in out
    )
    assert SHAPE in out
    assert not (pytester.path / "cassettes").exists()


def test_a_name_that_is_not_a_string(pytester: pytest.Pytester) -> None:
    out = _error_of(pytester, "name=42")
    assert (
        "@pytest.mark.hl_cassette: name=42 is not a cassette name: give a non-empty string "
        "such as name='shared' (relative to the test module's cassette directory)" in out
    )
    assert "AttributeError" not in out


def test_extra_positional_arguments(pytester: pytest.Pytester) -> None:
    out = _error_of(pytester, '"shared", "once"')
    assert (
        "@pytest.mark.hl_cassette: positional arguments ('shared', 'once') beyond the one "
        "cassette name; pass the other options by keyword, e.g. record_mode='once'" in out
    )


def test_schema_of_the_wrong_type(pytester: pytest.Pytester) -> None:
    out = _error_of(pytester, "schema=0")
    assert "schema=0 must be False (no check), True (the default) or a schema name" in out


def test_a_marker_on_a_test_without_a_cassette_warns(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_marked="""
        import pytest

        @pytest.mark.hl_cassette(record_mode="once")
        def test_forgot_the_fixture():
            pass

        @pytest.mark.hl_cassette(record_mode="once")
        def test_uses_it(hl_cassette):
            pass
        """
    )
    warned = pytester.runpytest()
    warned.assert_outcomes(passed=2, warnings=1)
    warned.stdout.fnmatch_lines(["*UnusedMarkerWarning: hl-testkit: test_marked.py::*"])
    result = pytester.runpytest("-W", "error::UserWarning")  # the warning as an error
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*UnusedMarkerWarning: hl-testkit: test_marked.py::test_forgot_the_fixture is "
            "marked @pytest.mark.hl_cassette but uses neither the sessions nor the hl_cassette "
            "fixture (nor hl_humanloop), so the marker changes nothing: add one of them to the "
            "test's arguments, or remove the marker"
        ]
    )
    assert "test_uses_it" not in result.stdout.str()


def test_a_module_marker_covers_tests_without_a_cassette_silently(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_marked="""
        import pytest

        pytestmark = pytest.mark.hl_cassette(record_mode="once")

        def test_pure():
            pass

        def test_uses_it(hl_cassette):
            pass
        """
    )
    result = pytester.runpytest("-W", "error::UserWarning")
    result.assert_outcomes(passed=2)
    assert "UnusedMarkerWarning" not in result.stdout.str()


@pytest.mark.parametrize("key", ["hl_strict", "hl_schema_strict"])
def test_a_true_false_ini_key_with_another_value_is_named(
    pytester: pytest.Pytester, key: str
) -> None:
    pytester.makeini(f"[pytest]\n{key} = maybe\n")
    pytester.makepyfile(test_it="def test_it():\n    pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert (
        f"ERROR: hl-testkit: ini {key}: invalid truth value 'maybe'; write {key} = true or "
        f"{key} = false (also accepted: yes/no, on/off, 1/0)"
    ) in result.stderr.str()


@pytest.mark.parametrize(
    ("ini", "message"),
    [
        (
            "hl_schema_dir = nope\n",
            "ERROR: schema directory * does not exist or is not a directory",
        ),
        (
            "hl_routes =\n    GET /projects/{id} 200 project\n",
            "ERROR: route GET /projects/{id} 200 -> project: no schema named 'project'*",
        ),
    ],
    ids=["schema-dir", "route"],
)
def test_a_bad_schema_dir_or_route_is_a_usage_error_exit_4(
    pytester: pytest.Pytester, ini: str, message: str
) -> None:
    # docs/troubleshooting.md says exit 4 (it once said 3).
    pytester.makeini(f"[pytest]\n{ini}")
    pytester.makepyfile(test_it="def test_it():\n    pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert int(result.ret) == 4
    result.stderr.fnmatch_lines([message])
