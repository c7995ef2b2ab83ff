"""Request matching: the one place that decides whether two requests are "the same".

A request is reduced to a `RequestKey`: method, the path relative to the API's
base path, the query as a sorted multiset, the body in a canonical form (JSON
compared by meaning, not by bytes), and the origin of its URI as a cassette
stores it (`canonical.canonical_uri`): the API's is the public one whatever
base URL was in force, loopback's is `http://localhost` whatever the port. So a
cassette recorded against the stand-in on a random port, or against the live
API, replays anywhere, and a request to another host never gets the API's
answer (or another host's) for the same path.

`CassetteIndex` maps keys to interaction positions, so a lookup costs the same
whatever the cassette's size, and identical requests replay in recorded order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from hl_testkit.cassettes.canonical import CANONICAL_BASE_URL, api_prefix

if TYPE_CHECKING:
    from hl_testkit.cassettes.model import Interaction


class RequestKey(NamedTuple):
    """A tuple, not a frozen dataclass: every replayed request makes one and hashes it
    three times (`Recording.take`), and a tuple does both in C, at a third of the cost."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    body: str | None  # canonical JSON, or the raw text, or None for no body
    origin: str  # scheme://host[:port] as stored: the API's, `http://localhost`, or another

    def describe(self) -> str:
        """`GET /sessions?page=1&project_id=pr_x` (query shown sorted); the origin too
        when it is not the API's: `GET http://other.example/status`."""
        query = "&".join(f"{k}={v}" for k, v in self.query)
        origin = "" if self.origin == API_ORIGIN else self.origin
        return f"{self.method} {origin}{self.path}" + (f"?{query}" if query else "")


#: The origin of every request under the base URL in force, as stored.
API_ORIGIN = CANONICAL_BASE_URL[: CANONICAL_BASE_URL.index("/", len("https://"))]


def canonical_body(body: bytes | str | None) -> str | None:
    """JSON bodies by meaning (key order and whitespace don't count); others as text."""
    if body is None:
        return None
    raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if raw == "":
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def relative_path(path: str, base_path: str) -> str:
    """`/v4/sessions` under base path `/v4` is `/sessions`; other paths stay whole."""
    base = base_path.rstrip("/")
    if base and (path == base or path.startswith(base + "/")):
        return path[len(base) :] or "/"
    return path or "/"


def request_key(method: str, uri: str, body: bytes | str | None, base_path: str) -> RequestKey:
    origin, path, query = split_uri(uri)
    return RequestKey(
        method.upper(),
        relative_path(path, base_path),
        tuple(sorted(query_pairs(query))),
        canonical_body(body),
        origin,
    )


def split_uri(uri: str) -> tuple[str, str, str]:
    """(`scheme://netloc`, path, query) as `urlsplit` makes them. A URI on the API's
    origin as stored (what nearly every key is made of), with nothing the split would
    change (a fragment, a tab or newline it drops, a non-ASCII character), is cut at its
    first `?` instead: a third of a recorded or replayed request's key.
    `tests/test_matching.py` holds it to `urlsplit`."""
    if plain_after(uri, API_ORIGIN):
        path, _, query = uri[len(API_ORIGIN) :].partition("?")
        return API_ORIGIN, path, query
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}", parts.path, parts.query


def plain_after(uri: str, origin: str) -> bool:
    """Is `uri` `origin` (non-empty) and then a path, with nothing `urlsplit` would change
    (a fragment, a tab or newline it drops, a non-ASCII character)? Then it can be cut
    by hand where the split would cut it (also `record_adapter.stub_uri`)."""
    at = len(origin)
    return (
        bool(origin)
        and uri.startswith(origin)
        and uri[at : at + 1] == "/"
        and "#" not in uri
        and uri.isascii()
        and uri.isprintable()
    )


def query_pairs(query: str) -> list[tuple[str, str]]:
    """`parse_qsl(query, keep_blank_values=True)`, by splitting when nothing needs
    decoding (no `%`, no `+`): what most queries are, at half the cost on every
    replayed request. `tests/test_matching.py` holds it to `parse_qsl`."""
    if "%" in query or "+" in query:
        return parse_qsl(query, keep_blank_values=True)
    pieces = (piece.partition("=") for piece in query.split("&") if piece)
    return [(name, value) for name, _, value in pieces]


