"""`StandinApp`: the v4 sessions API as a WSGI application (standard library only).

Routes, under `/v4`:

    POST /v4/sessions                            201 {"id": "sesh_..."}
    GET  /v4/sessions/{id}                       200 SessionResponse | 404
    GET  /v4/sessions?project_id=&page=&size=    200 PaginatedDataSessionResponse | 422
    GET  /v4/openapi.json                        200 the OpenAPI 3.1 document of all this

Like the FastAPI service it stands in for: routing comes first (404 "Not
Found", 405 with `Allow`), then the `X-API-KEY` check (401), then query
validation (422 listing every problem, pydantic-v1 wording). Every answer is
compact JSON with a fresh `X-Request-Id`, a volatile header on purpose: the
recorder must learn to drop such headers.

Limits, so that a test (or a fuzzer) cannot exhaust the process: a request
body over `MAX_BODY_BYTES` is answered 413 from its `Content-Length` alone,
before any of it is read; the request log keeps the last `LOG_MAX_REQUESTS`
requests and at most `LOG_MAX_BODY_BYTES` of their bodies, oldest dropped first.

The `{id}` segment is percent-decoded once and looked up literally, so
`..%2Fx` asks for the session `../x`. That needs the undecoded request path:
`RAW_URI` or `REQUEST_URI` in the environ (our server sets `RAW_URI`); without
it the app falls back to `SCRIPT_NAME` + `PATH_INFO`, where `%2F` is lost.
"""

from __future__ import annotations

import functools
import hmac
import json
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from hl_testkit.standin.faults import Fault, FaultKind, FaultQueue
from hl_testkit.standin.seed import Seed, default_seed
from hl_testkit.standin.state import SessionStore

#: The stand-in's API key: fixed and obviously fake, so it is safe in cassettes.
STANDIN_API_KEY = "hl-standin-key"

API_PREFIX = "/v4"
#: The largest request body the stand-in reads (1 MiB; a sessions request is a few hundred bytes).
MAX_BODY_BYTES = 1024 * 1024
#: The request log keeps this many requests at most, the most recent ones...
LOG_MAX_REQUESTS = 1000
#: ...and at most this many bytes of their bodies in all.
LOG_MAX_BODY_BYTES = 8 * 1024 * 1024
#: Where the stand-in serves its OpenAPI document (no key needed, as FastAPI's).
OPENAPI_PATH = API_PREFIX + "/openapi.json"
DEFAULT_PAGE = 1
DEFAULT_SIZE = 10

MISSING_KEY_DETAIL = "Not authenticated: send your Humanloop API key in the X-API-KEY header"
WRONG_KEY_DETAIL = "Invalid API key"

#: What a proxy in front of the API sends when the API is down (nginx's page).
BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
#: Environ key our request handler fills with the request's header lines, as sent.
RAW_HEADERS_KEY = "hl_testkit.raw_headers"

# pydantic v1 parses query ints with int(); we accept what it accepts bar the
# oddities (underscores, non-ASCII digits) no client sends.
_INT_RE = re.compile(r"\s*[+-]?[0-9]+\s*")


@dataclass(frozen=True)
class RecordedRequest:
    """One request as it reached the app, before any routing or checks."""

    method: str
    path: str  # raw, still percent-encoded, without the query
    query: str  # raw query string, "" when there is none
    headers: Mapping[str, str] = field(hash=False)  # names lower-cased
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


