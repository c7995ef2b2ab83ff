"""A scenario's failure message never shows a key the server echoed while recording."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

# Imported up front: pytester's in-process runs would otherwise re-import it.
import hl_testkit.scenarios.nodes  # noqa: F401
from tests.json_api import json_api

KEY = "hl_sk+echo/Key=123456"


def _echo(request: BaseHTTPRequestHandler) -> dict[str, str]:
    return {"id": "sesh_x", "note": f"you sent {request.headers['X-API-KEY']}"}


@pytest.fixture
def echo_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with json_api(_echo) as base:
        monkeypatch.setenv("HUMANLOOP_BASE_URL", base)
        monkeypatch.setenv("HUMANLOOP_API_KEY", KEY)
        yield


def test_failure_message_shows_the_placeholder_not_the_key(
    pytester: pytest.Pytester, echo_api: None
) -> None:
    pytester.makefile(
        ".hl.yaml",
        test_echo="""
scenarios:
  - name: echo
    schema: false
    steps:
      - get: {id: sesh_x}
        expect: {body: {note: nothing}}
""",
    )
    result = pytester.runpytest("--hl-record-mode=once")
    result.assert_outcomes(failed=1)
    out = result.stdout.str() + result.stderr.str()
    assert "<HUMANLOOP_API_KEY>" in out
    assert KEY not in out
    assert "hl_sk+echo" not in out
