"""`StandinServer`: `StandinApp` served over real HTTP on loopback, in a thread.

wsgiref plus `ThreadingMixIn` with daemon threads: standard library only, a
thread per request (so a slow request does not hold up the next), and
nothing left behind to join at exit. `stop()` returns within one short poll
interval.

Under load: the listen backlog is `LISTEN_BACKLOG` (socketserver's default of 5
left a burst of clients waiting through SYN retries of 1-31 s); a connection
silent for `idle_timeout` seconds (no request, or a body that stops coming)
is closed, freeing its thread; every error the server itself answers (400,
414, a failure inside the app: 500) has a JSON body, as the app's own do.
"""

from __future__ import annotations

import json
import socket
import threading
from http import HTTPStatus
from socketserver import TCPServer, ThreadingMixIn
from types import TracebackType
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from hl_testkit.standin.app import (
    API_PREFIX,
    RAW_HEADERS_KEY,
    STANDIN_API_KEY,
    RecordedRequest,
    StandinApp,
)
from hl_testkit.standin.faults import FaultKind
from hl_testkit.standin.seed import Seed

__all__ = ["STANDIN_API_KEY", "StandinServer"]

_POLL_INTERVAL = 0.05  # seconds; bounds how long stop() waits for the serve loop
#: Connections the kernel queues for accept (capped by the system's somaxconn).
LISTEN_BACKLOG = 1024
#: Seconds a connection may stay silent before the stand-in closes it.
IDLE_TIMEOUT = 10.0


def _json_error(detail: str) -> bytes:
    return json.dumps({"detail": detail}, separators=(",", ":")).encode("utf-8")


class _JsonServerHandler(ServerHandler):
    """wsgiref's handler, with a JSON body (not text/plain) for a failure inside the app."""

    error_body = _json_error("Internal Server Error")
    error_headers = [  # noqa: RUF012 - wsgiref's own attribute, copied before use
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(error_body))),
    ]


class _RequestHandler(WSGIRequestHandler):
    def setup(self) -> None:
        super().setup()
        # A read that waits longer than this raises, and the connection is closed.
        self.connection.settimeout(getattr(self.server, "idle_timeout", IDLE_TIMEOUT))

    def handle(self) -> None:
        """wsgiref's `handle`, with `_JsonServerHandler` (one request per connection)."""
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():  # an error was sent
            return
        handler = _JsonServerHandler(
            self.rfile,
            self.wfile,  # type: ignore[arg-type]  # as wsgiref passes it
            self.get_stderr(),
            self.get_environ(),
            multithread=False,
        )
        handler.request_handler = self  # type: ignore[attr-defined]  # wsgiref logs through it
        handler.run(self.server.get_app())  # type: ignore[attr-defined]

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's error page, in JSON: `{"detail": ...}`."""
        status = HTTPStatus(code)
        body = _json_error(message or status.phrase)
        if self.request_version == "HTTP/0.9":  # an unparsed request line: still a status line
            self.request_version = "HTTP/1.0"
        self.send_response(code, status.phrase)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True

    def get_environ(self) -> dict[str, str]:
        environ: dict[str, Any] = super().get_environ()
        # wsgiref percent-decodes PATH_INFO, losing the difference between "/" and
        # "%2F"; the app routes on the raw target (gunicorn's name for it).
        environ["RAW_URI"] = self.path
        environ[RAW_HEADERS_KEY] = list(self.headers.items())
        return environ

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the app keeps its own request log."""


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG
    idle_timeout = IDLE_TIMEOUT
    # Re-binding a fixed port right after stop() must not fail on TIME_WAIT.
    allow_reuse_address = True

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks socket.getfqdn(), a reverse DNS lookup that can
        # stall start-up for seconds on hosts without DNS; loopback needs no name.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)
        self.setup_environ()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client that timed out and hung up is expected in tests."""


class _ThreadingWSGIServerV6(_ThreadingWSGIServer):
    address_family = socket.AF_INET6


class StandinServer:
    """The stand-in v4 sessions API on `http://host:port/v4`; a context manager.

    `port=0` picks a free port (read it back from `port` / `base_url` once started).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = STANDIN_API_KEY,
        seed: Seed | None = None,
        idle_timeout: float = IDLE_TIMEOUT,
    ) -> None:
        self._requested = (host, port)
        self._idle_timeout = idle_timeout
        self._app = StandinApp(seed, api_key)
        self._httpd: _ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> StandinServer:
        """Bind and serve in a daemon thread; a no-op when already running."""
        with self._lock:
            if self._httpd is not None:
                return self
            host = self._requested[0]
            server_class = _ThreadingWSGIServerV6 if ":" in host else _ThreadingWSGIServer
            httpd = server_class(self._requested, _RequestHandler)
            httpd.idle_timeout = self._idle_timeout
            httpd.set_app(self._app)
            thread = threading.Thread(
                target=httpd.serve_forever,
                kwargs={"poll_interval": _POLL_INTERVAL},
                name=f"hl-testkit-standin:{httpd.server_address[1]}",
                daemon=True,
            )
            thread.start()
            self._httpd, self._thread = httpd, thread
            return self

    def stop(self) -> None:
        """Stop serving, join the thread and close the socket; idempotent."""
        with self._lock:
            httpd, thread = self._httpd, self._thread
            self._httpd = self._thread = None
        if httpd is None:
            return
        httpd.shutdown()
        if thread is not None:
            thread.join()
        httpd.server_close()
        # Let a "slow" request still sleeping end now rather than after its delay.
        self._app.faults.clear()

    def __enter__(self) -> StandinServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- where it is ---------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def host(self) -> str:
        return str(self._bound()[0])

    @property
    def port(self) -> int:
        return int(self._bound()[1])

    @property
    def base_url(self) -> str:
        """E.g. `http://127.0.0.1:54321/v4`: what a client takes as its base URL."""
        host = self.host
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        return f"http://{host}:{self.port}{API_PREFIX}"

    @property
    def api_key(self) -> str:
        return self._app.api_key

    @property
    def app(self) -> StandinApp:
        return self._app

    # -- test controls -------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests received since start or the last `reset()`, oldest first."""
        return self._app.requests

    def reset(self) -> None:
        """Back to the seed state (ids and timestamps restart); clears faults and the log."""
        self._app.reset()

    def inject(
        self, kind: FaultKind, *, count: int = 1, retry_after: int = 1, delay: float = 0.5
    ) -> None:
        """Make the next `count` requests answer 429/500/502, or be slow by `delay` seconds."""
        self._app.inject(kind, count=count, retry_after=retry_after, delay=delay)

    def _bound(self) -> tuple[Any, ...]:
        httpd = self._httpd
        if httpd is None:
            raise RuntimeError("the stand-in server is not running: call start() first")
        return tuple(httpd.server_address)
