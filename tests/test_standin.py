"""The stand-in server over real loopback HTTP, spoken to with http.client.

http.client sends the request target exactly as written, so these tests
control every byte of the path and query the server sees.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

from hl_testkit.cli.main import main
from hl_testkit.contract.schemas import validate_response
from hl_testkit.errors import HlTestkitError
from hl_testkit.standin import (
    DEMO_PROJECT_ID,
    DEMO_SESSION_ID,
    EMPTY_PROJECT_ID,
    STANDIN_API_KEY,
    Seed,
    StandinServer,
    default_seed,
    load_seed,
)
from hl_testkit.standin.app import MISSING_KEY_DETAIL, WRONG_KEY_DETAIL, StandinApp
from hl_testkit.standin.seed import parse_seed

SESSION_ID = re.compile(r"sesh_[0-9a-z]{24}")
SUPPORT_PROJECT_ID = "pr_support"


@dataclass
class Answer:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    server: StandinServer,
    method: str,
    target: str,
    *,
    key: str | None = STANDIN_API_KEY,
    body: bytes | None = None,
    timeout: float = 5.0,
) -> Answer:
    """One request with `target` sent verbatim (e.g. "/v4/sessions/..%2Fx")."""
    connection = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        headers = {"Accept": "application/json"}
        if key is not None:
            headers["X-API-KEY"] = key
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def list_target(**params: object) -> str:
    query = "&".join(f"{name}={value}" for name, value in params.items())
    return "/v4/sessions" + (f"?{query}" if query else "")


def seed_of(data: dict[str, Any]) -> Seed:
    return parse_seed(data, source="<test>")


SMALL_SEED: dict[str, Any] = {
    "base_time": "2023-06-01T12:00:00Z",
    "projects": [{"id": "pr_a", "name": "Alpha"}, {"id": "pr_b", "name": "Beta"}],
    "sessions": [
        {
            "id": "sesh_given",
            "reference_id": "ref-1",
            "datapoints": [
                {"project_id": "pr_b", "inputs": {"n": 1}, "output": "one"},
                {"project_id": "pr_a", "inputs": {"n": 2}, "output": "two"},
                {"project_id": "pr_b", "inputs": {"n": 3}},
            ],
        },
        {"datapoints": [{"project_id": "pr_a", "inputs": {}, "output": "only"}]},
        {"id": "sesh_empty", "datapoints": []},
        {"id": "sesh_old", "created_at": "2020-01-01T00:00:00+02:00"},
    ],
}


@pytest.fixture(scope="module")
def small_server() -> Iterator[StandinServer]:
    with StandinServer(seed=seed_of(SMALL_SEED)) as server:
        yield server


@pytest.fixture
def small(small_server: StandinServer) -> StandinServer:
    small_server.reset()
    return small_server


# -- auth ------------------------------------------------------------------------------

ROUTES = [
    ("POST", "/v4/sessions"),
    ("GET", f"/v4/sessions/{DEMO_SESSION_ID}"),
    ("GET", f"/v4/sessions?project_id={DEMO_PROJECT_ID}"),
]


@pytest.mark.parametrize(("method", "target"), ROUTES)
def test_missing_key_is_401(standin: StandinServer, method: str, target: str) -> None:
    answer = call(standin, method, target, key=None)
    assert answer.status == 401
    assert answer.json() == {"detail": MISSING_KEY_DETAIL}


def test_empty_key_counts_as_missing(standin: StandinServer) -> None:
    answer = call(standin, "POST", "/v4/sessions", key="")
    assert (answer.status, answer.json()) == (401, {"detail": MISSING_KEY_DETAIL})


@pytest.mark.parametrize(("method", "target"), ROUTES)
def test_wrong_key_is_401_and_not_echoed(standin: StandinServer, method: str, target: str) -> None:
    answer = call(standin, method, target, key="hl-wrong-key-123")
    assert answer.status == 401
    assert answer.json() == {"detail": WRONG_KEY_DETAIL}
    assert b"hl-wrong-key-123" not in answer.body
    assert "hl-wrong-key-123" not in str(answer.headers)


@pytest.mark.parametrize(("method", "target"), ROUTES)
def test_right_key_is_accepted(standin: StandinServer, method: str, target: str) -> None:
    assert call(standin, method, target).status in (200, 201)


def test_custom_api_key() -> None:
    with StandinServer(api_key="custom-key") as server:
        assert server.api_key == "custom-key"
        assert call(server, "POST", "/v4/sessions", key="custom-key").status == 201
        assert call(server, "POST", "/v4/sessions").status == 401


def test_auth_is_checked_before_validation(standin: StandinServer) -> None:
    assert call(standin, "GET", "/v4/sessions?page=0", key=None).status == 401


# -- create and get ----------------------------------------------------------------------


def test_create_then_get(standin: StandinServer) -> None:
    created = call(standin, "POST", "/v4/sessions")
    assert created.status == 201
    session_id = created.json()["id"]
    assert SESSION_ID.fullmatch(session_id)
    assert created.json() == {"id": session_id}

    got = call(standin, "GET", f"/v4/sessions/{session_id}")
    assert got.status == 200
    body = got.json()
    assert body["id"] == session_id
    assert body["projects"] == []
    assert body["datapoints_count"] == 0
    assert not {"first_inputs", "last_output", "reference_id"} & body.keys()


def test_creates_give_distinct_ids(standin: StandinServer) -> None:
    ids = {call(standin, "POST", "/v4/sessions").json()["id"] for _ in range(3)}
    assert len(ids) == 3


def test_create_ignores_a_body(standin: StandinServer) -> None:
    answer = call(standin, "POST", "/v4/sessions", body=b'{"reference_id": "x"}')
    assert answer.status == 201
    assert "reference_id" not in call(standin, "GET", f"/v4/sessions/{answer.json()['id']}").json()


def test_get_unknown_session_is_404(standin: StandinServer) -> None:
    answer = call(standin, "GET", "/v4/sessions/sesh_nope")
    assert (answer.status, answer.json()) == (404, {"detail": "Session not found"})


def test_created_sessions_are_in_no_list(standin: StandinServer) -> None:
    call(standin, "POST", "/v4/sessions")
    assert call(standin, "GET", list_target(project_id=DEMO_PROJECT_ID)).json()["total"] == 23


def test_id_segment_is_percent_decoded(small: StandinServer) -> None:
    answer = call(small, "GET", "/v4/sessions/sesh%5Fgiven")
    assert (answer.status, answer.json()["id"]) == (200, "sesh_given")
    assert small.requests[-1].path == "/v4/sessions/sesh%5Fgiven"
    # Decoded once only: "%255F" is the literal id "sesh%5Fgiven", which does not exist.
    assert call(small, "GET", "/v4/sessions/sesh%255Fgiven").json() == {
        "detail": "Session not found"
    }


def test_dot_dot_id_is_looked_up_literally(standin: StandinServer) -> None:
    # "Session not found", not the router's "Not Found": the get route answered.
    answer = call(standin, "GET", "/v4/sessions/..%2Fx")
    assert (answer.status, answer.json()) == (404, {"detail": "Session not found"})
    assert standin.requests[-1].path == "/v4/sessions/..%2Fx"
    # An encoded slash stays inside the id; a bare one is a path separator.
    assert call(standin, "GET", "/v4/sessions/a%2Fb").json() == {"detail": "Session not found"}
    assert call(standin, "GET", "/v4/sessions/a/b").json() == {"detail": "Not Found"}


# -- list ------------------------------------------------------------------------------------


def test_list_pages_of_ten_ten_three(standin: StandinServer) -> None:
    pages = [
        call(standin, "GET", list_target(project_id=DEMO_PROJECT_ID, page=n, size=10)).json()
        for n in (1, 2, 3)
    ]
    assert [len(p["records"]) for p in pages] == [10, 10, 3]
    assert [(p["page"], p["size"], p["total"]) for p in pages] == [(n, 10, 23) for n in (1, 2, 3)]
    records = [r for p in pages for r in p["records"]]
    assert len({r["id"] for r in records}) == 23
    keys = [(r["created_at"], r["id"]) for r in records]
    assert keys == sorted(keys)
    assert all(DEMO_PROJECT_ID in [p["id"] for p in r["projects"]] for r in records)


def test_list_defaults_to_page_1_size_10(standin: StandinServer) -> None:
    body = call(standin, "GET", list_target(project_id=DEMO_PROJECT_ID)).json()
    assert (body["page"], body["size"], len(body["records"])) == (1, 10, 10)


def test_page_past_the_end_is_empty(standin: StandinServer) -> None:
    answer = call(standin, "GET", list_target(project_id=DEMO_PROJECT_ID, page=4, size=10))
    assert answer.status == 200
    assert answer.json() == {"records": [], "page": 4, "size": 10, "total": 23}


def test_size_above_total_gives_everything(standin: StandinServer) -> None:
    body = call(standin, "GET", list_target(project_id=DEMO_PROJECT_ID, size=100)).json()
    assert (len(body["records"]), body["total"], body["size"]) == (23, 23, 100)


@pytest.mark.parametrize("project_id", ["pr_unknown", EMPTY_PROJECT_ID])
def test_unknown_or_empty_project_is_an_empty_page(standin: StandinServer, project_id: str) -> None:
    answer = call(standin, "GET", list_target(project_id=project_id))
    assert answer.status == 200
    assert answer.json() == {"records": [], "page": 1, "size": 10, "total": 0}


def test_session_in_two_projects_is_listed_in_both(standin: StandinServer) -> None:
    support = call(standin, "GET", list_target(project_id=SUPPORT_PROJECT_ID)).json()
    assert DEMO_SESSION_ID in [r["id"] for r in support["records"]]
    assert support["total"] == 2


def test_list_order_is_created_at_then_id(small: StandinServer) -> None:
    # sesh_old is oldest by its explicit created_at (2019-12-31T22:00:00Z) but has
    # no datapoints; in pr_a the given session (counter 0) precedes the derived one.
    body = call(small, "GET", list_target(project_id="pr_a")).json()
    assert [r["created_at"] for r in body["records"]] == [
        "2023-06-01T12:00:00Z",
        "2023-06-01T12:00:01Z",
    ]
    assert body["records"][0]["id"] == "sesh_given"
    assert call(small, "GET", "/v4/sessions/sesh_old").json()["created_at"] == (
        "2019-12-31T22:00:00Z"
    )


# -- 422 ---------------------------------------------------------------------------------------

MISSING_PROJECT = {
    "loc": ["query", "project_id"],
    "msg": "field required",
    "type": "value_error.missing",
}


def not_int(name: str) -> dict[str, Any]:
    return {
        "loc": ["query", name],
        "msg": "value is not a valid integer",
        "type": "type_error.integer",
    }


def not_ge(name: str) -> dict[str, Any]:
    return {
        "loc": ["query", name],
        "msg": "ensure this value is greater than or equal to 1",
        "type": "value_error.number.not_ge",
        "ctx": {"limit_value": 1},
    }


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("", [MISSING_PROJECT]),
        ("page=1&size=10", [MISSING_PROJECT]),
        (f"project_id={DEMO_PROJECT_ID}&page=abc", [not_int("page")]),
        (f"project_id={DEMO_PROJECT_ID}&page=", [not_int("page")]),
        (f"project_id={DEMO_PROJECT_ID}&size=1.5", [not_int("size")]),
        (f"project_id={DEMO_PROJECT_ID}&page=0", [not_ge("page")]),
        (f"project_id={DEMO_PROJECT_ID}&size=-3", [not_ge("size")]),
        (f"project_id={DEMO_PROJECT_ID}&page={'9' * 5000}", [not_int("page")]),
        ("page=0&size=ten", [MISSING_PROJECT, not_ge("page"), not_int("size")]),
        ("size=0&page=x", [MISSING_PROJECT, not_int("page"), not_ge("size")]),
    ],
)
def test_list_validation_errors(standin: StandinServer, query: str, detail: list[Any]) -> None:
    answer = call(standin, "GET", "/v4/sessions?" + query)
    assert answer.status == 422
    assert answer.json() == {"detail": detail}


def test_empty_project_id_is_present_not_missing(standin: StandinServer) -> None:
    answer = call(standin, "GET", "/v4/sessions?project_id=")
    assert (answer.status, answer.json()["total"]) == (200, 0)


# -- routes and response format ------------------------------------------------------------------


@pytest.mark.parametrize(
    "target", ["/", "/v4", "/v4/", "/v4/other", "/v4/sessions/", "/v4/sessions/a/b", "/sessions"]
)
def test_unknown_route_is_404_even_without_key(standin: StandinServer, target: str) -> None:
    answer = call(standin, "GET", target, key=None)
    assert (answer.status, answer.json()) == (404, {"detail": "Not Found"})


@pytest.mark.parametrize(
    ("method", "target", "allow"),
    [
        ("DELETE", "/v4/sessions", "GET, POST"),
        ("PUT", "/v4/sessions", "GET, POST"),
        ("POST", f"/v4/sessions/{DEMO_SESSION_ID}", "GET"),
        ("DELETE", f"/v4/sessions/{DEMO_SESSION_ID}", "GET"),
    ],
)
def test_wrong_method_is_405_with_allow(
    standin: StandinServer, method: str, target: str, allow: str
) -> None:
    answer = call(standin, method, target, key=None)
    assert (answer.status, answer.json()) == (405, {"detail": "Method Not Allowed"})
    assert answer.headers["Allow"] == allow


def test_responses_are_compact_json_with_a_fresh_request_id(standin: StandinServer) -> None:
    first = call(standin, "GET", f"/v4/sessions/{DEMO_SESSION_ID}")
    second = call(standin, "GET", f"/v4/sessions/{DEMO_SESSION_ID}")
    assert first.headers["Content-Type"] == "application/json"
    compact = json.dumps(first.json(), separators=(",", ":"), ensure_ascii=False).encode()
    assert first.body == compact
    assert int(first.headers["Content-Length"]) == len(first.body)
    ids = {uuid.UUID(a.headers["X-Request-Id"]).version for a in (first, second)}
    assert ids == {4}
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]
    assert first.body == second.body


def test_request_log_keeps_raw_requests(standin: StandinServer) -> None:
    call(standin, "POST", "/v4/sessions", body=b"hello")
    call(standin, "GET", "/v4/sessions?project_id=pr%5Fdemo&size=2", key=None)
    create, listing = standin.requests
    assert (create.method, create.path, create.query, create.body) == (
        "POST",
        "/v4/sessions",
        "",
        b"hello",
    )
    assert create.header("x-api-key") == STANDIN_API_KEY
    assert create.header("Content-Length") == "5"
    assert (listing.method, listing.path, listing.query) == (
        "GET",
        "/v4/sessions",
        "project_id=pr%5Fdemo&size=2",
    )
    assert listing.header("X-API-KEY") is None
    standin.reset()
    assert standin.requests == []


# -- derived fields ---------------------------------------------------------------------------


def test_demo_session_fields_follow_its_datapoints(standin: StandinServer) -> None:
    body = call(standin, "GET", f"/v4/sessions/{DEMO_SESSION_ID}").json()
    assert body == {
        "id": DEMO_SESSION_ID,
        "projects": [
            {"id": DEMO_PROJECT_ID, "name": "Demo assistant"},
            {"id": SUPPORT_PROJECT_ID, "name": "Support triage"},
        ],
        "datapoints_count": 3,
        "created_at": "2024-01-01T00:00:00Z",
        "reference_id": "demo-conversation-1",
        "first_inputs": {"question": "How do I reset my password?"},
        "last_output": "You're welcome.",
    }


def test_small_seed_derivations(small: StandinServer) -> None:
    given = call(small, "GET", "/v4/sessions/sesh_given").json()
    assert given["projects"] == [{"id": "pr_b", "name": "Beta"}, {"id": "pr_a", "name": "Alpha"}]
    assert given["datapoints_count"] == 3
    assert given["first_inputs"] == {"n": 1}
    assert "last_output" not in given  # the last datapoint has no output
    assert given["reference_id"] == "ref-1"

    empty = call(small, "GET", "/v4/sessions/sesh_empty").json()
    assert empty["projects"] == []
    assert empty["datapoints_count"] == 0
    assert not {"first_inputs", "last_output", "reference_id"} & empty.keys()


def test_default_seed_covers_every_shape(standin: StandinServer) -> None:
    demo = call(standin, "GET", list_target(project_id=DEMO_PROJECT_ID, size=50)).json()["records"]
    support = call(standin, "GET", list_target(project_id=SUPPORT_PROJECT_ID)).json()["records"]
    records = demo + support
    assert any("reference_id" in r for r in records)
    assert any("reference_id" not in r for r in records)
    assert any("last_output" not in r and "first_inputs" in r for r in records)
    assert any(len(r["projects"]) == 2 for r in records)
    assert any(
        r["projects"] == [{"id": SUPPORT_PROJECT_ID, "name": "Support triage"}] for r in support
    )
    assert sum(1 for s in default_seed().sessions if not s.datapoints) == 1


# -- determinism ---------------------------------------------------------------------------------


def snapshot(server: StandinServer) -> tuple[list[Any], Any]:
    created = [call(server, "POST", "/v4/sessions").json()["id"] for _ in range(2)]
    bodies = [call(server, "GET", f"/v4/sessions/{i}").json() for i in created]
    listing = call(server, "GET", list_target(project_id=DEMO_PROJECT_ID, size=30)).json()
    return bodies, listing


def test_same_seed_same_ids_and_timestamps() -> None:
    with StandinServer() as one, StandinServer() as two:
        assert one.port != two.port
        first, second = snapshot(one), snapshot(two)
    assert first == second
    created = first[0]
    n_seeded = len(default_seed().sessions)
    assert [b["created_at"] for b in created] == [
        f"2024-01-01T00:00:{n_seeded:02d}Z",
        f"2024-01-01T00:00:{n_seeded + 1:02d}Z",
    ]


def test_reset_restarts_ids_and_timestamps(standin: StandinServer) -> None:
    first = call(standin, "POST", "/v4/sessions").json()["id"]
    standin.reset()
    assert call(standin, "GET", f"/v4/sessions/{first}").status == 404
    again = call(standin, "POST", "/v4/sessions").json()["id"]
    assert again == first


def test_a_different_seed_derives_different_ids(
    small: StandinServer, standin: StandinServer
) -> None:
    assert (
        call(small, "POST", "/v4/sessions").json()["id"]
        != (call(standin, "POST", "/v4/sessions").json()["id"])
    )


# -- seed files -----------------------------------------------------------------------------


def test_seed_from_json_file(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(SMALL_SEED), encoding="utf-8")
    seed = load_seed(path)
    assert seed == seed_of(SMALL_SEED)
    with StandinServer(seed=seed) as server:
        assert call(server, "GET", list_target(project_id="pr_b")).json()["total"] == 1


YAML_SEED = """\
base_time: 2022-02-02T02:02:02Z   # unquoted: YAML reads a datetime
projects:
  - {id: pr_yaml, name: From YAML}
