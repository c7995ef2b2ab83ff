"""`SessionsClient`: the sessions calls of the Humanloop v4 API on `requests`.

Calls and results are shaped like the official SDK's (`humanloop` 0.5.x), so
code written against one reads the same against the other.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from hl_testkit import __version__
from hl_testkit.errors import ApiException
from hl_testkit.secrets.scrub import known_secrets, scrub_text, without_userinfo

DEFAULT_BASE_URL = "https://api.humanloop.com/v4"
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)  # (connect, read) seconds

#: The provider-key arguments of the official SDK's constructor, with the
#: label their values are known by when scrubbed.
PROVIDER_KEY_ARGS: dict[str, str] = {
    "openai_api_key": "OPENAI_API_KEY",
    "openai_azure_api_key": "OPENAI_AZURE_API_KEY",
    "openai_azure_endpoint_api_key": "OPENAI_AZURE_ENDPOINT_API_KEY",
    "ai21_api_key": "AI21_API_KEY",
    "mock_api_key": "MOCK_API_KEY",
    "anthropic_api_key": "ANTHROPIC_API_KEY",
    "cohere_api_key": "COHERE_API_KEY",
}


QueryParams = list[tuple[str, str]]  # ordered: the SDK sends project_id, page, size


@dataclass(frozen=True)
class ApiResponse:
    """One successful call: the parsed body and what came with it."""

    body: Any
    headers: Mapping[str, str]
    status: int
    round_trip_time: float


def resolve_base_url(base_url: str | None = None) -> str:
    """Argument, else `HUMANLOOP_BASE_URL`, else the public v4 API."""
    url = base_url or os.environ.get("HUMANLOOP_BASE_URL") or DEFAULT_BASE_URL
    return url.rstrip("/")


class SessionsClient:
    """`create()`, `get(id=...)` and `list(project_id=..., page=..., size=...)`."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        openai_api_key: str | None = None,
        openai_azure_api_key: str | None = None,
        openai_azure_endpoint_api_key: str | None = None,
        ai21_api_key: str | None = None,
        mock_api_key: str | None = None,
        anthropic_api_key: str | None = None,
        cohere_api_key: str | None = None,
    ) -> None:
        self.base_url = resolve_base_url(base_url)
        self.api_key = api_key if api_key is not None else os.environ.get("HUMANLOOP_API_KEY")
        self.timeout = timeout
        self.http = session if session is not None else requests.Session()
        provider_values = {
            "openai_api_key": openai_api_key,
            "openai_azure_api_key": openai_azure_api_key,
            "openai_azure_endpoint_api_key": openai_azure_endpoint_api_key,
            "ai21_api_key": ai21_api_key,
            "mock_api_key": mock_api_key,
            "anthropic_api_key": anthropic_api_key,
            "cohere_api_key": cohere_api_key,
        }
        self.provider_keys: dict[str, str] = {
            name: value for name, value in provider_values.items() if value
        }

    def __repr__(self) -> str:
        # Never the keys, nor the base URL's userinfo: a client in a report shows neither.
        key = "set" if self.api_key else "not set"
        return f"SessionsClient(base_url={without_userinfo(self.base_url)!r}, api_key {key})"

    @property
    def secrets(self) -> dict[str, str]:
        """Every secret value this client holds, by the label it is scrubbed as."""
        found: dict[str, str] = {}
        if self.api_key:
            found["HUMANLOOP_API_KEY"] = self.api_key
        for arg, value in self.provider_keys.items():
            found[PROVIDER_KEY_ARGS[arg]] = value
        return found

    # -- the three calls ---------------------------------------------------

    def create(self) -> ApiResponse:
        """`POST /sessions` with no body; 201 gives `{"id": "sesh_..."}`."""
        return self._call("POST", "/sessions")

    def get(self, id: str) -> ApiResponse:  # `id`, as the SDK names it
        """`GET /sessions/{id}`."""
        return self._call("GET", "/sessions/" + _path_segment(id, "id"))

    def list(
        self, project_id: str, page: int | None = None, size: int | None = None
    ) -> ApiResponse:
        """`GET /sessions?project_id=...&page=...&size=...` (unset ones omitted)."""
        _require_text(project_id, "project_id")
        params: QueryParams = [("project_id", project_id)]
        for name, value in (("page", page), ("size", size)):
            if value is not None:
                _require_int(value, name)
                params.append((name, str(value)))
        return self._call("GET", "/sessions", params=params)

    # -- plumbing ------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = {
            "Accept": "application/json",
            # Like the official SDK: uncompressed bodies, so cassettes stay readable.
            "Accept-Encoding": "identity",
            "User-Agent": f"hl-testkit/{__version__}",
        }
        if self.api_key:
            headers["X-API-KEY"] = self.api_key
        return headers

    def _call(self, method: str, path: str, params: QueryParams | None = None) -> ApiResponse:
        started = time.perf_counter()
        response = self.http.request(
            method,
            self.base_url + path,
            params=params,
            headers=self._headers(),
            timeout=self.timeout,
        )
        elapsed = time.perf_counter() - started
        return _to_result(response, elapsed, self._scrub)

    def _scrub(self, text: str) -> str:
        """`text` with every key this client or the environment knows as its placeholder."""
        return scrub_text(text, known_secrets(os.environ, extra=self.secrets))

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> SessionsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _to_result(
    response: requests.Response, elapsed: float, clean: Callable[[str], str]
) -> ApiResponse:
    """The parsed answer; else an `ApiException` whose message (its str and repr) is
    scrubbed by `clean`: a server may echo the key. Its attributes keep the raw data."""
    content_type = response.headers.get("Content-Type", "")
    try:
        body = response.json()
    except ValueError:
        raise ApiException(
            response.status_code,
            response.reason or "",
            response.text,
            response.headers,
            elapsed,
            text=response.text,
            message=clean(
                f"({response.status_code}) {response.reason}: expected a JSON body, got "
                f"{content_type or 'no Content-Type'} ({len(response.content)} bytes); "
                "the raw text is in .text"
            ),
        ) from None
    if not 200 <= response.status_code < 300:
        raise ApiException(
            response.status_code,
            response.reason or "",
            body,
            response.headers,
            elapsed,
            text=response.text,
            message=clean(f"({response.status_code}) {response.reason or ''}: {body!r}"),
        )
    return ApiResponse(body, response.headers, response.status_code, elapsed)


def _require_text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__} {value!r}")
    if not value:
        raise ValueError(f"{name} must not be empty")
    return value


def _require_int(value: object, name: str) -> int:
    # bool is an int subclass, but `page=True` is always a mistake.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    return value


def _path_segment(value: object, name: str) -> str:
    """Percent-encode one path segment so no id can reach another endpoint."""
    text = _require_text(value, name)
    if text.strip(".") == "":
        # requests un-escapes %2E, and urllib3 then resolves "." and ".." away.
        raise ValueError(f"{name} {text!r} is not a session id (dot segments are refused)")
    return quote(text, safe="")
