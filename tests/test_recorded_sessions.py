"""The project's own cassette-backed tests: recorded once from the stand-in,
committed under cassettes/tests/test_recorded_sessions/, replayed offline.

Re-record with: pytest --hl-record-mode=rewrite tests/test_recorded_sessions.py
"""

from __future__ import annotations

import pytest
import requests
from humanloop import Humanloop

from hl_testkit import ApiException, SessionsClient
from hl_testkit.contract.schemas import validate_response
from hl_testkit.recording.recorder import Recording
from hl_testkit.standin import DEMO_PROJECT_ID, DEMO_SESSION_ID, EMPTY_PROJECT_ID


def test_create_then_get(sessions: SessionsClient) -> None:
    created = sessions.create()
    assert created.status == 201
    assert created.body["id"].startswith("sesh_")
    assert validate_response("create", 201, created.body) == []

    fetched = sessions.get(id=created.body["id"])
    assert fetched.status == 200
    assert fetched.body["id"] == created.body["id"]
    assert fetched.body["datapoints_count"] == 0
    assert validate_response("get", 200, fetched.body) == []


def test_two_creates_give_two_sessions(sessions: SessionsClient) -> None:
    first, second = sessions.create(), sessions.create()
    assert first.body["id"] != second.body["id"]


def test_get_seeded_session(sessions: SessionsClient) -> None:
    session = sessions.get(id=DEMO_SESSION_ID).body
    assert session["id"] == DEMO_SESSION_ID
    assert {p["id"] for p in session["projects"]} >= {DEMO_PROJECT_ID}
    assert session["datapoints_count"] >= 1
    assert validate_response("get", 200, session) == []


def test_list_every_page(sessions: SessionsClient) -> None:
    pages = [sessions.list(project_id=DEMO_PROJECT_ID, page=n, size=10).body for n in (1, 2, 3)]
    assert [len(p["records"]) for p in pages] == [10, 10, 3]
    assert {p["total"] for p in pages} == {23}
    ids = [r["id"] for p in pages for r in p["records"]]
    assert len(set(ids)) == 23
    for page in pages:
        assert validate_response("list", 200, page) == []


def test_list_past_the_end_and_size_above_total(sessions: SessionsClient) -> None:
    past = sessions.list(project_id=DEMO_PROJECT_ID, page=4, size=10).body
    assert past["records"] == []
    assert past["total"] == 23
    everything = sessions.list(project_id=DEMO_PROJECT_ID, size=50).body
    assert len(everything["records"]) == 23


def test_list_empty_project(sessions: SessionsClient) -> None:
    page = sessions.list(project_id=EMPTY_PROJECT_ID).body
    assert page["records"] == []
    assert page["total"] == 0


def test_get_unknown_session_is_404(sessions: SessionsClient) -> None:
    with pytest.raises(ApiException) as caught:
        sessions.get(id="sesh_does_not_exist")
    assert caught.value.status == 404
    assert validate_response("get", 404, caught.value.body) == []


def test_list_page_zero_is_422(sessions: SessionsClient) -> None:
    with pytest.raises(ApiException) as caught:
        sessions.list(project_id=DEMO_PROJECT_ID, page=0)
    assert caught.value.status == 422
    assert caught.value.body["detail"][0]["loc"] == ["query", "page"]
    assert validate_response("list", 422, caught.value.body) == []


def test_list_without_project_is_422(hl_cassette: Recording) -> None:
    # Any client goes through the cassette, not only ours: here, plain requests.
    response = requests.get(
        hl_cassette.base_url + "/sessions", headers={"X-API-KEY": hl_cassette.api_key}, timeout=5
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "project_id"]


def test_wrong_key_is_401(hl_cassette: Recording) -> None:
    client = SessionsClient("not-the-key", base_url=hl_cassette.base_url)
    with pytest.raises(ApiException) as caught:
        client.create()
    assert caught.value.status == 401
    assert validate_response("create", 401, caught.value.body) == []


def test_official_sdk_through_the_cassette(hl_cassette: Recording) -> None:
    sdk = Humanloop(api_key=hl_cassette.api_key, host=hl_cassette.base_url)
    created = sdk.sessions.create()
    assert created.body["id"].startswith("sesh_")
    page = sdk.sessions.list(project_id=DEMO_PROJECT_ID, page=1, size=5)
    assert len(page.body["records"]) == 5
