"""A scenario's failure message never shows a key the server echoed while recording."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

# Imported up front: pytester's in-process runs would otherwise re-import it.
import hl_testkit.scenarios.nodes  # noqa: F401

KEY = "hl_sk+echo/Key=123456"


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"id": "sesh_x", "note": f"you sent {self.headers['X-API-KEY']}"})
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("HUMANLOOP_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}/v4")
    monkeypatch.setenv("HUMANLOOP_API_KEY", KEY)
    yield
    server.shutdown()
    server.server_close()


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
