"""The cassette file: how a cassette (`hl_testkit.cassettes.model`) is read and written.

The format is our own YAML (not vcrpy's), chosen so that files are readable in
a diff and identical when the same exchanges are recorded twice: JSON bodies
are stored as structured YAML, headers as plain strings, keys in a fixed order.

Every cassette is validated when it is loaded. A file that is empty, cut off,
not YAML, of another format or of the wrong shape raises `CassetteError`, whose
message names the absolute path, the line and column when they are known, what
is wrong, and the caller's hint (e.g. how to re-record): a corrupt cassette is
never taken for an empty one. Writing (atomic, locked) is `hl_testkit.cassettes.store`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml

from hl_testkit.cassettes import fast_yaml

# The data model lives in `model` (no YAML there); its names stay importable from here.
from hl_testkit.cassettes.model import CassetteData as CassetteData
from hl_testkit.cassettes.model import Headers as Headers
from hl_testkit.cassettes.model import Interaction as Interaction
from hl_testkit.cassettes.model import RecordedRequest as RecordedRequest
from hl_testkit.cassettes.model import RecordedResponse as RecordedResponse
from hl_testkit.cassettes.model import VarValue as VarValue
from hl_testkit.cassettes.wording import describe_value as _describe
from hl_testkit.errors import HlTestkitError

FORMAT = "hl-testkit-cassette/2"
FORMAT_VERSION = 2
#: Format 1 (no `recorded_by:`) is still read; its interactions load unattributed,
#: and the file is written as format 2 the next time it is saved.
OLDEST_FORMAT_VERSION = 1
HEADER_COMMENT = (
    "# hl-testkit cassette: recorded HTTP exchanges, replayed offline.\n"
    "# Scrubbed of secrets before writing. Re-record with --hl-record-mode=rewrite.\n"
)

_FORMAT_RE = re.compile(r"hl-testkit-cassette/(\d+)")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LONG_RUN = fast_yaml.MAX_NUMBER_CHARS - 1  # digits: with a sign, a number too long
_LONG_DIGITS = re.compile(r"\d{" + str(_LONG_RUN) + ",}")
_ASCII_DIGITS = b"0123456789"
#: JSON nested deeper is kept as text: writing it as YAML data takes a few stack frames a
#: level, past Python's recursion limit from about 330 levels (fewer under a deep stack).
MAX_DATA_DEPTH = 100
#: RFC 9110's `token`: what a method may be made of.
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TOP_KEYS = ("format", "recorded_against", "recorded_at", "vars", "interactions")
_REQUEST_KEYS = ("method", "uri", "headers", "body")
_RESPONSE_KEYS = ("status", "reason", "headers", "body")
_MERGE_TAG = "tag:yaml.org,2002:merge"

try:  # the C parser when PyYAML has it (several times faster); both are safe loaders
    from yaml import CSafeLoader as _SafeLoaderBase
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoaderBase  # type: ignore[assignment]


def _no_alias(dumper: Any, data: Any) -> bool:
    """Every value is written out in full: the loader refuses anchors and aliases, so a
    list or dict two interactions share (e.g. one header value list) written as an
    alias would make the next run refuse the cassette it just saved."""
    return True


# The C dumper when PyYAML has it; our own subclass, so that the representer
# below does not leak into PyYAML's.
_Dumper: Any = type(
    "_Dumper", (getattr(yaml, "CSafeDumper", yaml.SafeDumper),), {"ignore_aliases": _no_alias}
)


class _Loader(_SafeLoaderBase):
    """A safe loader that also refuses duplicate keys (PyYAML keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            ident = (key_node.tag, key_node.value)
            if ident in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"the key {key_node.value!r} appears twice (a merge conflict left behind?)",
                    key_node.start_mark,
                )
            seen.add(ident)
        return super().construct_mapping(node, deep=deep)


