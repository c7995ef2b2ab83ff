"""Requests stay inside the sessions API: an id of `..` or `../../x` never leaves it.

The official SDK percent-encodes ids but keeps `.` and `/`, and urllib3 then
resolves the dot segments: `sessions.get(id="../../x")` would send `GET /x`.
Through `hl_humanloop` and `hl_cassette` such a request fails, names the path,
and nothing is sent, recorded or written.
"""

from __future__ import annotations

import pytest

from hl_testkit.cassettes.canonical import has_dot_segment, path_outside_base, resolve_dot_segments


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HUMANLOOP_API_KEY"):
        monkeypatch.delenv(name, raising=False)


SDK_TESTS = """
import asyncio

import pytest
from hl_testkit.errors import ApiBoundaryError


def test_up_two(hl_humanloop):
    hl_humanloop.sessions.get(id="../../x")


def test_dot_dot(hl_humanloop):
    hl_humanloop.sessions.get(id="..")


def test_async(hl_humanloop):
    asyncio.run(hl_humanloop.sessions.aget(id="../../x"))


def test_caught(hl_humanloop):
    with pytest.raises(ApiBoundaryError):
        hl_humanloop.sessions.get(id=".")  # would list sessions
"""


@pytest.mark.parametrize("mode", ["once", "none"])
def test_sdk_ids_that_leave_the_api_fail_and_nothing_is_written(
    pytester: pytest.Pytester, mode: str
) -> None:
    pytester.makepyfile(test_sdk=SDK_TESTS)
    result = pytester.runpytest(f"--hl-record-mode={mode}", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=3, passed=1, errors=1)  # the caught one fails at teardown
    lines = {
        "test_up_two": "GET /sessions/../../x",
        "test_dot_dot": "GET /sessions/..",
        "test_async": "GET /sessions/../../x",
    }
    for path in lines.values():
        resolved = "/x" if path.endswith("x") else "/v4/"
        result.stdout.fnmatch_lines(
            [
                f"hl-testkit refused the SDK's {path}: a path parameter (an id) holds a '.' "
                f"or '..' segment, and the request would go to {resolved} instead (base URL "
                "http*/v4). Nothing was sent or recorded. Pass the id itself; the sessions "
                "fixture (SessionsClient) refuses such ids."
            ]
        )
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_caught*",
            "*GET /sessions/.: * would go to /v4/sessions/ instead*",
        ]
    )
    assert not (pytester.path / "cassettes").exists() or not list(
        (pytester.path / "cassettes").rglob("*.yaml")
    )


CASSETTE_TESTS = """
import requests
import pytest
from hl_testkit.errors import ApiBoundaryError


def test_requests(hl_cassette):
    requests.get(hl_cassette.base_url + "/sessions/../../x",
                 headers={"X-API-KEY": hl_cassette.api_key}, timeout=5)


def test_encoded(hl_cassette):  # requests un-escapes %2E: urllib3 would resolve it
    requests.get(hl_cassette.base_url + "/sessions/%2E%2E", timeout=5)


def test_inside_is_fine(hl_cassette):
    answer = requests.get(hl_cassette.base_url + "/sessions/sesh_nope/../sesh_missing",
                          headers={"X-API-KEY": hl_cassette.api_key}, timeout=5)
    assert answer.status_code == 404
"""


def test_hl_cassette_refuses_paths_outside_the_base_path(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_raw=CASSETTE_TESTS)
    result = pytester.runpytest("--hl-record-mode=once", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=2, passed=1)
    result.stdout.fnmatch_lines(
        [
            "hl-testkit refused GET http://127.0.0.1:*/x: its path resolves to /x, outside "
            "the API's base path /v4 (http://127.0.0.1:*/v4). A path parameter such as an id "
            "of '..' or '../../x' leads there; nothing was sent or recorded. Check the id, or use "
            "the sessions fixture (SessionsClient), which encodes or refuses such ids.",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*refused GET http://127.0.0.1:*/v4/sessions/..: its path "
            "resolves to /v4/, outside the API's base path /v4*"
        ]
    )
    written = sorted(p.name for p in (pytester.path / "cassettes").rglob("*.yaml"))
    assert written == ["test_inside_is_fine.yaml"]


@pytest.mark.parametrize(
    ("uri", "escaped"),
    [
        ("http://127.0.0.1:5/x", "/x"),
        ("http://127.0.0.1:5/v4/", "/v4/"),
        ("http://127.0.0.1:5/v4", "/v4"),
        ("HTTP://127.0.0.1:5/v4/sessions/%2e%2e/%2E%2E/y", "/y"),
        ("http://127.0.0.1:5/v4/sessions", None),
        ("http://127.0.0.1:5/v4/sessions/a/../b", None),
        ("http://127.0.0.1:6/x", None),  # another service: not the API's business
        ("https://127.0.0.1:5/x", None),
    ],
)
def test_path_outside_base(uri: str, escaped: str | None) -> None:
    assert path_outside_base(uri, "http://127.0.0.1:5/v4") == escaped


def test_dot_segments() -> None:
    assert resolve_dot_segments("/v4/sessions/../../../../x") == "/x"
    assert resolve_dot_segments("/v4/sessions/./a/.") == "/v4/sessions/a/"
    assert has_dot_segment("/sessions/..")
    assert has_dot_segment("/sessions/%2E/x")
    assert not has_dot_segment("/sessions/sesh_1.2")
    assert not has_dot_segment("/sessions/...")
