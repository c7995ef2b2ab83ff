"""A hostile stand-in for the sessions API: it echoes the caller's key everywhere it can.

Loopback only (127.0.0.1, a free port), a daemon thread, no logging (the
request line holds the key, and pytester would capture it). Whatever
credential a request carries (X-API-KEY in any case, `Authorization: Bearer`,
`Authorization: Basic user:key`) comes back in a response header, a JSON body,
an error message and reason phrase, Set-Cookie, a Location redirect, a
gzip-compressed body, URL-encoded query strings (whole, half-encoded, and of
its base64), base64, and JSON escaped more than it need be. Every request is
kept in `received`, so a test can show that the key really went over the wire.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

SESSION_ID = "sesh_hostile0000000000000001"


@dataclass(frozen=True)
class Received:
    method: str
    target: str  # path and query, as sent
    credential: str  # the key the request carried, "" for none
    body: bytes  # decoded if the request was gzip-encoded


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def over_escaped_json(payload: Any) -> bytes:
    """JSON as .NET (`+` as \\u002B) and PHP (`/` as \\/) write it: legal, and byte
    for byte unlike a key that has `+` or `/`."""
    text = json.dumps(payload).replace("+", "\\u002B").replace("/", "\\/")
    return text.encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request line carries the key

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _credential(self) -> str:
        key = self.headers.get("X-API-KEY")  # email.message: any case
        if key:
            return key
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            return value
        if scheme.lower() == "basic":
            return base64.b64decode(value).decode("utf-8").partition(":")[2]
        return ""

    def _body(self) -> bytes:
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            data = gzip.decompress(data)
        return data

    def _send(
        self,
        status: int,
        payload: Any = None,
        headers: Sequence[tuple[str, str]] = (),
        *,
        reason: str | None = None,
        compress: bool = False,
        raw: bytes | None = None,
    ) -> None:
        data = raw if raw is not None else b"" if payload is None else json.dumps(payload).encode()
        if compress:
            data = gzip.compress(data)
        self.send_response(status, reason)
        for name, value in headers:
            self.send_header(name, value)
        if data:
            self.send_header("Content-Type", "application/json")
        if compress:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        key = self._credential()
        body = self._body() if self.command == "POST" else b""
        self.server.received.append(Received(self.command, self.path, key, body))
        parts = urlsplit(self.path)
        echo = [("X-Echo-Key", key)]
        match self.command, parts.path.removeprefix("/v4"):
            case "POST", "/sessions":
                self._send(201, {"id": SESSION_ID}, [*echo, ("X-Debug", f"accepted key {key}")])
            case "GET", "/echo/header":
                headers = [*echo, ("x-dEbUg-NoTe", f"received {key}"), ("X-Echo-B64", b64(key))]
                self._send(200, {"ok": True}, headers)
            case "GET", "/echo/json":
                payload = {
                    "echo": key,
                    "nested": {"token": key},
                    "note": f"the key {key} was accepted",
                    "b64": b64(key),
                    "basic": b64(f"user:{key}"),
                }
                self._send(200, payload)
            case "GET", "/sessions/sesh_500":  # the sessions client's own error path
                detail = {"detail": f"internal error for key {key}"}
                self._send(500, detail, echo, reason=f"Server Error {key}")
            case "GET", "/echo/error":
                self._send(401, {"detail": "bad key " + key}, echo, reason=f"Bad Key {key}")
            case "GET", "/echo/cookie":
                cookies = [
                    ("Set-Cookie", f"hl_session={key}; Path=/; HttpOnly"),
                    ("Set-Cookie", f"hl_b64={b64(key)}; Path=/"),
                ]
                self._send(200, {"ok": True}, cookies)
            case "GET", "/echo/redirect":
                # `next` is half-encoded, as by quote(key, safe="/="): `+` escaped, `/`, `=` not.
                location = (
                    f"/v4/echo/landing?api_key={key}&state={quote(key, safe='')}"
                    f"&next={quote(key, safe='/=')}"
                )
                self._send(302, None, [("Location", location)])
            case "GET", "/echo/landing":
                self._send(200, {"landed": True, "query": parts.query})
            case "GET", "/echo/escaped":
                payload = {"echo": key, "detail": "bad key " + key}
                self._send(200, raw=over_escaped_json(payload))
            case "GET", "/echo/gzip":
                payload = {"echo": key, "detail": "bad key " + key, "b64": b64(key)}
                self._send(200, payload, echo, compress=True)
            case "GET", "/echo/query":
                payload = {
                    "query": parts.query,
                    "params": dict(parse_qsl(parts.query)),
                    "next": "/v4/echo/query?cursor=" + quote_plus(key),
                }
                self._send(200, payload)
            case "POST", "/echo/provider":
                received = json.loads(body)
                provider_key = str(received.get("provider_api_keys", {}).get("openai", ""))
                # Its base64, URL-encoded: a `+` or `/` in it becomes %2B or %2F.
                next_page = "/v4/echo/provider?sig=" + quote_plus(b64(provider_key))
                payload = {"received": received, "raw": body.decode(), "next": next_page}
                self._send(200, payload, [*echo, ("Link", f'<{next_page}>; rel="next"')])
            case _:
                self._send(404, {"detail": f"no route {self.path} for key {key}"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, received: list[Received]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received = received


class HostileServer:
    """`start()` serves on a free loopback port in a daemon thread; `stop()` closes it."""

    def __init__(self) -> None:
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.received: list[Received] = []  # kept after stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v4"

    def start(self) -> HostileServer:
        self._server = _Server(self.received)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="hostile-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
