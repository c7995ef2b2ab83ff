"""The stand-in under load and abuse: bursts answered, idle connections closed,
the request log bounded, oversized bodies refused unread, JSON errors always.

Loopback only, bounded in count and time: every client has a timeout.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from hl_testkit.standin import StandinServer
from hl_testkit.standin.app import LOG_MAX_BODY_BYTES, LOG_MAX_REQUESTS, MAX_BODY_BYTES

BURST = 200


@pytest.fixture
def server() -> Iterator[StandinServer]:
    with StandinServer(idle_timeout=1.0) as standin:
        yield standin


def exchange(server: StandinServer, raw: bytes, timeout: float = 10.0) -> tuple[int, str, bytes]:
    """Send `raw` on a new connection; (status, content type, body) of the answer."""
    with socket.create_connection((server.host, server.port), timeout=timeout) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(":", 1) for line in lines[1:] if ":" in line)
    content_type = headers.get("content-type", "").strip()
    return int(lines[0].split()[1]), content_type, body


def get(server: StandinServer, path: str = "/v4/sessions?project_id=pr_demo&size=1") -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: {server.host}\r\nX-API-KEY: {server.api_key}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()


def test_two_bursts_of_200_simultaneous_connections_are_all_answered(
    server: StandinServer,
) -> None:
    def one(start: threading.Barrier) -> tuple[int, float, float]:
        start.wait(timeout=30)
        began = time.monotonic()
        status, _, _ = exchange(server, get(server), timeout=10)
        return status, began, time.monotonic()

    for _ in range(2):
        start = threading.Barrier(BURST)  # all connect at the same moment
        with ThreadPoolExecutor(max_workers=BURST) as pool:
            results = list(pool.map(one, [start] * BURST))
        assert [status for status, _, _ in results] == [200] * BURST
        slowest = max(ended - began for _, began, ended in results)
        burst = max(ended for *_, ended in results) - min(began for _, began, _ in results)
        assert slowest < 5.0, f"the slowest answer took {slowest:.2f}s"
        assert burst < 5.0, f"the burst took {burst:.2f}s"


def test_an_idle_connection_is_closed_after_the_idle_timeout(server: StandinServer) -> None:
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        began = time.monotonic()
        assert sock.recv(100) == b""  # closed by the server, never answered
        assert 0.8 < time.monotonic() - began < 5
    # A body that stops coming is cut off too; the server still answers the next.
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(b"POST /v4/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
        began = time.monotonic()
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        assert time.monotonic() - began < 5
    assert exchange(server, get(server))[0] == 200


def test_a_huge_content_length_is_413_json_before_reading_the_body(
    server: StandinServer,
) -> None:
    raw = (
        f"POST /v4/sessions HTTP/1.1\r\nHost: x\r\nX-API-KEY: {server.api_key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {10**12}\r\n\r\n{{"
    ).encode()
    began = time.monotonic()
    status, content_type, body = exchange(server, raw)
    assert time.monotonic() - began < 2  # nothing waited for
    assert (status, content_type) == (413, "application/json")
    assert json.loads(body) == {
        "detail": f"Request body too large: Content-Length {10**12}, the stand-in reads at "
        f"most {MAX_BODY_BYTES} bytes"
    }
    assert server.requests[-1].body == b""  # logged, unread


def test_a_body_at_the_limit_is_read(server: StandinServer) -> None:
    body = b"x" * MAX_BODY_BYTES
    raw = (
        f"POST /v4/sessions HTTP/1.1\r\nHost: x\r\nX-API-KEY: {server.api_key}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    assert exchange(server, raw)[0] == 201
    assert server.requests[-1].body == body


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET /" + b"x" * 70000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"NONSENSE\r\n\r\n", 400),
        (b"GET / HTTP/9.9\r\n\r\n", 505),
        (b"GET /v4/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n", 500),
    ],
)
def test_errors_of_the_server_itself_have_json_bodies(
    server: StandinServer, raw: bytes, status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    if status == 500:  # a failure inside the app
        monkeypatch.setattr(server.app, "_answer", lambda request: 1 / 0)
        raw += b"\r\nabcde"
    got, content_type, body = exchange(server, raw)
    assert (got, content_type) == (status, "application/json")
    assert isinstance(json.loads(body)["detail"], str)


def test_the_request_log_is_bounded(server: StandinServer) -> None:
    app = server.app
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/v4/sessions/sesh_x",
        "HTTP_X_API_KEY": server.api_key,
    }
    for _ in range(LOG_MAX_REQUESTS + 50):
        app(environ, lambda status, headers: None)
    assert len(server.requests) == LOG_MAX_REQUESTS

    big = b"y" * MAX_BODY_BYTES
    for n in range(3 * LOG_MAX_BODY_BYTES // MAX_BODY_BYTES):
        app(
            {
                **environ,
                "REQUEST_METHOD": "POST",
                "RAW_URI": "/v4/sessions",
                "CONTENT_LENGTH": str(len(big)),
                "wsgi.input": io.BytesIO(big),
                "n": n,
            },
            lambda status, headers: None,
        )
    kept = server.requests
    assert sum(len(r.body) for r in kept) <= LOG_MAX_BODY_BYTES
    assert kept[-1].body == big  # the most recent are the ones kept
    server.reset()
    assert server.requests == []


def test_the_documented_limits() -> None:
    """README's numbers ("The stand-in server") are the code's."""
    from hl_testkit.standin import server as server_module

    assert server_module.LISTEN_BACKLOG == 1024
    assert server_module._ThreadingWSGIServer.request_queue_size == 1024
    assert server_module.IDLE_TIMEOUT == 10.0
    assert (MAX_BODY_BYTES, LOG_MAX_REQUESTS, LOG_MAX_BODY_BYTES) == (2**20, 1000, 8 * 2**20)
    with StandinServer() as standin:
        assert standin._httpd is not None
        assert standin._httpd.idle_timeout == 10.0