class CassetteError(HlTestkitError):
    """A cassette file could not be read or saved; the message names the file.

    `path` is the absolute path of the cassette; `line` and `column` (1-based)
    are where the problem is, when the parser or the validator knows it.
    """

    def __init__(
        self,
        message: str,
        *,
        path: Path | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.column = column


# -- validation -----------------------------------------------------------------------

_Where = tuple[str | int, ...]


class _Invalid(ValueError):
    """A shape problem at `where` (a path into the document).

    `at` says which position to report: the value at `where`, or the key that
    leads to it (for an unknown key, or a mapping that misses a key).
    """

    def __init__(self, where: _Where, problem: str, at: Literal["value", "key"] = "value") -> None:
        super().__init__(f"{_label(where)}: {problem}" if where else problem)
        self.where = where
        self.problem = problem
        self.at = at


def _label(where: _Where) -> str:
    text = ""
    for step in where:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


def _mapping(
    node: Any, where: _Where, what: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, Any]:
    if not isinstance(node, dict):
        raise _Invalid(
            where,
            f"{what} must be a mapping with {', '.join(required)}; got {_describe(node)}",
        )
    for key in node:
        if key not in required and key not in optional:
            raise _Invalid(
                (*where, key),
                f"unknown key {key!r} in {what} (expected {', '.join(required)})",
                at="key",
            )
    missing = [k for k in required if k not in node]
    if missing:
        raise _Invalid(
            where,
            f"{what} lacks {', '.join(repr(k) for k in missing)} "
            "(hl-testkit always writes every key: was the file cut off or edited by hand?)",
            at="key",
        )
    return node


def _string(node: Any, where: _Where, what: str, *, empty: bool = True) -> str:
    if not isinstance(node, str):
        raise _Invalid(where, f"{what} must be a string, got {_describe(node)}")
    if not empty and not node:
        raise _Invalid(where, f"{what} must not be empty")
    return node


def _method(node: Any, where: _Where) -> str:
    method = _string(node, where, "the method", empty=False)
    if not _TOKEN_RE.fullmatch(method):
        raise _Invalid(
            where,
            f"the method must be an HTTP method like GET or POST (letters, digits and "
            f"!#$%&'*+-.^_`|~, no spaces), got {method!r}",
        )
    return method


def _uri(node: Any, where: _Where) -> str:
    uri = _string(node, where, "the uri", empty=False)
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() or not c.isprintable() for c in uri)
    ):
        raise _Invalid(
            where,
            "the uri must be an absolute http(s) URL like "
            f"https://api.humanloop.com/v4/sessions, got {uri!r}",
        )
    return uri


def _status(node: Any, where: _Where) -> int:
    if isinstance(node, bool) or not isinstance(node, int):
        fix = " (remove the quotes)" if isinstance(node, str) and node.strip().isdigit() else ""
        raise _Invalid(
            where,
            f"the response status must be an integer like 200, got {_describe(node)}{fix}",
        )
    if not 100 <= node <= 599:
        raise _Invalid(where, f"the response status must be an HTTP status (100-599), got {node}")
    return node


def _headers(node: Any, where: _Where) -> Headers:
    if not isinstance(node, dict):
        raise _Invalid(where, f"headers must be a mapping of name: value, got {_describe(node)}")
    headers: Headers = {}
    for name, value in node.items():
        if not isinstance(name, str):
            raise _Invalid(
                (*where, name), f"a header name must be a string, got {_describe(name)}", "key"
            )
        if isinstance(value, str):
            headers[name] = value
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            headers[name] = list(value)
        else:
            raise _Invalid(
                (*where, name),
                f"header {name!r} must be a string or a list of strings, got {_describe(value)}",
            )
    return headers


def _check_json(value: Any, where: _Where) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Invalid(
                    (*where, key),
                    f"a JSON object key must be a string, got {_describe(key)}",
                    "key",
                )
            _check_json(item, (*where, key))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            _check_json(item, (*where, n))
    elif isinstance(value, float) and not math.isfinite(value):
        raise _Invalid(where, f"a JSON body cannot hold {value!r}")
    elif value is not None and not isinstance(value, (str, int, float)):
        raise _Invalid(where, f"a JSON body cannot hold {_describe(value)}; quote it")


