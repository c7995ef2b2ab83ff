"""The README's Python test examples, run as a user would: recorded on the stand-in,
then replayed offline. The error example fails when no error comes back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def _examples() -> dict[str, str]:
    """The README's ```python blocks that define tests, by their first test's name."""
    text = README.read_text(encoding="utf-8")
    found = {}
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        names = re.findall(r"^def (test_\w+)", block, re.M)
        if names:
            found[names[0]] = block
    return found


EXAMPLES = _examples()


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HUMANLOOP_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_the_readme_has_the_examples() -> None:
    assert {"test_list_first_page", "test_with_the_official_sdk", "test_the_sdk_async"} <= set(
        EXAMPLES
    )


@pytest.mark.parametrize("first", sorted(EXAMPLES))
def test_a_readme_example_records_then_replays(pytester: pytest.Pytester, first: str) -> None:
    pytester.makepyfile(test_readme=EXAMPLES[first])
    tests = len(re.findall(r"^def test_", EXAMPLES[first], re.M))
    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=tests)
    replayed = pytester.runpytest()
    replayed.assert_outcomes(passed=tests)
    replayed.stdout.fnmatch_lines(["*0 recorded; 0 miss(es)*"])


def test_the_error_example_fails_when_the_call_succeeds(pytester: pytest.Pytester) -> None:
    block = EXAMPLES["test_list_first_page"]
    assert 'sessions.get(id="sesh_missing")' in block
    pytester.makepyfile(test_readme=block.replace("sesh_missing", "sesh_demo"))
    result = pytester.runpytest("--hl-record-mode=once", "-k", "unknown")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines(["*DID NOT RAISE*"])
