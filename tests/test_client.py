"""`SessionsClient` against the stand-in over real loopback HTTP."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import pytest
import requests

from hl_testkit import ApiException, ApiResponse, SessionsClient, __version__
from hl_testkit.client import DEFAULT_BASE_URL, DEFAULT_TIMEOUT
from hl_testkit.standin import DEMO_PROJECT_ID, DEMO_SESSION_ID, STANDIN_API_KEY, StandinServer
from hl_testkit.standin.app import MISSING_KEY_DETAIL, WRONG_KEY_DETAIL

# A loopback port nothing listens on: a request that went there would fail loudly.
UNUSED_URL = "http://127.0.0.1:9/v4"


# -- the three calls ----------------------------------------------------------------------


def test_create(client: SessionsClient, standin: StandinServer) -> None:
    result = client.create()
    assert isinstance(result, ApiResponse)
    assert result.status == 201
    assert result.body["id"].startswith("sesh_")
    assert result.headers["Content-Type"] == "application/json"
    assert "X-Request-Id" in result.headers
    assert isinstance(result.round_trip_time, float)
    assert result.round_trip_time > 0
    (sent,) = standin.requests
    assert (sent.method, sent.path, sent.query) == ("POST", "/v4/sessions", "")
    assert sent.body == b""
    assert sent.header("Content-Length") == "0"
    assert sent.header("Content-Type") is None


def test_get(client: SessionsClient, standin: StandinServer) -> None:
    result = client.get(DEMO_SESSION_ID)
    assert result.status == 200
    assert result.body["id"] == DEMO_SESSION_ID
    assert result.body["datapoints_count"] == 3
    assert standin.requests[0].path == f"/v4/sessions/{DEMO_SESSION_ID}"


def test_get_what_create_made(client: SessionsClient) -> None:
    session_id = client.create().body["id"]
    assert client.get(id=session_id).body["projects"] == []


def test_list(client: SessionsClient) -> None:
    result = client.list(DEMO_PROJECT_ID, page=3, size=10)
    assert result.status == 200
    assert (result.body["page"], result.body["size"], result.body["total"]) == (3, 10, 23)
    assert len(result.body["records"]) == 3


@pytest.mark.parametrize(
    ("page", "size", "query"),
    [
        (None, None, f"project_id={DEMO_PROJECT_ID}"),
        (2, None, f"project_id={DEMO_PROJECT_ID}&page=2"),
        (None, 5, f"project_id={DEMO_PROJECT_ID}&size=5"),
        (2, 5, f"project_id={DEMO_PROJECT_ID}&page=2&size=5"),
    ],
)
def test_list_query_order_and_omissions(
    client: SessionsClient, standin: StandinServer, page: int | None, size: int | None, query: str
) -> None:
    client.list(project_id=DEMO_PROJECT_ID, page=page, size=size)
    assert standin.requests[-1].query == query


def test_headers_sent(client: SessionsClient, standin: StandinServer) -> None:
    client.create()
    client.get(DEMO_SESSION_ID)
    client.list(DEMO_PROJECT_ID)
    assert len(standin.requests) == 3
    for sent in standin.requests:
        assert sent.header("X-API-KEY") == STANDIN_API_KEY
        assert sent.header("Accept") == "application/json"
        assert sent.header("Accept-Encoding") == "identity"
        assert sent.header("User-Agent") == f"hl-testkit/{__version__}"


def test_uses_the_given_requests_session(standin: StandinServer) -> None:
    http = requests.Session()
    http.headers["X-Trace"] = "from-my-session"
    with SessionsClient(standin.api_key, base_url=standin.base_url, session=http) as client:
        assert client.http is http
        client.create()
    assert standin.requests[0].header("X-Trace") == "from-my-session"


# -- configuration --------------------------------------------------------------------------


def test_base_url_argument_beats_environment(
    standin: StandinServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUMANLOOP_BASE_URL", UNUSED_URL)
    client = SessionsClient(STANDIN_API_KEY, base_url=standin.base_url + "/")
    assert client.base_url == standin.base_url
    assert client.create().status == 201


def test_base_url_from_environment(standin: StandinServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUMANLOOP_BASE_URL", standin.base_url)
    client = SessionsClient(STANDIN_API_KEY)
    assert client.base_url == standin.base_url
    assert client.create().status == 201
    assert len(standin.requests) == 1


def test_base_url_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUMANLOOP_BASE_URL", raising=False)
    assert SessionsClient("k").base_url == DEFAULT_BASE_URL == "https://api.humanloop.com/v4"


def test_api_key_argument_beats_environment(
    standin: StandinServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUMANLOOP_API_KEY", "hl-from-env")
    client = SessionsClient(STANDIN_API_KEY, base_url=standin.base_url)
    assert client.create().status == 201
    assert standin.requests[0].header("X-API-KEY") == STANDIN_API_KEY


def test_api_key_from_environment(standin: StandinServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUMANLOOP_API_KEY", STANDIN_API_KEY)
    client = SessionsClient(base_url=standin.base_url)
    assert client.api_key == STANDIN_API_KEY
    assert client.create().status == 201


def test_no_api_key_sends_no_header(
    standin: StandinServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HUMANLOOP_API_KEY", raising=False)
    client = SessionsClient(base_url=standin.base_url)
    with pytest.raises(ApiException) as caught:
        client.create()
    assert caught.value.body == {"detail": MISSING_KEY_DETAIL}
    assert standin.requests[0].header("X-API-KEY") is None


def test_secrets_hold_the_api_key_and_provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUMANLOOP_API_KEY", raising=False)
    client = SessionsClient(
        "hl-key", base_url=UNUSED_URL, openai_api_key="sk-openai", cohere_api_key="co-key"
    )
    assert client.secrets == {
        "HUMANLOOP_API_KEY": "hl-key",
        "OPENAI_API_KEY": "sk-openai",
        "COHERE_API_KEY": "co-key",
    }
    assert SessionsClient(base_url=UNUSED_URL).secrets == {}


def test_provider_keys_are_not_sent(standin: StandinServer) -> None:
    with SessionsClient(
        STANDIN_API_KEY, base_url=standin.base_url, openai_api_key="sk-never-sent"
    ) as client:
        client.list(DEMO_PROJECT_ID)
    sent = standin.requests[0]
    assert "sk-never-sent" not in json.dumps(dict(sent.headers)) + sent.query + sent.path


# -- errors --------------------------------------------------------------------------------


def assert_api_exception(error: ApiException, status: int, body: Any) -> None:
    assert error.status == status
    assert error.body == body
    assert error.reason
    assert error.headers["Content-Type"] == "application/json"
    assert "X-Request-Id" in error.headers
    assert isinstance(error.round_trip_time, float)
    assert error.round_trip_time > 0
    assert str(status) in str(error)


def test_401_missing_and_wrong_key(standin: StandinServer) -> None:
    with pytest.raises(ApiException) as caught:
        SessionsClient("hl-wrong", base_url=standin.base_url).get(DEMO_SESSION_ID)
    assert_api_exception(caught.value, 401, {"detail": WRONG_KEY_DETAIL})
    assert caught.value.reason == "Unauthorized"


def test_404(client: SessionsClient) -> None:
    with pytest.raises(ApiException) as caught:
        client.get("sesh_missing")
    assert_api_exception(caught.value, 404, {"detail": "Session not found"})
    assert caught.value.reason == "Not Found"


def test_422_detail(client: SessionsClient) -> None:
    with pytest.raises(ApiException) as caught:
        client.list(DEMO_PROJECT_ID, page=0, size=-1)
    error = caught.value
    assert error.status == 422
    assert [d["loc"] for d in error.body["detail"]] == [["query", "page"], ["query", "size"]]
    assert error.body["detail"][0]["type"] == "value_error.number.not_ge"
    assert_api_exception(error, 422, error.body)


def test_html_502_is_an_api_exception_with_the_text(
    client: SessionsClient, standin: StandinServer
) -> None:
    standin.inject("502")
    with pytest.raises(ApiException) as caught:
        client.create()
    error = caught.value
    assert not isinstance(error, ValueError)  # not a JSONDecodeError in disguise
    assert error.status == 502
    assert "502" in str(error)
    assert "text/html" in str(error)
    assert error.text.startswith("<html>")
    assert "502 Bad Gateway" in error.text
    assert error.headers["Content-Type"] == "text/html"


def test_429_is_an_api_exception_with_retry_after(
    client: SessionsClient, standin: StandinServer
) -> None:
    standin.inject("429", retry_after=4)
    with pytest.raises(ApiException) as caught:
        client.list(DEMO_PROJECT_ID)
    assert caught.value.status == 429
    assert caught.value.headers["Retry-After"] == "4"
    assert "Rate limit" in caught.value.body["detail"]


def test_500_is_an_api_exception(client: SessionsClient, standin: StandinServer) -> None:
    standin.inject("500")
    with pytest.raises(ApiException) as caught:
        client.get(DEMO_SESSION_ID)
    assert_api_exception(caught.value, 500, {"detail": "Internal Server Error"})


# -- argument safety -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("session_id", "raw_path"),
    [
        ("../x", "/v4/sessions/..%2Fx"),
        ("a/b", "/v4/sessions/a%2Fb"),
        ("%2e%2e", "/v4/sessions/%252e%252e"),
        ("x?page=2#frag", "/v4/sessions/x%3Fpage%3D2%23frag"),
    ],
)
def test_hostile_ids_reach_get_and_are_looked_up_literally(
    client: SessionsClient, standin: StandinServer, session_id: str, raw_path: str
) -> None:
    with pytest.raises(ApiException) as caught:
        client.get(session_id)
    # "Session not found" comes from the get route, not from the router's 404.
    assert caught.value.status == 404
    assert caught.value.body == {"detail": "Session not found"}
    (sent,) = standin.requests
    assert (sent.path, sent.query) == (raw_path, "")
    assert unquote(sent.path.removeprefix("/v4/sessions/")) == session_id


@pytest.mark.parametrize("session_id", ["..", ".", "", "..."])
def test_dot_and_empty_ids_are_refused_before_any_request(
    client: SessionsClient, standin: StandinServer, session_id: str
) -> None:
    with pytest.raises(ValueError, match="id"):
        client.get(session_id)
    assert standin.requests == []


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"size": "ten"}, TypeError),
        ({"page": 1.5}, TypeError),
        ({"page": True}, TypeError),
        ({"size": False}, TypeError),
        ({"project_id": None}, TypeError),
        ({"project_id": ""}, ValueError),
    ],
)
def test_bad_list_arguments_are_refused_before_any_request(
    client: SessionsClient, standin: StandinServer, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    arguments: dict[str, Any] = {"project_id": DEMO_PROJECT_ID, **kwargs}
    with pytest.raises(error):
        client.list(**arguments)
    assert standin.requests == []


def test_non_string_id_is_a_type_error(client: SessionsClient, standin: StandinServer) -> None:
    bad: Any = 42
    with pytest.raises(TypeError):
        client.get(bad)
    assert standin.requests == []


# -- timeouts --------------------------------------------------------------------------------


def test_a_default_timeout_is_set() -> None:
    client = SessionsClient("k", base_url=UNUSED_URL)
    assert client.timeout == DEFAULT_TIMEOUT
    connect, read = DEFAULT_TIMEOUT
    assert 0 < connect <= 10
    assert 0 < read <= 60


def test_the_timeout_is_applied(standin: StandinServer) -> None:
    standin.inject("slow", delay=5)
    client = SessionsClient(STANDIN_API_KEY, base_url=standin.base_url, timeout=0.2)
    with pytest.raises(requests.exceptions.Timeout):
        client.get(DEMO_SESSION_ID)


def test_round_trip_time_covers_a_slow_answer(
    client: SessionsClient, standin: StandinServer
) -> None:
    standin.inject("slow", delay=0.2)
    assert client.get(DEMO_SESSION_ID).round_trip_time >= 0.2