def _body(node: Any, where: _Where) -> bytes:
    if node is None:
        return b""
    if not isinstance(node, dict) or len(node) != 1:
        kinds = f" (it has {', '.join(map(str, node))})" if isinstance(node, dict) else ""
        raise _Invalid(
            where,
            "a body must be null or exactly one of json:, text: or base64:, "
            f"got {_describe(node)}{kinds}",
        )
    ((kind, value),) = node.items()
    here = (*where, kind)
    if kind == "json":
        if not isinstance(value, (dict, list)):
            raise _Invalid(
                here, f"a json: body must be a mapping or a list, got {_describe(value)}"
            )
        _check_json(value, here)
        return _json_body(value)
    if kind == "text":
        return _string(value, here, "a text: body").encode("utf-8")
    if kind == "base64":
        try:
            return base64.b64decode(_string(value, here, "a base64: body"), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _Invalid(here, f"a base64: body is not valid base64 ({exc})") from None
    raise _Invalid((*where, kind), f"body kind {kind!r} is not json, text or base64", "key")


def _recorded_at(node: Any) -> str | None:
    if node is None:
        return None
    if isinstance(node, dt.date) and not isinstance(node, dt.datetime):
        return node.isoformat()  # an unquoted date in a hand-written file
    if isinstance(node, str) and _DATE_RE.fullmatch(node):
        try:
            return dt.date.fromisoformat(node).isoformat()
        except ValueError:
            pass
    raise _Invalid(
        ("recorded_at",), f"recorded_at must be a date YYYY-MM-DD, got {_describe(node)}"
    )


def _check_format(document: dict[Any, Any]) -> None:
    if "format" not in document:
        if "interactions" in document and "version" in document:
            raise _Invalid(
                (),
                "this is a vcrpy cassette ('version:' and 'interactions:', no 'format:'), not an "
                "hl-testkit one; hl-testkit reads only its own format, so record it again with "
                "hl-testkit",
            )
        raise _Invalid((), f"no 'format:' key; an hl-testkit cassette starts with format: {FORMAT}")
    value = document["format"]
    match = _FORMAT_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise _Invalid(
            ("format",), f"format is {_describe(value)}, not an hl-testkit cassette ({FORMAT})"
        )
    version = int(match.group(1))
    if version > FORMAT_VERSION:
        raise _Invalid(
            ("format",),
            f"written by a newer hl-testkit ({value}; this one reads {FORMAT}); "
            "upgrade hl-testkit to replay it",
        )
    if version < OLDEST_FORMAT_VERSION:
        raise _Invalid(("format",), f"format {value} is not one this hl-testkit reads ({FORMAT})")


def _from_document(document: Any) -> CassetteData:
    if not isinstance(document, dict):
        raise _Invalid(
            (),
            f"the top level must be a mapping (format:, interactions:), got {_describe(document)}",
        )
    _check_format(document)
    for key in document:
        if key not in _TOP_KEYS:
            raise _Invalid(
                (key,), f"unknown top-level key {key!r} (expected {', '.join(_TOP_KEYS)})", "key"
            )
    recorded_against = document.get("recorded_against")
    if recorded_against is not None:
        _string(recorded_against, ("recorded_against",), "recorded_against")
    recorded_at = _recorded_at(document.get("recorded_at"))
    stored_vars = _vars(document.get("vars"))
    if "interactions" not in document:
        raise _Invalid((), "there is no 'interactions:' list")
    items = document["interactions"]
    if not isinstance(items, list):
        raise _Invalid(("interactions",), f"'interactions' must be a list, got {_describe(items)}")
    return CassetteData(
        [_interaction(item, ("interactions", n)) for n, item in enumerate(items)],
        recorded_against,
        recorded_at,
        stored_vars,
    )


def _vars(node: Any) -> dict[str, VarValue]:
    if node is None:
        return {}
    if not isinstance(node, dict):
        raise _Invalid(
            ("vars",), f"vars must be a mapping of names to values, got {_describe(node)}"
        )
    for name, value in node.items():
        if not isinstance(name, str) or not isinstance(value, (str, int, float, bool)):
            raise _Invalid(
                ("vars", name), f"a var is a string, number or boolean, got {_describe(value)}"
            )
    return dict(node)


def _interaction(item: Any, where: _Where) -> Interaction:
    _mapping(
        item, where, "an interaction", ("request", "response"), ("recorded_by", "schema_violations")
    )
    recorded_by = item.get("recorded_by")
    if recorded_by is not None:
        _string(recorded_by, (*where, "recorded_by"), "recorded_by (a test's node id)", empty=False)
    violations = item.get("schema_violations")
    if violations is not None and not (
        isinstance(violations, list) and all(isinstance(v, str) for v in violations)
    ):
        raise _Invalid((*where, "schema_violations"), "schema_violations must be a list of strings")
    rq_where, rs_where = (*where, "request"), (*where, "response")
    req = _mapping(item["request"], rq_where, "the request", _REQUEST_KEYS)
    resp = _mapping(item["response"], rs_where, "the response", _RESPONSE_KEYS)
    return Interaction(
        RecordedRequest(
            method=_method(req["method"], (*rq_where, "method")),
            uri=_uri(req["uri"], (*rq_where, "uri")),
            headers=_headers(req["headers"], (*rq_where, "headers")),
            body=_body(req["body"], (*rq_where, "body")) or None,
        ),
        RecordedResponse(
            status=_status(resp["status"], (*rs_where, "status")),
            reason=_string(resp["reason"], (*rs_where, "reason"), "the reason"),
            headers=_headers(resp["headers"], (*rs_where, "headers")),
            body=_body(resp["body"], (*rs_where, "body")),
        ),
        violations,
        recorded_by,
    )


# -- bodies ---------------------------------------------------------------------


def body_to_yaml(body: bytes | None, *, exact: bool = False) -> dict[str, Any] | None:
    """JSON objects/arrays as data, other UTF-8 as text, anything else as base64.

    Data only if the loader can make a body of it again (`_json_body`): not NaN or
    Infinity, which Python's JSON reads but a cassette may not hold, nor a lone
    surrogate escape, which UTF-8 cannot write. `exact` (a response's body, which
    replay hands to the client as it is): data only if the loader gives back these
    very bytes, so whitespace, escapes, `1e2` or a repeated key keep the body as text."""
    if not body:
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(body).decode("ascii")}
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested past Python's limit
        return {"text": text}
    # A number longer than a cassette may hold (see fast_yaml.MAX_NUMBER_CHARS) would make
    # the file unreadable once written: such a body is kept as its text, byte for byte.
    if (
        isinstance(value, (dict, list))
        and not _long_digits(body, text)
        and not _too_deep(text, value)
    ):
        try:
            again = _json_body(value)
        except (ValueError, UnicodeEncodeError):
            return {"text": text}
        if not exact or again == body:
            return {"json": value}
    return {"text": text}