sessions:
  - id: sesh_yaml
    reference_id: yaml-1
    created_at: "2022-03-03T03:03:03.5+00:00"
    datapoints:
      - project_id: pr_yaml
        inputs: {city: Paris, tags: [a, b], nested: {ok: true}}
        output: Bonjour
  - datapoints:
      - {project_id: pr_yaml, inputs: {}, output: second}
"""


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_seed_from_yaml_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"seed{suffix}"
    path.write_text(YAML_SEED, encoding="utf-8")
    seed = load_seed(path)
    assert seed.base_time == "2022-02-02T02:02:02Z"
    with StandinServer(seed=seed) as server:
        body = call(server, "GET", list_target(project_id="pr_yaml")).json()
    assert body["total"] == 2
    first, second = body["records"]
    assert first["created_at"] == "2022-02-02T02:02:03Z"  # base + counter 1
    assert second["id"] == "sesh_yaml"
    assert second["created_at"] == "2022-03-03T03:03:03.500000Z"
    assert second["first_inputs"] == {"city": "Paris", "tags": ["a", "b"], "nested": {"ok": True}}
    assert second["last_output"] == "Bonjour"


def test_default_seed_round_trips_through_plain_data() -> None:
    seed = default_seed()
    assert parse_seed(seed.to_dict()) == seed
    assert seed.fingerprint == parse_seed(json.loads(json.dumps(seed.to_dict()))).fingerprint


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("s.json", "{not json", r"s\.json is not valid JSON: line 1 column 2"),
        ("s.yaml", "projects: [unclosed", r"s\.yaml is not valid YAML"),
        ("s.json", "[]", r"s\.json: expected a mapping, got list"),
        (
            "s.json",
            '{"projects": [{"id": "x", "name": "X"}]}',
            r"projects\[0\]\.id: 'x' must be 'pr_'",
        ),
        ("s.json", '{"sessions": [{"id": "sesh_a/b"}]}', r"sessions\[0\]\.id: 'sesh_a/b' must be"),
        ("s.json", '{"projects": [{"id": "pr_x"}]}', r"projects\[0\]\.name: field required"),
        (
            "s.json",
            '{"sesions": []}',
            r"sesions: unknown field \(expected one of: base_time, projects",
        ),
        (
            "s.json",
            '{"sessions": [{"datapoints": [{"project_id": "pr_nope", "inputs": {}}]}]}',
            r"sessions\[0\]\.datapoints\[0\]\.project_id: 'pr_nope' is not one of",
        ),
        (
            "s.json",
            '{"sessions": [{"id": "sesh_1"}, {"id": "sesh_1"}]}',
            r"sessions\[1\]\.id: duplicate",
        ),
        (
            "s.json",
            '{"sessions": [{"reference_id": "r"}, {"reference_id": "r"}]}',
            r"sessions\[1\]\.reference_id: duplicate session reference_id 'r'",
        ),
        (
            "s.json",
            '{"sessions": [{"created_at": "yesterday"}]}',
            r"sessions\[0\]\.created_at: 'yesterday'",
        ),
        ("s.json", '{"base_time": "2024-01-01T00:00:00"}', r"base_time: .*not an RFC 3339"),
        ("s.json", '{"sessions": [{"id": 7}]}', r"sessions\[0\]\.id: expected a string, got int 7"),
        (
            "s.yaml",
            "projects: [{id: pr_a, name: A}]\nsessions:\n"
            "  - datapoints: [{project_id: pr_a, inputs: {when: 2024-01-01}}]\n",
            r"sessions\[0\]\.datapoints\[0\]\.inputs\.when: not a JSON value: date .*quote it",
        ),
        (
            "s.yaml",
            "sessions: [{created_at: 2024-01-01 10:00:00}]",
            r"created_at: .*needs a timezone",
        ),
    ],
)
def test_bad_seed_files_name_the_file_and_field(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(HlTestkitError, match=expected) as caught:
        load_seed(path)
    assert str(path) in str(caught.value)


def test_missing_seed_file(tmp_path: Path) -> None:
    with pytest.raises(HlTestkitError, match=r"cannot read seed file .*nope\.json"):
        load_seed(tmp_path / "nope.json")


# -- faults ----------------------------------------------------------------------------------


def test_429_with_retry_after_then_normal(standin: StandinServer) -> None:
    standin.inject("429", retry_after=7)
    limited = call(standin, "POST", "/v4/sessions")
    assert limited.status == 429
    assert limited.headers["Retry-After"] == "7"
    assert limited.headers["Content-Type"] == "application/json"
    assert "retry after 7 seconds" in limited.json()["detail"]
    assert call(standin, "POST", "/v4/sessions").status == 201


def test_500_is_json(standin: StandinServer) -> None:
    standin.inject("500")
    answer = call(standin, "GET", f"/v4/sessions/{DEMO_SESSION_ID}")
    assert (answer.status, answer.json()) == (500, {"detail": "Internal Server Error"})


def test_502_is_an_html_page(standin: StandinServer) -> None:
    standin.inject("502")
    answer = call(standin, "GET", list_target(project_id=DEMO_PROJECT_ID))
    assert answer.status == 502
    assert answer.headers["Content-Type"] == "text/html"
    assert answer.body.startswith(b"<html>")
    assert b"502 Bad Gateway" in answer.body


def test_slow_answers_normally_after_the_delay(standin: StandinServer) -> None:
    standin.inject("slow", delay=0.2)
    started = time.perf_counter()
    answer = call(standin, "GET", f"/v4/sessions/{DEMO_SESSION_ID}")
    assert time.perf_counter() - started >= 0.2
    assert answer.status == 200
    started = time.perf_counter()
    call(standin, "GET", f"/v4/sessions/{DEMO_SESSION_ID}")
    assert time.perf_counter() - started < 0.2


def test_count_faults_then_recovery_and_all_logged(standin: StandinServer) -> None:
    standin.inject("500", count=2)
    statuses = [call(standin, "POST", "/v4/sessions").status for _ in range(3)]
    assert statuses == [500, 500, 201]
    assert len(standin.requests) == 3


def test_faults_apply_before_routing_and_auth(standin: StandinServer) -> None:
    standin.inject("429")
    assert call(standin, "GET", "/nowhere", key=None).status == 429


def test_reset_clears_queued_faults(standin: StandinServer) -> None:
    standin.inject("500", count=5)
    standin.reset()
    assert call(standin, "POST", "/v4/sessions").status == 201


@pytest.mark.parametrize(
    ("kind", "count", "message"),
    [
        ("418", 1, "unknown fault '418'"),
        ("500", 0, "count must be"),
        ("500", True, "count must be"),
    ],
)
def test_bad_injections_are_refused(
    standin: StandinServer, kind: Any, count: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        standin.inject(kind, count=count)


# -- JSON Schemas ----------------------------------------------------------------------------


def test_every_body_validates_against_the_schemas(standin: StandinServer) -> None:
    created_id = call(standin, "POST", "/v4/sessions").json()["id"]
    standin.inject("429")
    limited = call(standin, "POST", "/v4/sessions")
    standin.inject("500")
    broken = call(standin, "GET", f"/v4/sessions/{DEMO_SESSION_ID}")
    cases: list[tuple[str, Answer]] = [
        ("create", call(standin, "POST", "/v4/sessions")),
        ("create", call(standin, "POST", "/v4/sessions", key=None)),
        ("create", call(standin, "POST", "/v4/sessions", key="wrong")),
        ("create", limited),
        ("get", broken),
        ("get", call(standin, "GET", f"/v4/sessions/{DEMO_SESSION_ID}")),
        ("get", call(standin, "GET", f"/v4/sessions/{created_id}")),
        ("get", call(standin, "GET", "/v4/sessions/sesh_missing")),
        ("get", call(standin, "GET", "/v4/sessions/..%2Fx")),
        ("list", call(standin, "GET", "/v4/sessions?page=0&size=x")),
        ("list", call(standin, "GET", list_target(project_id="pr_unknown"))),
        ("list", call(standin, "GET", list_target(project_id=DEMO_PROJECT_ID, page=4))),
    ]
    cases += [
        ("list", call(standin, "GET", list_target(project_id=project, size=50)))
        for project in (DEMO_PROJECT_ID, SUPPORT_PROJECT_ID)
    ]
    statuses = set()
    for operation, answer in cases:
        statuses.add(answer.status)
        violations = validate_response(operation, answer.status, answer.json())
        assert violations == [], (operation, answer.status, answer.body, violations)
    assert statuses == {200, 201, 401, 404, 422, 429, 500}


def test_small_seed_bodies_validate(small: StandinServer) -> None:
    for target in ("/v4/sessions/sesh_given", "/v4/sessions/sesh_empty", "/v4/sessions/sesh_old"):
        answer = call(small, "GET", target)
        assert validate_response("get", answer.status, answer.json()) == []


# -- the server object and the bare app ---------------------------------------------------------


def test_lifecycle_is_quick_idempotent_and_releases_the_port() -> None:
    server = StandinServer()
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.base_url
    started = time.perf_counter()
    server.start()
    assert server.start() is server  # already running: no second socket
    port = server.port
    assert server.base_url == f"http://127.0.0.1:{port}/v4"
    assert server.host == "127.0.0.1"
    server.stop()
    server.stop()
    assert time.perf_counter() - started < 1.0
    assert not server.running
    with pytest.raises(ConnectionRefusedError):
        http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()


def test_stop_does_not_wait_for_a_slow_request() -> None:
    with StandinServer() as server:
        server.inject("slow", delay=30)
        connection = http.client.HTTPConnection(server.host, server.port, timeout=0.2)
        connection.request("GET", "/v4/sessions/x")
        with pytest.raises(TimeoutError):
            connection.getresponse()
        connection.close()
        started = time.perf_counter()
    assert time.perf_counter() - started < 1.0


def test_app_is_a_plain_wsgi_app() -> None:
    app = StandinApp(api_key="k")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": f"/v4/sessions/{DEMO_SESSION_ID}",
        "HTTP_X_API_KEY": "k",
    }
    setup_testing_defaults(environ)
    seen: list[Any] = []
    body = b"".join(app(environ, lambda status, headers: seen.append((status, headers))))
    assert seen[0][0] == "200 OK"
    assert ("Content-Type", "application/json") in seen[0][1]
    assert json.loads(body)["id"] == DEMO_SESSION_ID
    assert app.requests[0].header("x-api-key") == "k"


# -- the serve command --------------------------------------------------------------------------


def test_serve_refuses_a_bad_seed_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("projects: [{id: nope, name: N}]", encoding="utf-8")
    assert main(["serve", "--port", "0", "--seed-file", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err
    assert "projects[0].id" in err


def test_serve_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "example:" in out
    assert "--seed-file" in out


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "serve" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is POSIX")
def test_serve_runs_until_sigterm(tmp_path: Path) -> None:
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(SMALL_SEED), encoding="utf-8")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hl_testkit.cli",
            "serve",
            "--port",
            "0",
            "--seed-file",
            str(seed_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:(\d+)/v4)", first)
        assert match, first
        hint = process.stdout.readline() + process.stdout.readline()
        assert f"HUMANLOOP_BASE_URL={match.group(1)} HUMANLOOP_API_KEY={STANDIN_API_KEY}" in hint
        connection = http.client.HTTPConnection("127.0.0.1", int(match.group(2)), timeout=5)
        connection.request("GET", "/v4/sessions/sesh_given", headers={"X-API-KEY": STANDIN_API_KEY})
        assert connection.getresponse().status == 200
        connection.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        if process.stderr is not None:
            process.stderr.close()
