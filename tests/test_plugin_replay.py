"""The plugin end to end: record against a server, then replay with none.

Each test runs pytest itself (`pytester`, in-process), so what is checked is
what a user sees: outcomes, the report header and the cassette files.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml

from hl_testkit.standin import StandinServer

SESSIONS_TEST = """
from hl_testkit.standin import DEMO_PROJECT_ID, DEMO_SESSION_ID


def test_calls(sessions, hl_cassette):
    listed = sessions.list(project_id=DEMO_PROJECT_ID, page=1, size=2)
    assert listed.body["total"] == 23
    assert sessions.get(id=DEMO_SESSION_ID).body["id"] == DEMO_SESSION_ID
    first, second = sessions.create().body["id"], sessions.create().body["id"]
    assert first != second
    print("RESULT", hl_cassette.record_mode, hl_cassette.base_url, first, second)
"""

CASSETTE = Path("cassettes", "test_calls", "test_calls.yaml")


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The inner runs see only what each test sets."""
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HUMANLOOP_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def result_line(result: pytest.RunResult) -> list[str]:
    """The inner test's `RESULT ...` line, split (needs `-s`)."""
    lines = [line.split("RESULT ", 1)[1] for line in result.outlines if "RESULT " in line]
    assert len(lines) == 1, result.outlines
    return lines[0].split()