class StandinApp:
    """The WSGI app. Holds the store, the fault queue and the request log."""

    def __init__(self, seed: Seed | None = None, api_key: str = STANDIN_API_KEY) -> None:
        if not api_key:
            raise ValueError("the stand-in needs a non-empty api_key")
        self.api_key = api_key
        self.store = SessionStore(seed if seed is not None else default_seed())
        self.faults = FaultQueue()
        self._log_lock = threading.Lock()
        self._log: deque[RecordedRequest] = deque(maxlen=LOG_MAX_REQUESTS)
        self._log_body_bytes = 0

    # -- test controls -----------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the requests received so far, oldest first.

        Bounded: the last `LOG_MAX_REQUESTS`, with at most `LOG_MAX_BODY_BYTES` of bodies.
        """
        with self._log_lock:
            return list(self._log)

    def inject(
        self, kind: FaultKind, *, count: int = 1, retry_after: int = 1, delay: float = 0.5
    ) -> None:
        """Make the next `count` requests fail (or be slow) as `kind` says."""
        self.faults.push(Fault(kind, retry_after=retry_after, delay=delay), count)

    def reset(self) -> None:
        """Back to the seed state; clears queued faults and the request log."""
        self.faults.clear()
        self.store.reset()
        with self._log_lock:
            self._log.clear()
            self._log_body_bytes = 0

    # -- WSGI ----------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        too_large = _too_large(environ)
        request = _record(environ, read_body=too_large is None)
        self._remember(request)
        reply = too_large or self._answer(request)
        headers = [
            ("Content-Type", reply.content_type),
            ("Content-Length", str(len(reply.body))),
            ("X-Request-Id", str(uuid.uuid4())),
            *reply.headers,
        ]
        start_response(f"{reply.status} {HTTPStatus(reply.status).phrase}", headers)
        return [reply.body]

    def _remember(self, request: RecordedRequest) -> None:
        with self._log_lock:
            if len(self._log) == self._log.maxlen:  # the oldest is about to be dropped
                self._log_body_bytes -= len(self._log[0].body)
            self._log.append(request)
            self._log_body_bytes += len(request.body)
            while self._log_body_bytes > LOG_MAX_BODY_BYTES and len(self._log) > 1:
                self._log_body_bytes -= len(self._log.popleft().body)

    def _answer(self, request: RecordedRequest) -> Reply:
        fault = self.faults.pop()
        if fault is not None:
            if fault.kind != "slow":
                return _fault_reply(fault)
            self.faults.sleep(fault.delay)

        if request.path == OPENAPI_PATH and request.method == "GET":
            return Reply(200, openapi_document())
        route = _route(request.path)
        if route is None:
            return _json_reply(404, {"detail": "Not Found"})
        allowed, session_id = route
        if request.method not in allowed:
            return _json_reply(
                405, {"detail": "Method Not Allowed"}, headers=(("Allow", ", ".join(allowed)),)
            )

        sent_key = request.header("X-API-KEY")
        if not sent_key:
            return _json_reply(401, {"detail": MISSING_KEY_DETAIL})
        if not hmac.compare_digest(sent_key.encode(), self.api_key.encode()):
            return _json_reply(401, {"detail": WRONG_KEY_DETAIL})

        if session_id is not None:
            body = self.store.get(session_id)
            if body is None:
                return _json_reply(404, {"detail": "Session not found"})
            return _json_reply(200, body)
        if request.method == "POST":
            return _json_reply(201, {"id": self.store.create()})
        return self._list(request.query)

    def _list(self, query: str) -> Reply:
        # Repeated parameters: the last one wins, as in Starlette.
        params = dict(parse_qsl(query, keep_blank_values=True))
        problems: list[dict[str, Any]] = []
        project_id = params.get("project_id")
        if project_id is None:
            problems.append(
                {
                    "loc": ["query", "project_id"],
                    "msg": "field required",
                    "type": "value_error.missing",
                }
            )
        page = _positive_int(params, "page", DEFAULT_PAGE, problems)
        size = _positive_int(params, "size", DEFAULT_SIZE, problems)
        if problems or project_id is None or page is None or size is None:
            return _json_reply(422, {"detail": problems})
        return _json_reply(200, self.store.list(project_id, page, size).to_body())


@functools.cache
def openapi_document() -> bytes:
    """The stand-in's OpenAPI 3.1 document (`openapi.json`, shipped beside the schemas)."""
    from hl_testkit.contract.schemas import schema_dir  # the schemas module is not needed otherwise

    return (schema_dir() / "openapi.json").read_bytes()


def _fault_reply(fault: Fault) -> Reply:
    if fault.kind == "429":
        seconds = fault.retry_after
        return _json_reply(
            429,
            {"detail": f"Rate limit exceeded: retry after {seconds} seconds"},
            headers=(("Retry-After", str(seconds)),),
        )
    if fault.kind == "500":
        return _json_reply(500, {"detail": "Internal Server Error"})
    return Reply(502, BAD_GATEWAY_HTML.encode("utf-8"), content_type="text/html")


def _positive_int(
    params: Mapping[str, str], name: str, default: int, problems: list[dict[str, Any]]
) -> int | None:
    raw = params.get(name)
    if raw is None:
        return default
    loc = ["query", name]
    try:
        if not _INT_RE.fullmatch(raw):
            raise ValueError(raw)
        value = int(raw)
    except ValueError:  # also int()'s limit on very long digit strings
        problems.append(
            {"loc": loc, "msg": "value is not a valid integer", "type": "type_error.integer"}
        )
        return None
    if value < 1:
        problems.append(
            {
                "loc": loc,
                "msg": "ensure this value is greater than or equal to 1",
                "type": "value_error.number.not_ge",
                "ctx": {"limit_value": 1},
            }
        )
        return None
    return value


def _route(raw_path: str) -> tuple[tuple[str, ...], str | None] | None:
    """(allowed methods, decoded session id or None) for a known route, else None."""
    if not raw_path.startswith(API_PREFIX + "/"):
        return None
    segments = raw_path[len(API_PREFIX) + 1 :].split("/")
    if segments == ["sessions"]:
        return ("GET", "POST"), None
    if len(segments) == 2 and segments[0] == "sessions" and segments[1]:
        return ("GET",), unquote(segments[1])
    return None


def _too_large(environ: Mapping[str, Any]) -> Reply | None:
    """413 for a body over `MAX_BODY_BYTES`, known from its Content-Length before reading it."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length <= MAX_BODY_BYTES:
        return None
    detail = (
        f"Request body too large: Content-Length {length}, the stand-in reads at most "
        f"{MAX_BODY_BYTES} bytes"
    )
    # wsgiref closes the connection after each answer: the unread body goes nowhere.
    return _json_reply(413, {"detail": detail})


def _record(environ: Mapping[str, Any], *, read_body: bool = True) -> RecordedRequest:
    raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw_uri:
        path, _, query = str(raw_uri).partition("?")
    else:
        path = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), safe="/")
        query = environ.get("QUERY_STRING", "")
    raw_headers = environ.get(RAW_HEADERS_KEY)
    if raw_headers is not None:
        headers = {name.lower(): value for name, value in raw_headers}
    else:
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = environ[key]
    return RecordedRequest(
        method=environ.get("REQUEST_METHOD", "GET"),
        path=path,
        query=query,
        headers=headers,
        body=_read_body(environ) if read_body else b"",
    )


def _read_body(environ: Mapping[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return b""
    # Without a length there is no body to wait for: reading would block.
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _json_reply(status: int, body: object, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    # Compact and UTF-8, as FastAPI's JSONResponse renders.
    encoded = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Reply(status, encoded, headers=headers)
