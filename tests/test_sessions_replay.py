"""The `sessions` fixture's client in direct replay (requests' `HTTPAdapter.send`
answering from the index: `hl_testkit.recording.requests_replay`, with the client's
`trust_env` off) agrees with vcrpy's path: the same results and `ApiException`s
(status, reason, headers in order, body, cookies), the same misses and messages, the
same bookkeeping, summary and strict verdicts.

Each case runs one sequence of `SessionsClient` calls twice on the same cassette: once
through vcrpy's stubs (direct replay off), once directly, and compares everything a
test or the plugin can see. (`tests/test_requests_replay.py` does the same for raw
requests clients, with the corners left to vcrpy.)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from hl_testkit.cassettes import file as cassette_file
from hl_testkit.cassettes.model import CassetteData, Interaction, RecordedRequest, RecordedResponse
from hl_testkit.client import SessionsClient
from hl_testkit.errors import ApiBoundaryError, ApiException
from hl_testkit.recording import requests_replay
from hl_testkit.recording.recorder import CassetteMissError, Recording, activated

API = "https://api.humanloop.com/v4"
JSON = {"Content-Type": "application/json"}


def _exchange(
    method: str, target: str, status: int, reason: str, headers: dict[str, Any], body: bytes
) -> Interaction:
    return Interaction(
        RecordedRequest(method, API + target, {"Accept": "application/json"}),
        RecordedResponse(status, reason, headers, body),
    )


INTERACTIONS = [
    _exchange("POST", "/sessions", 201, "Created", JSON, b'{"id":"sesh_1"}'),
    _exchange("POST", "/sessions", 201, "Created", JSON, b'{"id":"sesh_2"}'),
    _exchange("GET", "/sessions/sesh_1", 200, "OK", {**JSON, "X-Extra": "a"}, b'{"id":"sesh_1"}'),
    _exchange(
        "GET",
        "/sessions?project_id=pr_1&page=1&size=2",
        200,
        "OK",
        {"Content-Type": "application/json; charset=utf-8", "Vary": ["Accept", "Origin"]},
        b'{"records":[],"total":0}',
    ),
    _exchange("GET", "/sessions/sesh_404", 404, "Not Found", JSON, b'{"detail":"nope"}'),
    _exchange("GET", "/sessions/sesh_500", 500, "Boom Reason", {}, b"plain text, not JSON"),
    _exchange(
        "GET",
        "/sessions/sesh_cookie",
        200,
        "OK",
        {**JSON, "Set-Cookie": ["a=1; Path=/", "b=2; Path=/"], "Transfer-Encoding": "chunked"},
        b'{"id":"sesh_cookie"}',
    ),
    _exchange("GET", "/sessions/sesh_unused", 200, "OK", JSON, b'{"id":"sesh_unused"}'),
    _exchange(
        "GET", "/sessions/sesh_old", 301, "Moved", {"Location": f"{API}/sessions/sesh_new"}, b""
    ),
    _exchange("GET", "/sessions/sesh_new", 200, "OK", JSON, b'{"id":"sesh_new"}'),
]

Call = Callable[[SessionsClient], Any]
CALLS: list[Call] = [
    lambda s: s.create(),
    lambda s: s.create(),
    lambda s: s.create(),  # a third identical request: a miss (each plays once)
    lambda s: s.get(id="sesh_1"),
    lambda s: s.list(project_id="pr_1", page=1, size=2),
    lambda s: s.list(project_id="pr_1", page=4, size=2),  # a miss with a closest match
    lambda s: s.get(id="sesh_404"),
    lambda s: s.get(id="sesh_500"),
    lambda s: s.get(id="sesh_cookie"),
    lambda s: s.get(id="sesh_old"),  # a redirect, followed by requests
    lambda s: s.http.get(API + "/sessions/sesh_1"),  # already played: a miss
    lambda s: s.http.get(API + "/sessions/../../escape"),  # outside the base path
]


def _write(path: Path, interactions: list[Interaction]) -> Path:
    data = CassetteData(interactions, "stand-in", "2026-01-01")
    path.write_text(cassette_file.dumps(data), encoding="utf-8")
    return path


def _seen(outcome: Any) -> Any:
    """What a test can see of one call's result or error (not its timing)."""
    if isinstance(outcome, requests.Response):
        cookies = sorted(outcome.cookies.get_dict().items())  # type: ignore[no-untyped-call]
        return ("response", outcome.status_code, outcome.reason, list(outcome.headers.items()),
                outcome.content, outcome.url, cookies)  # fmt: skip
    if isinstance(outcome, ApiException):
        return ("api", outcome.status, outcome.reason, outcome.body, list(outcome.headers.items()),
                outcome.text, str(outcome))  # fmt: skip
    if isinstance(outcome, Exception):
        return (type(outcome).__name__, str(outcome))
    return ("ok", outcome.status, outcome.body, list(outcome.headers.items()))


