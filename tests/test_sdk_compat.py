"""The official SDK (`humanloop==0.5.18`) against the stand-in.

The SDK's calls skip body validation by default (and its own validating path
is broken: `skip_deserialization=False` raises NameError in 0.5.18), so these
tests feed each body to the SDK's generated models explicitly: a body that
would not parse there fails here.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hl_testkit.standin import (
    DEMO_PROJECT_ID,
    DEMO_SESSION_ID,
    EMPTY_PROJECT_ID,
    STANDIN_API_KEY,
    StandinServer,
)

humanloop = pytest.importorskip("humanloop")

from humanloop.model.create_session_response import CreateSessionResponse  # noqa: E402
from humanloop.model.http_validation_error import HTTPValidationError  # noqa: E402
from humanloop.model.paginated_data_session_response import (  # noqa: E402
    PaginatedDataSessionResponse,
)
from humanloop.model.session_response import SessionResponse  # noqa: E402


@pytest.fixture
def sdk(standin: StandinServer) -> Any:
    return humanloop.Humanloop(
        api_key=STANDIN_API_KEY, host=standin.base_url, openai_api_key="sk-not-sent"
    )


def parse(model: Any, body: Any, sdk: Any) -> Any:
    """Validate `body` with one of the SDK's models; raises if it does not conform."""
    return model.from_openapi_data_oapg(body, _configuration=sdk.sessions.api_client.configuration)


def test_create(sdk: Any, standin: StandinServer) -> None:
    response = sdk.sessions.create()
    assert response.status == 201
    assert response.body["id"].startswith("sesh_")
    assert response.headers["X-Request-Id"]
    assert response.round_trip_time > 0
    parse(CreateSessionResponse, response.body, sdk)
    (sent,) = standin.requests
    assert (sent.method, sent.path, sent.body) == ("POST", "/v4/sessions", b"")
    assert sent.header("User-Agent") == "Konfig/0.5.18/python"
    assert sent.header("X-API-KEY") == STANDIN_API_KEY
    assert "sk-not-sent" not in str(dict(sent.headers))


@pytest.mark.parametrize("which", ["demo", "created"])
def test_get(sdk: Any, which: str) -> None:
    session_id = DEMO_SESSION_ID if which == "demo" else sdk.sessions.create().body["id"]
    response = sdk.sessions.get(id=session_id)
    assert response.status == 200
    model = parse(SessionResponse, response.body, sdk)
    assert model["id"] == session_id
    assert response.body["datapoints_count"] == (3 if which == "demo" else 0)
    assert isinstance(response.body["projects"], list)
    assert response.body["created_at"].endswith("Z")


def test_get_demo_optional_fields(sdk: Any) -> None:
    body = sdk.sessions.get(id=DEMO_SESSION_ID).body
    assert body["reference_id"] == "demo-conversation-1"
    assert body["first_inputs"] == {"question": "How do I reset my password?"}
    assert body["last_output"] == "You're welcome."


@pytest.mark.parametrize(
    ("project_id", "page", "size", "count", "total"),
    [
        (DEMO_PROJECT_ID, 1, 10, 10, 23),
        (DEMO_PROJECT_ID, 3, 10, 3, 23),
        (DEMO_PROJECT_ID, 9, 10, 0, 23),
        (DEMO_PROJECT_ID, 1, 100, 23, 23),
        (EMPTY_PROJECT_ID, 1, 10, 0, 0),
    ],
)
def test_list(
    sdk: Any,
    standin: StandinServer,
    project_id: str,
    page: int,
    size: int,
    count: int,
    total: int,
) -> None:
    response = sdk.sessions.list(project_id=project_id, page=page, size=size)
    assert response.status == 200
    parse(PaginatedDataSessionResponse, response.body, sdk)
    assert len(response.body["records"]) == count
    assert (response.body["page"], response.body["size"], response.body["total"]) == (
        page,
        size,
        total,
    )
    assert standin.requests[-1].query == f"project_id={project_id}&page={page}&size={size}"


def test_every_demo_record_parses(sdk: Any) -> None:
    records = sdk.sessions.list(project_id=DEMO_PROJECT_ID, size=50).body["records"]
    assert len(records) == 23
    for record in records:
        parse(SessionResponse, record, sdk)


def test_the_models_do_reject_a_bad_body(sdk: Any) -> None:
    # Guards the tests above: parse() must be able to fail.
    body = dict(sdk.sessions.get(id=DEMO_SESSION_ID).body)
    body["created_at"] = "yesterday"
    with pytest.raises(Exception, match="datetime"):
        parse(SessionResponse, body, sdk)


def test_404_raises_the_sdk_api_exception(sdk: Any) -> None:
    with pytest.raises(humanloop.ApiException) as caught:
        sdk.sessions.get(id="sesh_missing")
    assert caught.value.status == 404
    assert caught.value.body == {"detail": "Session not found"}
    assert caught.value.reason == "Not Found"


def test_422_raises_the_sdk_api_exception(sdk: Any) -> None:
    with pytest.raises(humanloop.ApiException) as caught:
        sdk.sessions.list(project_id=DEMO_PROJECT_ID, page=0)
    error = caught.value
    assert error.status == 422
    assert error.body["detail"][0]["loc"] == ["query", "page"]
    parse(HTTPValidationError, error.body, sdk)


def test_wrong_key_raises_401(standin: StandinServer) -> None:
    sdk = humanloop.Humanloop(api_key="hl-wrong", host=standin.base_url)
    with pytest.raises(humanloop.ApiException) as caught:
        sdk.sessions.create()
    assert caught.value.status == 401


def test_async_create(sdk: Any, standin: StandinServer) -> None:
    async def create() -> Any:
        return await sdk.sessions.acreate()

    response = asyncio.run(create())
    assert response.status == 201
    parse(CreateSessionResponse, response.body, sdk)
    assert standin.requests[-1].method == "POST"


def test_sdk_does_not_escape_slashes_in_ids(sdk: Any, standin: StandinServer) -> None:
    # Unlike SessionsClient, the SDK puts the id in the path as is: "a/b" becomes
    # two segments (the router's 404) and "../x" is resolved away before sending.
    with pytest.raises(humanloop.ApiException) as caught:
        sdk.sessions.get(id="a/b")
    assert caught.value.body == {"detail": "Not Found"}
    with pytest.raises(humanloop.ApiException):
        sdk.sessions.get(id="../x")
    assert [r.path for r in standin.requests] == ["/v4/sessions/a/b", "/v4/x"]
