"""What of an exchange is kept on disk, in which form, so re-recording does not churn.

Volatile headers (dates, request ids, timings, hop-by-hop) are dropped, the
host is written in one canonical form, credentials never leave memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

from hl_testkit.cassette_file import Headers

CANONICAL_BASE_URL = "https://api.humanloop.com/v4"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0"})

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
        default = {"http": 80, "https": 443}.get(parts.scheme)
        netloc = host if parts.port in (None, default) else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def api_prefix(stored_uri: str) -> str:
    """The part of a stored URI's path that matching ignores: the API's base path."""
    if stored_uri.startswith(CANONICAL_BASE_URL):
        return urlsplit(CANONICAL_BASE_URL).path
    return ""


def response_headers(raw: Mapping[str, Iterable[str] | str]) -> Headers:
    """Keep the stable response headers, one string each (a list if repeated)."""
    kept: Headers = {}
    for name, value in raw.items():
        if name.lower() in VOLATILE_RESPONSE_HEADERS:
            continue
        values = [value] if isinstance(value, str) else [str(v) for v in value]
        kept[name] = values[0] if len(values) == 1 else values
    return kept


def request_headers(raw: Mapping[str, object]) -> Headers:
    kept: Headers = {}
    for name, value in raw.items():
        if name.lower() in KEPT_REQUEST_HEADERS:
            kept[name] = value if isinstance(value, str) else ", ".join(map(str, value))  # type: ignore[call-overload]
    return kept


def replay_headers(headers: Headers, body: bytes) -> dict[str, list[str]]:
    """Headers as vcrpy's stubs want them, with a Content-Length that fits the body."""
    out = {name: [v] if isinstance(v, str) else list(v) for name, v in headers.items()}
    out["Content-Length"] = [str(len(body))]
    return out
