"""What of an exchange is kept on disk, in which form, so re-recording does not churn.

Volatile headers (dates, request ids, timings, hop-by-hop) are dropped, the
host is written in one canonical form, credentials never leave memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import SplitResult, urlsplit, urlunsplit

from hl_testkit.cassettes.model import Headers

CANONICAL_BASE_URL = "https://api.humanloop.com/v4"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0"})
_DOT = re.compile("%2e", re.IGNORECASE)  # servers decode it, then resolve dot segments

#: Response headers that differ on every call, or describe the connection
#: rather than the answer. Content-Length is recomputed on replay.
VOLATILE_RESPONSE_HEADERS = frozenset(
    {
        "age",
        "alt-svc",
        "cf-cache-status",
        "cf-ray",
        "connection",
        "content-length",
        "date",
        "expires",
        "keep-alive",
        "last-modified",
        "nel",
        "report-to",
        "request-id",
        "server",
        "server-timing",
        "strict-transport-security",
        "transfer-encoding",
        "via",
        "x-amz-cf-id",
        "x-amz-cf-pop",
        "x-amzn-requestid",
        "x-amzn-trace-id",
        "x-cache",
        "x-envoy-upstream-service-time",
        "x-process-time",
        "x-request-id",
        "x-response-time",
        "x-runtime",
        "x-trace-id",
    }
)

#: Request headers worth keeping: they say what was asked for. Everything else
#: (User-Agent, Host, lengths, client versions) changes with the machine.
KEPT_REQUEST_HEADERS = frozenset({"accept", "content-type"})


#: The port a URL leaves out for its scheme.
DEFAULT_PORTS = {"http": 80, "https": 443}


def is_loopback(host: str | None) -> bool:
    return bool(host) and (host in LOOPBACK_HOSTS or str(host).startswith("127."))


def canonical_uri(uri: str, base_url: str) -> str:
    """The URI as written in a cassette.

    Under the base URL in force: rebased onto the public v4 URL. On loopback:
    `http://localhost` without the (random) port. Elsewhere: lowercased host.
    """
    base = base_url.rstrip("/")
    if uri == base or uri.startswith(base + "/") or uri.startswith(base + "?"):
        return CANONICAL_BASE_URL + uri[len(base) :]
    parts = urlsplit(uri)
    host = (parts.hostname or "").lower()
    if is_loopback(host):
        netloc = "localhost"
    else:
        default = DEFAULT_PORTS.get(parts.scheme)
        netloc = host if parts.port in (None, default) else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


#: The path of `CANONICAL_BASE_URL`, split once (not for every request's key).
_CANONICAL_BASE_PATH = urlsplit(CANONICAL_BASE_URL).path


def api_prefix(stored_uri: str) -> str:
    """The part of a stored URI's path that matching ignores: the API's base path."""
    return _CANONICAL_BASE_PATH if stored_uri.startswith(CANONICAL_BASE_URL) else ""


def _origin(parts: SplitResult) -> tuple[str, str, int | None]:
    default = DEFAULT_PORTS.get(parts.scheme.lower())
    try:
        port = parts.port or default
    except ValueError:
        port = None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def resolve_dot_segments(path: str) -> str:
    """`path` as a server sees it: `%2E` decoded, `.` and `..` resolved (RFC 3986 5.2.4)."""
    out: list[str] = []
    segments = _DOT.sub(".", path).split("/")
    for n, segment in enumerate(segments):
        last = n == len(segments) - 1
        if segment == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        elif segment == ".":
            if last:
                out.append("")
        else:
            out.append(segment)
    return "/".join(out) if out and out[0] == "" else "/" + "/".join(out)


def path_outside_base(uri: str, base_url: str) -> str | None:
    """The path `uri` resolves to when it is on the API's host but not under its base path.

    None for a URI under the base path (`/v4/...`), or on another host: those are
    the API's endpoints, or not the API at all. The base path itself (`/v4/`) is
    no endpoint either: an id of `..` leads there.
    """
    prefix = base_url.rstrip("/")
    if uri.startswith(prefix) and surely_inside(uri[len(prefix) :]):
        return None  # resolving costs a fifth of a replayed call
    return resolved_outside_base(uri, base_url)


def surely_inside(rest: str) -> bool:
    """Is a URI that is `rest` after the base URL surely under the base path? A path
    with no `.` and no `%` (so no dot segment, plain or encoded) below the base path is;
    any other is left to `resolved_outside_base`."""
    path = rest.partition("?")[0]
    return len(path) > 1 and path[0] == "/" and "." not in path and "%" not in path


def resolved_outside_base(uri: str, base_url: str) -> str | None:
    """`path_outside_base`, always by resolving the path."""
    parts, base = urlsplit(uri), urlsplit(base_url)
    if _origin(parts) != _origin(base):
        return None
    path = resolve_dot_segments(parts.path or "/")
    prefix = base.path.rstrip("/") + "/"
    if path.startswith(prefix) and len(path) > len(prefix):
        return None
    return path


def has_dot_segment(path: str) -> bool:
    """Does `path` hold a `.` or `..` segment (also as `%2E`)?"""
    return any(segment in (".", "..") for segment in _DOT.sub(".", path).split("/"))


def response_headers(raw: Mapping[str, Iterable[str] | str]) -> Headers:
    """Keep the stable response headers, one string each (a list if repeated)."""
    kept: Headers = {}
    for name, value in raw.items():
        if name.lower() in VOLATILE_RESPONSE_HEADERS:
            continue
        if type(value) is list and len(value) == 1:  # the usual: no list to make
            kept[name] = str(value[0])
            continue
        values = [value] if isinstance(value, str) else [str(v) for v in value]
        kept[name] = values[0] if len(values) == 1 else values
    return kept


def request_headers_and(
    raw: Mapping[str, object], also: str
) -> tuple[Headers, list[tuple[str, str]]]:
    """The request headers a cassette keeps (`KEPT_REQUEST_HEADERS`, a list of values
    joined by ", "), and in the same pass every (name, `str` of its value) of the
    headers named `also` (lowercase) in their order."""
    kept: Headers = {}
    found: list[tuple[str, str]] = []
    for name, value in raw.items():
        lower = name.lower()
        if lower in KEPT_REQUEST_HEADERS:
            kept[name] = value if isinstance(value, str) else ", ".join(map(str, value))  # type: ignore[call-overload]
        elif lower == also:
            found.append((name, str(value)))
    return kept, found


def replay_headers(headers: Headers, body: bytes) -> dict[str, list[str]]:
    """Headers as vcrpy's stubs want them, with a Content-Length that fits the body."""
    out = {name: [v] if isinstance(v, str) else list(v) for name, v in headers.items()}
    out["Content-Length"] = [str(len(body))]
    return out


def replay_pairs(headers: Headers, body: bytes) -> list[tuple[str, str]]:
    """The (name, value) pairs urllib3 gets from vcrpy's answer for `replay_headers(headers,
    body)`: every value in order, Transfer-Encoding dropped (vcrpy's body is whole, no
    longer chunked). In one pass, without the dict of lists between them: on every
    replayed response of a test's own requests client."""
    length = ("Content-Length", str(len(body)))
    pairs: list[tuple[str, str]] = []
    placed = False
    for name, value in headers.items():
        if name == "Content-Length":  # replay_headers replaces this spelling in place
            pairs.append(length)
            placed = True
        elif name.lower() != "transfer-encoding":
            if isinstance(value, str):
                pairs.append((name, value))
            else:
                pairs.extend((name, one) for one in value)
    if not placed:
        pairs.append(length)
    return pairs
