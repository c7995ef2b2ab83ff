"""The cassette file: what an interaction is, and how it is read and written.

The format is our own YAML (not vcrpy's), chosen so that files are readable in
a diff and identical when the same exchanges are recorded twice: JSON bodies
are stored as structured YAML, headers as plain strings, keys in a fixed order.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hl_testkit.errors import HlTestkitError

FORMAT = "hl-testkit-cassette/1"
HEADER_COMMENT = (
    "# hl-testkit cassette: recorded HTTP exchanges, replayed offline.\n"
    "# Scrubbed of secrets before writing. Re-record with --hl-record-mode=rewrite.\n"
)

Headers = dict[str, str | list[str]]

# The C loader/dumper when PyYAML has them (several times faster); both safe.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Our own subclass, so the representer below does not leak into PyYAML's.
_Dumper: Any = type("_Dumper", (getattr(yaml, "CSafeDumper", yaml.SafeDumper),), {})


class CassetteError(HlTestkitError):
    """A cassette file could not be read; the message names the file."""


@dataclass
class RecordedRequest:
    method: str
    uri: str
    headers: Headers = field(default_factory=dict)
    body: bytes | None = None


@dataclass
class RecordedResponse:
    status: int
    reason: str
    headers: Headers = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Interaction:
    request: RecordedRequest
    response: RecordedResponse


@dataclass
class CassetteData:
    interactions: list[Interaction] = field(default_factory=list)
    recorded_against: str | None = None


# -- bodies ---------------------------------------------------------------------


def body_to_yaml(body: bytes | None) -> dict[str, Any] | None:
    """JSON objects/arrays as data, other UTF-8 as text, anything else as base64."""
    if not body:
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(body).decode("ascii")}
    try:
        value = json.loads(text)
    except ValueError:
        return {"text": text}
    if isinstance(value, (dict, list)):
        return {"json": value}
    return {"text": text}


def body_from_yaml(node: Any, where: str) -> bytes:
    if node is None:
        return b""
    if not isinstance(node, dict) or len(node) != 1:
        raise ValueError(f"{where}: body must be null or one of {{json|text|base64: ...}}")
    ((kind, value),) = node.items()
    if kind == "json":
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if kind == "text" and isinstance(value, str):
        return value.encode("utf-8")
    if kind == "base64" and isinstance(value, str):
        return base64.b64decode(value.encode("ascii"), validate=True)
    raise ValueError(f"{where}: body kind {kind!r} is not json, text or base64")


# -- to and from YAML -------------------------------------------------------------


def to_document(data: CassetteData) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "recorded_against": data.recorded_against,
        "interactions": [
            {
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
                    "body": body_to_yaml(i.response.body),
                },
            }
            for i in data.interactions
        ],
    }


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """Multi-line strings as `|` blocks, so an HTML error page stays readable."""
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def dumps(data: CassetteData) -> str:
    text = yaml.dump(
        to_document(data),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return HEADER_COMMENT + text


def loads(text: str, path: Path) -> CassetteData:
    try:
        document = yaml.load(text, Loader=_Loader)  # a safe loader (C or Python)
    except yaml.YAMLError as exc:
        raise CassetteError(f"cassette {path} is not valid YAML: {exc}") from None
    try:
        return _from_document(document)
    except (ValueError, TypeError, KeyError) as exc:
        raise CassetteError(f"cassette {path} is malformed: {exc}") from None


def _from_document(document: Any) -> CassetteData:
    if not isinstance(document, dict):
        raise ValueError(f"the top level must be a mapping, got {type(document).__name__}")
    if document.get("format") != FORMAT:
        raise ValueError(f"format is {document.get('format')!r}, expected {FORMAT!r}")
    items = document.get("interactions")
    if not isinstance(items, list):
        raise ValueError("'interactions' must be a list")
    interactions = []
    for n, item in enumerate(items):
        where = f"interaction {n}"
        req, resp = item["request"], item["response"]
        status = resp["status"]
        if isinstance(status, bool) or not isinstance(status, int):
            raise ValueError(f"{where}: response status must be an integer, got {status!r}")
        interactions.append(
            Interaction(
                RecordedRequest(
                    method=str(req["method"]),
                    uri=str(req["uri"]),
                    headers=_headers(req.get("headers"), where),
                    body=body_from_yaml(req.get("body"), where) or None,
                ),
                RecordedResponse(
                    status=status,
                    reason=str(resp.get("reason") or ""),
                    headers=_headers(resp.get("headers"), where),
                    body=body_from_yaml(resp.get("body"), where),
                ),
            )
        )
    return CassetteData(interactions, document.get("recorded_against"))


def _headers(node: Any, where: str) -> Headers:
    if node is None:
        return {}
    if not isinstance(node, dict):
        raise ValueError(f"{where}: headers must be a mapping")
    headers: Headers = {}
    for name, value in node.items():
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            headers[str(name)] = list(value)
        elif isinstance(value, str):
            headers[str(name)] = value
        else:
            raise ValueError(f"{where}: header {name!r} must be a string, got {value!r}")
    return headers


# -- files --------------------------------------------------------------------------


def read(path: Path) -> CassetteData | None:
    """The cassette at `path`, or None when there is no file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise CassetteError(f"cassette {path} is not UTF-8 text: {exc}") from None
    return loads(text, path)


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same directory, then rename over `path`.

    A crash at any moment leaves either the old file or the new one, never a
    partial file (the rename is atomic on POSIX and Windows).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".hl-tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