#: The URIs the direct path answered (`Recording.answer` is its alone), in order.
ANSWERED: list[str] = []


def _replay(path: Path, direct: bool, calls: list[Call] = CALLS) -> tuple[list[Any], Any]:
    recording = Recording(path=path, record_mode="none", base_url=API, nodeid="t.py::t")
    recording.load()
    answer = Recording.answer
    ANSWERED.clear()

    def answered(self: Recording, method: str, uri: str, *args: Any) -> Any:
        ANSWERED.append(uri)
        return answer(self, method, uri, *args)

    with pytest.MonkeyPatch.context() as patch:
        # Not direct: vcrpy's path throughout (a test's own requests clients too).
        patch.setattr(requests_replay, "enabled", direct)
        patch.setattr(Recording, "answer", answered)
        seen = _calls(recording, direct, calls)
    state = (
        recording.played_positions(),
        recording.misses,
        recording.unplayed_count,
        [i.request.uri for i in recording.unplayed],
        dict(recording._next),
    )
    return seen, state


def _calls(recording: Recording, direct: bool, calls: list[Call]) -> list[Any]:
    seen: list[Any] = []
    with activated(recording, {}), SessionsClient("hl_sk_replay", base_url=API) as client:
        client.http.trust_env = False
        assert recording.direct_replay
        assert (requests.adapters.HTTPAdapter.send is requests_replay._send) is direct
        for call in calls:
            try:
                seen.append(_seen(call(client)))
            except (ApiException, CassetteMissError, ApiBoundaryError) as exc:
                seen.append(_seen(exc))
        seen.append(sorted(client.http.cookies.get_dict().items()))  # type: ignore[no-untyped-call]
    return seen


