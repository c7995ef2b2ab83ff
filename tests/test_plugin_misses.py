"""What a test sees when its cassette has no answer: one message that says it all."""

from __future__ import annotations

from pathlib import Path

import pytest

MISS_TEST = """
import os

import requests
from hl_testkit.standin import DEMO_PROJECT_ID


def test_query(sessions):
    page = int(os.environ.get("HLT_PAGE", "1"))
    sessions.list(project_id=DEMO_PROJECT_ID, page=page, size=2)


def test_host(hl_cassette):
    url = os.environ.get("HLT_URL", hl_cassette.base_url)
    headers = {"X-API-KEY": hl_cassette.api_key}
    query = {"project_id": DEMO_PROJECT_ID, "page": 1}
    requests.get(url + "/sessions", query, headers=headers, timeout=5).raise_for_status()


def test_body(hl_cassette):
    payload = {"name": os.environ.get("HLT_NAME", "a"), "tags": ["x"], "n": 1}
    url, headers = hl_cassette.base_url + "/sessions", {"X-API-KEY": hl_cassette.api_key}
    created = requests.post(url, json=payload, headers=headers, timeout=5)
    assert created.status_code == 201
"""


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HUMANLOOP_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HLT_PAGE", "HLT_NAME", "HLT_URL"):
        monkeypatch.delenv(name, raising=False)


def cassette(pytester: pytest.Pytester, test: str) -> Path:
    return pytester.path / "cassettes" / "test_miss" / f"{test}.yaml"


def test_miss_message_names_request_cassette_closest_differences_and_command(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_miss=MISS_TEST)
    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=3)

    monkeypatch.setenv("HLT_PAGE", "2")
    monkeypatch.setenv("HLT_NAME", "b")
    monkeypatch.setenv("HLT_URL", "http://other.example")  # the same path, another host
    result = pytester.runpytest()
    result.assert_outcomes(failed=3)
    call = "sessions.list(project_id=DEMO_PROJECT_ID, page=page, size=2)"
    line = MISS_TEST.strip().splitlines().index("    " + call) + 1
    result.stdout.fnmatch_lines(
        [
            "*_ test_query _*",
            "hl-testkit: the cassette has no answer for this request",
            "",
            "  request:  GET /sessions?page=2&project_id=pr_demo&size=2",
            f"  cassette: {cassette(pytester, 'test_query')} (1 interaction, record mode none)",
            "  closest:  #0 GET /sessions?page=1&project_id=pr_demo&size=2",
            "    - query page: recorded '1', requested '2'",
            "",
            "To record it, run:",
            "  pytest --hl-record-mode=new_episodes 'test_miss.py::test_query'",
            "",
            f"  at {pytester.path / 'test_miss.py'}:{line}: {call}",
        ],
        consecutive=True,
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_host _*",
            "hl-testkit: the cassette has no answer for this request",
            "",
            "  request:  GET http://other.example/sessions?page=1&project_id=pr_demo",
            f"  cassette: {cassette(pytester, 'test_host')} (1 interaction, record mode none)",
            "  closest:  #0 GET /sessions?page=1&project_id=pr_demo",
            "    - origin: recorded https://api.humanloop.com, requested http://other.example",
        ],
        consecutive=True,
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_body _*",
            "hl-testkit: the cassette has no answer for this request",
            "",
            "  request:  POST /sessions",
            '  body:     {"n":1,"name":"b","tags":["x"]}',
            f"  cassette: {cassette(pytester, 'test_body')} (1 interaction, record mode none)",
            "  closest:  #0 POST /sessions",
            "    - body $.name: recorded 'a', requested 'b'",
            "",
            "To record it, run:",
            "  pytest --hl-record-mode=new_episodes 'test_miss.py::test_body'",
        ],
        consecutive=True,
    )
    # Our message, not a page of vcrpy/urllib3 frames.
    assert "vcr/stubs" not in result.stdout.str()
    assert "CannotOverwriteExistingCassetteException" not in result.stdout.str()

    # The command in the message does what it says.
    fixed = pytester.runpytest("--hl-record-mode=new_episodes", "test_miss.py::test_query")
    fixed.assert_outcomes(passed=1)
    pytester.runpytest("test_miss.py::test_query").assert_outcomes(passed=1)


def test_missing_cassette_message_says_record_with_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_miss=MISS_TEST)
    result = pytester.runpytest("test_miss.py::test_query")
    result.assert_outcomes(failed=1)
    path = cassette(pytester, "test_query")
    result.stdout.fnmatch_lines(
        [
            "hl-testkit: the cassette has no answer for this request",
            "",
            "  request:  GET /sessions?page=1&project_id=pr_demo&size=2",
            f"  cassette: {path} does not exist (record mode none)",
            "",
            "To record it, run:",
            "  pytest --hl-record-mode=once 'test_miss.py::test_query'",
        ],
        consecutive=True,
    )
    assert "closest" not in result.stdout.str()


def test_a_swallowed_miss_still_fails_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_swallow="""
        from hl_testkit.recording.recorder import CassetteMissError
        from hl_testkit.standin import DEMO_SESSION_ID

        def test_it(sessions):
            try:
                sessions.get(id=DEMO_SESSION_ID)
            except Exception as exc:
                assert isinstance(exc, CassetteMissError)
        """
    )
    result = pytester.runpytest()
    # The body passed; the teardown turns the swallowed miss into an error.
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_it*",
            "hl-testkit: the cassette has no answer for this request",
            "*request:  GET /sessions/sesh_demo",
        ]
    )
    result.stdout.fnmatch_lines(["*; 1 miss(es)"])