def stored_key(interaction: Interaction) -> RequestKey:
    """A recorded interaction's key. Its URI is stored in canonical form, so the base
    path matching ignores is the canonical one (`api_prefix`)."""
    r = interaction.request
    return request_key(r.method, r.uri, r.body, api_prefix(r.uri))


@dataclass
class CassetteIndex:
    """Key → positions of the interactions with that key, in recorded order."""

    _positions: dict[RequestKey, list[int]] = field(default_factory=dict)
    keys: list[RequestKey] = field(default_factory=list)

    @classmethod
    def of(cls, keys: Iterable[RequestKey]) -> CassetteIndex:
        index = cls()
        for key in keys:
            index.add(key)
        return index

    def add(self, key: RequestKey) -> int:
        position = len(self.keys)
        self.keys.append(key)
        self._positions.setdefault(key, []).append(position)
        return position

    def positions(self, key: RequestKey) -> list[int]:
        return self._positions.get(key, [])


# -- what differs, for miss messages ----------------------------------------------


def differences(wanted: RequestKey, recorded: RequestKey) -> list[str]:
    """Human-readable differences between a request and a recorded one."""
    found: list[str] = []
    if wanted.origin != recorded.origin:
        found.append(f"origin: recorded {recorded.origin}, requested {wanted.origin}")
    if wanted.method != recorded.method:
        found.append(f"method: recorded {recorded.method}, requested {wanted.method}")
    if wanted.path != recorded.path:
        found.append(f"path: recorded {recorded.path!r}, requested {wanted.path!r}")
    found.extend(_query_differences(dict(_group(wanted.query)), dict(_group(recorded.query))))
    if wanted.body != recorded.body:
        found.extend(_body_differences(wanted.body, recorded.body))
    return found


def closest(wanted: RequestKey, candidates: list[RequestKey]) -> int | None:
    """Position of the recorded request most like `wanted` (first one on ties)."""
    best: int | None = None
    best_score = -1
    for position, key in enumerate(candidates):
        score = _similarity(wanted, key)
        if score > best_score:
            best, best_score = position, score
    return best


def _similarity(a: RequestKey, b: RequestKey) -> int:
    score = 8 * (a.path == b.path) + 4 * (a.method == b.method) + 2 * (a.origin == b.origin)
    score += a.body == b.body
    shared = set(a.query) & set(b.query)
    return score * 100 + len(shared)


def _group(pairs: tuple[tuple[str, str], ...]) -> Iterable[tuple[str, list[str]]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped.items()


def _query_differences(wanted: dict[str, list[str]], recorded: dict[str, list[str]]) -> list[str]:
    found: list[str] = []
    for name in sorted(set(wanted) | set(recorded)):
        w, r = wanted.get(name), recorded.get(name)
        if w == r:
            continue
        if r is None:
            found.append(f"query {name}: not recorded, requested {_one(w)}")
        elif w is None:
            found.append(f"query {name}: recorded {_one(r)}, not requested")
        else:
            found.append(f"query {name}: recorded {_one(r)}, requested {_one(w)}")
    return found


def _one(values: list[str] | None) -> str:
    values = values or []
    return repr(values[0]) if len(values) == 1 else repr(values)


def _body_differences(wanted: str | None, recorded: str | None) -> list[str]:
    w, r = _parse(wanted), _parse(recorded)
    if isinstance(w, dict) and isinstance(r, dict):
        diffs: list[str] = []
        _json_diff("$", w, r, diffs)
        return [f"body {d}" for d in diffs[:10]]
    return [f"body: recorded {_short(recorded)}, requested {_short(wanted)}"]


def _json_diff(path: str, wanted: Any, recorded: Any, out: list[str]) -> None:
    if isinstance(wanted, dict) and isinstance(recorded, dict):
        for key in sorted(set(wanted) | set(recorded)):
            sub = f"{path}.{key}"
            if key not in recorded:
                out.append(f"{sub}: not recorded, requested {_short(wanted[key])}")
            elif key not in wanted:
                out.append(f"{sub}: recorded {_short(recorded[key])}, not requested")
            else:
                _json_diff(sub, wanted[key], recorded[key], out)
    elif wanted != recorded:
        out.append(f"{path}: recorded {_short(recorded)}, requested {_short(wanted)}")


def _parse(body: str | None) -> Any:
    if body is None:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) and not value.startswith(("{", "[")) else None
    shown = repr(text) if text is not None else json.dumps(value, sort_keys=True)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."