def interactions(path: Path) -> list[dict[str, object]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    found: list[dict[str, object]] = data["interactions"]
    return found


def request_lines(path: Path) -> list[str]:
    out = []
    for item in interactions(path):
        request = item["request"]
        assert isinstance(request, dict)
        out.append(f"{request['method']} {request['uri']}")
    return out


def test_record_against_standin_then_replay_offline(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_calls=SESSIONS_TEST)

    recorded = pytester.runpytest("--hl-record-mode=once", "-s")
    recorded.assert_outcomes(passed=1)
    recorded.stdout.fnmatch_lines(
        [
            "hl-testkit: record mode once (from --hl-record-mode); "
            "recording against the embedded stand-in server*"
        ]
    )
    mode, base_url, *ids = result_line(recorded)
    assert mode == "once"
    assert base_url.startswith("http://127.0.0.1:")
    cassette = pytester.path / CASSETTE
    assert request_lines(cassette) == [
        "GET https://api.humanloop.com/v4/sessions?project_id=pr_demo&page=1&size=2",
        "GET https://api.humanloop.com/v4/sessions/sesh_demo",
        "POST https://api.humanloop.com/v4/sessions",
        "POST https://api.humanloop.com/v4/sessions",
    ]
    text = cassette.read_text(encoding="utf-8")
    assert "recorded_against: stand-in" in text
    assert "127.0.0.1" not in text  # the stand-in's random port is not kept
    assert "hl-standin-key" not in text  # nor the API key

    replayed = pytester.runpytest("-s")
    replayed.assert_outcomes(passed=1)
    replayed.stdout.fnmatch_lines(
        ["hl-testkit: record mode none (from default); replay only, network blocked*"]
    )
    mode, base_url, *replay_ids = result_line(replayed)
    assert (mode, base_url) == ("none", "https://api.humanloop.com/v4")  # no stand-in
    assert replay_ids == ids  # identical requests answered in recorded order

    # A base URL where nothing listens does not matter: the cassette answers.
    dead = f"http://127.0.0.1:{closed_port()}/v4"
    monkeypatch.setenv("HUMANLOOP_BASE_URL", dead)
    offline = pytester.runpytest("-s")
    offline.assert_outcomes(passed=1)
    assert result_line(offline)[:2] == ["none", dead]
    assert cassette.read_text(encoding="utf-8") == text


def test_live_recording_replays_on_another_port(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Configured base URL + key = "live": the cassette does not depend on host or port."""
    pytester.makepyfile(test_calls=SESSIONS_TEST)
    with StandinServer() as first:
        monkeypatch.setenv("HUMANLOOP_BASE_URL", first.base_url)
        monkeypatch.setenv("HUMANLOOP_API_KEY", first.api_key)
        recorded = pytester.runpytest("--hl-record-mode=once", "-s")
        recorded.assert_outcomes(passed=1)
        recorded.stdout.fnmatch_lines(
            [f"hl-testkit: record mode once *recording against the live API at {first.base_url};*"]
        )
        assert result_line(recorded)[1] == first.base_url
        assert len(first.requests) == 4  # it really went to our server
        first_port = first.port
    cassette = pytester.path / CASSETTE
    text = cassette.read_text(encoding="utf-8")
    assert "recorded_against: live" in text
    assert f":{first_port}" not in text

    with StandinServer() as second:
        assert second.port != first_port
        monkeypatch.setenv("HUMANLOOP_BASE_URL", second.base_url)
        monkeypatch.setenv("HUMANLOOP_API_KEY", second.api_key)
        replayed = pytester.runpytest("-s")
        replayed.assert_outcomes(passed=1)
        assert result_line(replayed)[:2] == ["none", second.base_url]
        # Recording more on the new port: every request still matches, none goes out.
        topped_up = pytester.runpytest("--hl-record-mode=new_episodes")
        topped_up.assert_outcomes(passed=1)
        assert second.requests == []
    assert cassette.read_text(encoding="utf-8") == text


def test_identical_requests_replay_in_order_then_miss(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_twice="""
        import os

        def test_creates(sessions):
            ids = [sessions.create().body["id"] for _ in range(int(os.environ["HLT_N"]))]
            print("RESULT", *ids)
        """
    )
    monkeypatch.setenv("HLT_N", "2")
    recorded = pytester.runpytest("--hl-record-mode=once", "-s")
    recorded.assert_outcomes(passed=1)
    ids = result_line(recorded)
    assert len(set(ids)) == 2
    replayed = pytester.runpytest("-s")
    replayed.assert_outcomes(passed=1)
    assert result_line(replayed) == ids

    monkeypatch.setenv("HLT_N", "3")
    third = pytester.runpytest()
    third.assert_outcomes(failed=1)
    third.stdout.fnmatch_lines(
        [
            "*request:  POST /sessions",
            "*all 2 recorded answer(s) to this request were already played: identical "
            "requests replay once each, in recorded order",
        ]
    )


def test_matching_ignores_query_order_and_json_layout(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_match="""
        import os
        import requests

        def test_it(hl_cassette):
            url, key = hl_cassette.base_url, {"X-API-KEY": hl_cassette.api_key}
            params = [("project_id", "pr_demo"), ("page", "1"), ("size", "2")]
            if os.environ.get("HLT_REPLAY"):
                params.reverse()
                body = dict(data='{ "b" : 1,\\n  "a": [1, 2] }', headers={**key,
                            "Content-Type": "application/json"})
            else:
                body = dict(json={"a": [1, 2], "b": 1}, headers=key)
            listed = requests.get(url + "/sessions", params=params, headers=key, timeout=5)
            assert listed.json()["total"] == 23
            created = requests.post(url + "/sessions", timeout=5, **body)
            assert created.status_code == 201
        """
    )
    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=1)
    monkeypatch.setenv("HLT_REPLAY", "1")
    pytester.runpytest().assert_outcomes(passed=1)


def test_base_url_option_beats_environment_in_replay(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_url="""
        def test_it(hl_cassette):
            print("RESULT", hl_cassette.record_mode, hl_cassette.base_url, hl_cassette.api_key)
        """
    )
    monkeypatch.setenv("HUMANLOOP_BASE_URL", "http://127.0.0.1:1/from-env")
    from_env = pytester.runpytest("-s")
    assert result_line(from_env) == ["none", "http://127.0.0.1:1/from-env", "hl-testkit-replay-key"]
    from_cli = pytester.runpytest("-s", "--hl-base-url=http://127.0.0.1:2/from-cli/")
    assert result_line(from_cli)[1] == "http://127.0.0.1:2/from-cli"