def _json_body(value: Any) -> bytes:
    """The body a `json:` node is read as: compact, as the API writes it."""
    dumped = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return dumped.encode("utf-8")


def _too_deep(text: str, value: dict[str, Any] | list[Any]) -> bool:
    """Is `value` (`text`, parsed) nested more than `MAX_DATA_DEPTH` levels deep? Not if
    `text` opens fewer collections than that (counted in C: most bodies end here)."""
    if text.count("[") + text.count("{") <= MAX_DATA_DEPTH:
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]  # a loop, not recursion: it may be deep
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DATA_DEPTH:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _long_digits(body: bytes, text: str) -> bool:
    """Does `text` (`body`, decoded) hold a run of digits as long as `_LONG_DIGITS`'s?

    Its search costs ~20 ns a character; ASCII with fewer digits in all than such a
    run holds none (counted in C: the length without them), and most bodies are so.
    Non-ASCII text (`\\d` is any Unicode digit there) and the rest are searched.
    """
    if body.isascii():
        digits = len(body) - len(body.translate(None, _ASCII_DIGITS))
        if digits < _LONG_RUN:
            return False
    return _LONG_DIGITS.search(text) is not None


def body_from_yaml(node: Any, where: str) -> bytes:
    """The bytes of a stored body; ValueError (naming `where`) when it is malformed."""
    try:
        return _body(node, ())
    except _Invalid as exc:
        raise ValueError(f"{where}: {exc}") from None


