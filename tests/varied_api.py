"""A deterministic HTTP/1.1 API on loopback for record tests: the answers a real API
may give that the stand-in does not (gzip, chunked, cookies, repeated headers,
redirects, errors, a body breaking its schema, a key echoed back encoded)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SESSION = {
    "id": "sesh_1",
    "reference_id": None,
    "project_id": "pr_1",
    "created_at": "2026-01-01T00:00:00Z",
    "datapoints_count": 0,
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the API

    def version_string(self) -> str:
        return "varied"

    def date_time_string(self, timestamp: float | None = None) -> str:
        return "Thu, 01 Jan 2026 00:00:00 GMT"  # the same answer on every run

    def log_message(self, *args: object) -> None:
        pass  # quiet: a request line may hold a key

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status, {500: "Boom Reason"}.get(status))
        for name, value in headers:
            self.send_header(name, value)
        if not any(name.lower() == "transfer-encoding" for name, _ in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _whole(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _chunked(self) -> bytes:  # a streamed request body
        out = b""
        while size := int(self.rfile.readline().split(b";")[0], 16):
            out += self.rfile.read(size)
            self.rfile.readline()
        self.rfile.readline()  # the empty trailer
        return out

    def do_POST(self) -> None:
        sent = self._chunked() if self.headers.get("Transfer-Encoding") else self._whole()
        made = {**SESSION, "id": "sesh_" + hashlib.sha256(sent).hexdigest()[:8]}
        self._send(201, json.dumps(made).encode(), [("Content-Type", "application/json")])

    def do_GET(self) -> None:
        path = self.path.split("?")[0].removeprefix("/v4")
        json_type = ("Content-Type", "application/json")
        if path == "/sessions/sesh_gzip":
            body = gzip.compress(json.dumps({**SESSION, "id": "sesh_gzip"}).encode(), mtime=0)
            self._send(200, body, [json_type, ("Content-Encoding", "gzip")])
        elif path == "/sessions/sesh_chunked":
            data = json.dumps({**SESSION, "id": "sesh_chunked"}).encode()
            body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data)
            self._send(200, body, [json_type, ("Transfer-Encoding", "chunked")])
        elif path == "/sessions/sesh_cookie":
            headers = [json_type, ("Set-Cookie", "a=1; Path=/"), ("Vary", "Accept")]
            headers += [("Set-Cookie", "b=2; Path=/"), ("Vary", "Origin")]
            self._send(200, json.dumps({**SESSION, "id": "sesh_cookie"}).encode(), headers)
        elif path == "/sessions/sesh_404":
            self._send(404, b'{"detail":"nope"}', [json_type])
        elif path == "/sessions/sesh_500":
            self._send(500, b"plain text, not JSON", [("Content-Type", "text/plain")])
        elif path == "/sessions/sesh_old":
            self._send(301, b"", [("Location", "/v4/sessions/sesh_1")])
        elif path == "/sessions/sesh_cut":  # the connection drops halfway through the body
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b'{"id": "ses')
            self.close_connection = True
        elif path == "/sessions/sesh_bad":  # breaks the session schema: id is a number
            self._send(200, json.dumps({**SESSION, "id": 5}).encode(), [json_type])
        elif path == "/sessions/sesh_leak":  # the key, base64 of base64: no scrub rule knows it
            key = (self.headers.get("X-API-KEY") or "").encode()
            echo = base64.b64encode(base64.b64encode(key)).decode()
            self._send(200, json.dumps({**SESSION, "id": "sesh_leak", "note": echo}).encode(),
                       [json_type])  # fmt: skip
        else:
            self._send(200, json.dumps({**SESSION, "id": path.rsplit("/", 1)[-1]}).encode(),
                       [json_type])  # fmt: skip

    do_HEAD = do_GET


@contextmanager
def varied_api(tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve on loopback (over TLS with `tls`, a server context); yields the `/v4` base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        scheme = "https" if tls is not None else "http"
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}/v4"
    finally:
        server.shutdown()
        server.server_close()
