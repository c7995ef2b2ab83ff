"""Throw-away APIs on loopback for tests: each GET answered by a function."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Answer = Callable[[BaseHTTPRequestHandler], object]


@dataclass
class Reply:
    """One answer, sent as given: header lines in this order and spelling (repeats
    kept), the body's framing left to them (a Content-Length or chunks of its own)."""

    status: int
    reason: str | None = None  # None: the standard phrase
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


@contextmanager
def reply_api(answer: Callable[[BaseHTTPRequestHandler], Reply]) -> Iterator[str]:
    """Serve `answer(request)` to every GET as it is; yields the `/v4` base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            reply = answer(self)
            self.send_response(reply.status, reply.reason)
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, *args: object) -> None:
            pass  # quiet: a request line may hold a key

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v4"
    finally:
        server.shutdown()
        server.server_close()


def _json_reply(value: object) -> Reply:
    data = json.dumps(value).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    return Reply(200, None, headers, data)


@contextmanager
def json_api(answer: Answer) -> Iterator[str]:
    """Serve `answer(request)` as a 200 JSON body to every GET; yields the `/v4` base URL."""
    with reply_api(lambda request: _json_reply(answer(request))) as base_url:
        yield base_url
