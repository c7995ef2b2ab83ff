"""Other HTTP clients through `hl_cassette`: the official SDK (urllib3) and httpx."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml

pytest.importorskip("humanloop")

SDK_TEST = """
import pytest
from humanloop import Humanloop
from hl_testkit.standin import DEMO_PROJECT_ID, DEMO_SESSION_ID


def test_sdk(hl_cassette):
    hl = Humanloop(api_key=hl_cassette.api_key, host=hl_cassette.base_url)
    first = hl.sessions.create().body["id"]
    second = hl.sessions.create().body["id"]
    assert first != second
    got = hl.sessions.get(id=DEMO_SESSION_ID)
    assert got.status == 200 and got.body["id"] == DEMO_SESSION_ID
    listed = hl.sessions.list(project_id=DEMO_PROJECT_ID, page=2, size=5)
    assert [listed.body["page"], listed.body["size"], listed.body["total"]] == [2, 5, 23]
    assert len(listed.body["records"]) == 5
    print("RESULT", first, second)


# The SDK and SessionsClient send the same requests: in one cassette, side by side.
@pytest.mark.hl_cassette(name="test_sdk")
def test_client_on_the_sdk_cassette(sessions):
    sessions.create()
    sessions.create()
    assert sessions.get(id=DEMO_SESSION_ID).body["id"] == DEMO_SESSION_ID
    assert sessions.list(project_id=DEMO_PROJECT_ID, page=2, size=5).body["page"] == 2
"""

HTTPX_TEST = """
import httpx
from hl_testkit.standin import DEMO_SESSION_ID


def test_httpx(hl_cassette):
    headers = {"X-API-KEY": hl_cassette.api_key}
    with httpx.Client(base_url=hl_cassette.base_url, headers=headers, timeout=5) as client:
        got = client.get(f"/sessions/{DEMO_SESSION_ID}")
        assert got.status_code == 200 and got.json()["id"] == DEMO_SESSION_ID
        created = client.post("/sessions", json={"note": "from httpx"})
        assert created.status_code == 201
        print("RESULT", created.json()["id"])
"""


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HUMANLOOP_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v4"


def result_ids(result: pytest.RunResult) -> list[str]:
    lines = [line.split("RESULT ", 1)[1] for line in result.outlines if "RESULT " in line]
    assert len(lines) == 1, result.outlines
    return lines[0].split()


def uris(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [f"{i['request']['method']} {i['request']['uri']}" for i in data["interactions"]]


def test_official_sdk_records_and_replays(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_sdk=SDK_TEST)
    recorded = pytester.runpytest("--hl-record-mode=once", "-s")
    recorded.assert_outcomes(passed=2)
    ids = result_ids(recorded)
    path = pytester.path / "cassettes" / "test_sdk" / "test_sdk.yaml"
    assert uris(path) == 2 * [
        "POST https://api.humanloop.com/v4/sessions",
        "POST https://api.humanloop.com/v4/sessions",
        "GET https://api.humanloop.com/v4/sessions/sesh_demo",
        "GET https://api.humanloop.com/v4/sessions?project_id=pr_demo&page=2&size=5",
    ]
    # Each test recorded its own (a test replays only what it recorded): the same requests.
    interactions = yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"]
    assert [i["recorded_by"] for i in interactions] == 4 * ["test_sdk.py::test_sdk"] + 4 * [
        "test_sdk.py::test_client_on_the_sdk_cassette"
    ]
    assert [i["request"] for i in interactions[:4]] == [i["request"] for i in interactions[4:]]
    text = path.read_text(encoding="utf-8")
    assert "hl-standin-key" not in text  # the key never reaches the file
    assert "X-API-KEY" not in text
    assert "User-Agent" not in text  # machine-dependent headers are dropped

    monkeypatch.setenv("HUMANLOOP_BASE_URL", closed_port_url())
    replayed = pytester.runpytest("-s")
    replayed.assert_outcomes(passed=2)
    assert result_ids(replayed) == ids
    assert path.read_text(encoding="utf-8") == text


def test_httpx_records_and_replays(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("httpx")
    pytester.makepyfile(test_hx=HTTPX_TEST)
    recorded = pytester.runpytest("--hl-record-mode=once", "-s")
    recorded.assert_outcomes(passed=1)
    path = pytester.path / "cassettes" / "test_hx" / "test_httpx.yaml"
    assert uris(path) == [
        "GET https://api.humanloop.com/v4/sessions/sesh_demo",
        "POST https://api.humanloop.com/v4/sessions",
    ]
    assert "note: from httpx" in path.read_text(encoding="utf-8")

    monkeypatch.setenv("HUMANLOOP_BASE_URL", closed_port_url())
    replayed = pytester.runpytest("-s")
    replayed.assert_outcomes(passed=1)
    assert result_ids(replayed) == result_ids(recorded)