def test_both_paths_give_identical_results(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.yaml", INTERACTIONS)
    slow, slow_state = _replay(path, direct=False)
    assert ANSWERED == []
    fast, fast_state = _replay(path, direct=True)
    # Every request under the base URL was answered directly, the redirect followed too;
    # the escape leaves it (requests resolves the dots: /escape) and vcrpy's path refuses it.
    assert len(ANSWERED) == 12
    assert ANSWERED[10] == API + "/sessions/sesh_new"
    assert not any(uri.endswith("/escape") for uri in ANSWERED)
    for n, (a, b) in enumerate(zip(slow, fast, strict=True)):
        assert a == b, f"call {n}"
    assert slow_state == fast_state
    # The cases are what they claim to be (a comparison of two empty lists proves nothing).
    kinds = [s[0] for s in slow[:-1]]
    assert kinds.count("CassetteMissError") == 3
    assert "ApiBoundaryError" in kinds
    assert slow[1][:3] == ("ok", 201, {"id": "sesh_2"})
    assert slow[9][:3] == ("ok", 200, {"id": "sesh_new"})  # the redirect was followed
    assert slow[-1] == [("a", "1"), ("b", "2")]  # the session's jar got the cookies
    assert len(slow_state[1]) == 4  # three misses and the refused path
    assert slow_state[2] == 1  # sesh_unused


def test_unattributed_and_other_tests_interactions(tmp_path: Path) -> None:
    """A shared cassette: another test's interaction is never played (its miss names it)."""
    other = Interaction(
        INTERACTIONS[2].request, INTERACTIONS[2].response, recorded_by="t.py::other"
    )
    path = _write(tmp_path / "c.yaml", [other, INTERACTIONS[3]])
    calls: list[Call] = [lambda s: s.get(id="sesh_1"), lambda s: s.list("pr_1", 1, 2)]
    slow = _replay(path, direct=False, calls=calls)
    assert "t.py::other" in slow[0][0][1]
    assert slow == _replay(path, direct=True, calls=calls)


# -- the plugin: the fixture takes the direct path exactly when it may --------------------


PLUGIN_TESTS = """
import pytest
from requests.adapters import HTTPAdapter

from hl_testkit.recording import requests_replay

SLOW = {"before_record_request": lambda request: request}  # a hook: vcrpy's path


@pytest.fixture(scope="module")
def hl_vcr_config():
    return SLOW if __import__("os").environ.get("HL_TEST_SLOW") else {}


def _direct(sessions):
    adapter = sessions.http.get_adapter(sessions.base_url + "/x")
    return type(adapter) is HTTPAdapter and HTTPAdapter.send is requests_replay._send


@pytest.mark.hl_cassette(name="shared")
def test_calls(sessions, hl_cassette):
    assert sessions.get(id="sesh_1").body == {"id": "sesh_1"}
    print("DIRECT", _direct(sessions))


@pytest.mark.hl_cassette(name="shared")
def test_missing(sessions):
    sessions.get(id="sesh_nowhere")


@pytest.mark.hl_cassette(name="shared")
def test_caught_miss(sessions):
    try:
        sessions.list(project_id="pr_1", page=9, size=2)
    except Exception:
        pass


def test_own(sessions):  # its own cassette: under --hl-strict, the unplayed one fails it
    assert sessions.create().body == {"id": "sesh_1"}
"""


def _run_plugin(
    pytester: pytest.Pytester, slow: bool, *args: str, module: str = "test_direct", tests: str = ""
) -> pytest.RunResult:
    """`tests` (PLUGIN_TESTS by default) run as `module` through pytest, with the shared
    cassette and test_own's; `slow` turns direct replay off (HL_TEST_SLOW)."""
    pytester.makepyfile(**{module: tests or PLUGIN_TESTS})
    cassette = pytester.path / "cassettes" / module / "shared.yaml"
    cassette.parent.mkdir(parents=True, exist_ok=True)
    _write(cassette, INTERACTIONS)
    _write(cassette.with_name("test_own.yaml"), INTERACTIONS[:2])
    with pytest.MonkeyPatch.context() as patch:
        if slow:
            patch.setenv("HL_TEST_SLOW", "1")
        else:
            patch.delenv("HL_TEST_SLOW", raising=False)
        return pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider", *args)


def _summary(result: pytest.RunResult) -> list[str]:
    lines = result.outlines
    start = next(n for n, line in enumerate(lines) if "hl-testkit" in line and "---" in line)
    return [line for line in lines[start:] if not line.startswith("=")]


def _failures(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if line.startswith(("E ", "hl-testkit", "  "))]


@pytest.mark.parametrize("strict", [(), ("--hl-strict",)])
def test_plugin_verdicts_agree(pytester: pytest.Pytester, strict: tuple[str, ...]) -> None:
    slow = _run_plugin(pytester, True, *strict)
    fast = _run_plugin(pytester, False, *strict)
    assert "DIRECT False" in slow.stdout.str()
    assert "DIRECT True" in fast.stdout.str()
    assert slow.parseoutcomes() == fast.parseoutcomes()
    # test_missing fails; test_calls (a body breaking its schema) and test_caught_miss
    # error at teardown; test_own passes, unless strict (one interaction left unplayed).
    expected = {"passed": 3, "failed": 1, "errors": 2 + bool(strict)}
    assert fast.parseoutcomes() == expected
    assert _summary(slow) == _summary(fast)
    assert _failures(slow) == _failures(fast)