# -- to and from YAML -------------------------------------------------------------


def to_document(data: CassetteData) -> dict[str, Any]:
    document: dict[str, Any] = {"format": FORMAT, "recorded_against": data.recorded_against}
    if data.recorded_at is not None:  # older files have none; keep them byte-identical
        document["recorded_at"] = data.recorded_at
    if data.vars:  # only scenarios with environment variables have them
        document["vars"] = dict(sorted(data.vars.items()))
    document["interactions"] = [interaction_document(i) for i in data.interactions]
    return document


def interaction_document(i: Interaction) -> dict[str, Any]:
    """What one interaction of `interactions:` is written from."""
    document: dict[str, Any] = {}
    if i.recorded_by is not None:  # first: whose it is, before what it is
        document["recorded_by"] = i.recorded_by
    document |= {
        "request": {
            "method": i.request.method,
            "uri": i.request.uri,
            "headers": dict(sorted(i.request.headers.items())),
            "body": body_to_yaml(i.request.body),
        },
        "response": {
            "status": i.response.status,
            "reason": i.response.reason,
            "headers": dict(sorted(i.response.headers.items())),
            "body": body_to_yaml(i.response.body, exact=True),
        },
    }
    if i.schema_violations:
        document["schema_violations"] = list(i.schema_violations)
    return document


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """Multi-line strings as `|` blocks, so an HTML error page stays readable."""
    style = "|" if fast_yaml.as_block(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def dumps(data: CassetteData) -> str:
    # The bodies and events are temporaries, made and dropped with the collector off: else
    # their objects set it off and are walked by it. The events are made straight from
    # the interactions (`_cassette_events`); `to_document` only if fast_yaml falls back.
    with fast_yaml.collector_paused():
        text = fast_yaml.dump_made(  # yaml.dump's very text, built faster (see fast_yaml)
            lambda events: _cassette_events(events, data),
            lambda: to_document(data),
            Dumper=_Dumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            width=100,
        )
    return HEADER_COMMENT + text


def _cassette_events(events: fast_yaml.Events, data: CassetteData) -> None:
    """The events of `to_document(data)`, made without its dicts: the keys and mappings
    every interaction has are added here, only what varies goes through `events.node`
    (at the depth it has in the document: JSON too deep falls back alike)."""
    node, out = events.node, events.out
    mapping, sequence = events.block_starts()
    top = to_document(replace(data, interactions=[]))
    out.append(mapping)
    for key, value in top.items():
        if key != "interactions":
            node(key, 1)
            node(value, 1)
    node("interactions", 1)
    out.append(sequence)
    keys = {key: events.plain(key) for key in _EVENT_KEYS}
    for i in data.interactions:
        _interaction_events(events, keys, i)
    out += (fast_yaml.SEQUENCE_END, fast_yaml.MAPPING_END)


#: Every key `interaction_document` writes, in the order it writes them.
_EVENT_KEYS: tuple[str, ...] = ("recorded_by", "request", "response", "schema_violations")
_EVENT_KEYS += (*_REQUEST_KEYS, *_RESPONSE_KEYS)


def _interaction_events(events: fast_yaml.Events, keys: dict[str, Any], i: Interaction) -> None:
    """`events.node(interaction_document(i), 2)`, the keys' events added as they are."""
    node, out = events.node, events.out
    mapping, _ = events.block_starts()
    out.append(mapping)
    if i.recorded_by is not None:
        out.append(keys["recorded_by"])
        node(i.recorded_by, 3)
    request, response = i.request, i.response
    out += (keys["request"], mapping, keys["method"])
    node(request.method, 4)
    out.append(keys["uri"])
    node(request.uri, 4)
    _headers_and_body(events, keys, request.headers, request.body, exact=False)
    out += (keys["response"], mapping, keys["status"])
    node(response.status, 4)
    out.append(keys["reason"])
    node(response.reason, 4)
    _headers_and_body(events, keys, response.headers, response.body, exact=True)
    if i.schema_violations:
        out.append(keys["schema_violations"])
        node(list(i.schema_violations), 3)
    out.append(fast_yaml.MAPPING_END)


def _headers_and_body(
    events: fast_yaml.Events,
    keys: dict[str, Any],
    headers: Headers,
    body: bytes | None,
    exact: bool,
) -> None:
    """The `headers:` and `body:` of a request or response, and the end of its mapping."""
    node, out = events.node, events.out
    mapping, _ = events.block_starts()
    out += (keys["headers"], mapping)
    for name, value in sorted(headers.items()):
        node(name, 5)
        node(value, 5)
    out += (fast_yaml.MAPPING_END, keys["body"])
    stored = body_to_yaml(body, exact=exact)
    if stored is None:
        node(None, 4)
    else:
        ((kind, value),) = stored.items()
        out += (mapping, events.plain(kind))
        node(value, 5)
        out.append(fast_yaml.MAPPING_END)
    out.append(fast_yaml.MAPPING_END)


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of `offset`."""
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def _byte_position(raw: bytes, offset: int) -> tuple[int, int]:
    return raw.count(b"\n", 0, offset) + 1, offset - raw.rfind(b"\n", 0, offset)


def _error(
    path: Path,
    problem: str,
    hint: str,
    line: int | None = None,
    column: int | None = None,
    *,
    text: str | None = None,
) -> CassetteError:
    where = f"cassette {path}"
    if line is not None:
        where += f", line {line}" + (f", column {column}" if column is not None else "")
    message = f"{where}: {problem}"
    if text and not text.endswith("\n"):
        message += "\n  The file does not end with a newline: it was probably cut off mid-write."
    if hint:
        message += f"\n  {hint}"
    return CassetteError(message, path=path, line=line, column=column)


def _unsafe_tag(exc: yaml.MarkedYAMLError) -> str | None:
    match = re.search(r"constructor for the tag '([^']*)'", exc.problem or "")
    if not isinstance(exc, yaml.constructor.ConstructorError) or match is None:
        return None
    return match.group(1).replace("tag:yaml.org,2002:", "!!")


def _yaml_error(exc: yaml.YAMLError, text: str, path: Path, hint: str) -> CassetteError:
    if isinstance(exc, yaml.reader.ReaderError):
        problem = f"is not valid YAML: {exc.reason} (character {exc.character!r})"
        return _error(path, problem, hint, *_position(text, exc.position), text=text)
    if not isinstance(exc, yaml.MarkedYAMLError):
        return _error(path, f"is not valid YAML: {exc}", hint, text=text)
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    if isinstance(exc, fast_yaml.NotPlainData):
        return _error(path, _NOT_PLAIN[exc.kind](exc.problem), hint, line, column, text=text)
    tag = _unsafe_tag(exc)
    if tag is not None:
        problem = (
            f"uses the YAML tag {tag}, which hl-testkit refuses: a cassette is plain data "
            "(mappings, lists, strings, numbers) and is read with a safe loader, so nothing "
            "in it was run; remove the tag, or re-record the cassette"
        )
        return _error(path, problem, hint, line, column, text=text)
    problem = f"is not valid YAML: {exc.problem}"
    if exc.context:
        problem += f", {exc.context}"
        where = exc.context_mark
        if where is not None and (
            mark is None or (where.line, where.column) != (mark.line, mark.column)
        ):
            problem += f" at line {where.line + 1}, column {where.column + 1}"
    return _error(path, problem, hint, line, column, text=text)


_NOT_PLAIN = {
    "anchor": lambda found: (
        f"{found}; hl-testkit refuses YAML anchors and aliases: a cassette is plain data "
        "and is written without them (an alias can make a few hundred bytes expand into "
        "gigabytes); write the value out in full, or re-record the cassette"
    ),
    "number": lambda found: (
        f"{found}; no HTTP status or JSON body needs such a number: quote it if it is "
        "text, or re-record the cassette"
    ),
}
_NOT_PLAIN["alias"] = _NOT_PLAIN["anchor"]


def _locate(text: str, exc: _Invalid) -> tuple[int | None, int | None]:
    """Line and column of the node at `exc.where`: parse again, keeping positions.

    Only done on error, so a good cassette is parsed once.
    """
    try:
        node: yaml.Node | None = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return None, None
    if node is None:
        return None, None
    mark = node.start_mark
    for step in exc.where:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(step):
                    child = value_node
                    mark = key_node.start_mark if exc.at == "key" else value_node.start_mark
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step >= 0:
            child = node.value[step] if step < len(node.value) else None
            mark = child.start_mark if child is not None else mark
        if child is None:
            break
        node = child
    return mark.line + 1, mark.column + 1


def loads(text: str | bytes, path: Path, *, hint: str = "") -> CassetteData:
    """Parse and validate a cassette; `path` is for messages.

    Raises `CassetteError` naming the absolute path, the line and column when
    known, what is wrong, and `hint` (the caller's advice, e.g. how to re-record).
    """
    path = Path(os.path.abspath(path))
    if not text:
        raise _error(path, f"is empty (0 bytes): {_NOT_EMPTY}", hint)
    if isinstance(text, bytes):
        raw = text
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problem = f"is not UTF-8 text (byte 0x{raw[exc.start]:02x}): binary or damaged data"
            raise _error(path, problem, hint, *_byte_position(raw, exc.start)) from None
    nul = text.find("\x00")
    if nul >= 0:
        line, column = _position(text, nul)
        problem = (
            "holds a NUL byte: it is binary data, or was zero-filled by a crash during a "
            "write, not a cassette"
        )
        raise _error(path, problem, hint, line, column, text=text)
    if not text.strip():
        raise _error(path, f"holds only whitespace: {_NOT_EMPTY}", hint)
    try:
        # yaml.load's very data, faster; anchors, aliases and huge numbers refused at once
        document = fast_yaml.load(text, _Loader, plain=True)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, path, hint) from None
    if document is None:
        problem = f"holds no data, only comments: {_NOT_EMPTY}"
        raise _error(path, problem, hint, text=text)
    try:
        data = _from_document(document)
    except _Invalid as exc:
        at_line, at_column = _locate(text, exc)
        raise _error(path, str(exc), hint, at_line, at_column, text=text) from None
    if not text.endswith("\n"):
        problem = "ends in the middle of a line: the file was probably cut off mid-write"
        raise _error(path, problem, hint, *_position(text, len(text)))
    return data


_NOT_EMPTY = (
    "it was emptied or its write was interrupted, and is not read as a cassette "
    "without interactions"
)


# -- files --------------------------------------------------------------------------


def read(path: Path, *, hint: str = "") -> CassetteData | None:
    """The validated cassette at `path`, or None when there is no file.

    A file that exists but is not a good cassette raises `CassetteError` (with
    `hint` appended to its message); it is never taken for an empty cassette.
    """
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _error(Path(os.path.abspath(path)), f"cannot be read: {exc}", hint) from None
    return loads(raw, path, hint=hint)
