"""JSON Schemas (Draft 2020-12) of the sessions API's bodies, and validation against them.

The schema files live in the repo's top-level `schemas/` and ship in the wheel
as `hl_testkit/_schemas`. `validate()` reports every violation, each with a
JSON path (`$.records[3].projects[0].id`), so a failing test says exactly what
in a body is wrong.
"""

from __future__ import annotations

import copy
import functools
import json
import pathlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

# jsonschema ships no type information (no py.typed, types-jsonschema not installed).
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from hl_testkit.errors import HlTestkitError

SCHEMA_NAMES: tuple[str, ...] = (
    "session",
    "session_created",
    "session_page",
    "validation_error",
    "error",
)

_OPERATIONS = ("create", "get", "list")
_SUCCESS: dict[tuple[str, int], str] = {
    ("create", 201): "session_created",
    ("get", 200): "session",
    ("list", 200): "session_page",
}
_ERROR_STATUSES = frozenset({401, 404, 429, 500})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class UnknownSchemaError(HlTestkitError, KeyError):
    """No schema has that name; a KeyError too, since it is a failed lookup."""

    def __str__(self) -> str:
        # KeyError's own __str__ would wrap the message in quotes.
        return str(self.args[0])


def schema_dir() -> pathlib.Path:
    """The directory holding the schema files: the wheel's, else the source tree's."""
    here = pathlib.Path(__file__).resolve().parent
    for candidate in (here / "_schemas", here.parent / "schemas"):
        if (candidate / "session.json").is_file():
            return candidate
    raise HlTestkitError(
        f"hl-testkit's JSON Schemas are missing: neither {here / '_schemas'} (installed wheel) "
        f"nor {here.parent / 'schemas'} (source tree) holds session.json. Reinstall hl-testkit."
    )


@functools.cache
def _load(name: str) -> dict[str, Any]:
    if name not in SCHEMA_NAMES:
        raise UnknownSchemaError(
            f"no schema named {name!r}; known schemas: {', '.join(SCHEMA_NAMES)}"
        )
    path = schema_dir() / f"{name}.json"
    try:
        return cast(dict[str, Any], json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise HlTestkitError(f"cannot read schema {name!r} from {path}: {exc}") from exc


def load_schema(name: str) -> dict[str, Any]:
    """The schema called `name` (one of SCHEMA_NAMES).

    The file is read once; each call returns a copy, so a caller's changes
    cannot leak into the validators.
    """
    return copy.deepcopy(_load(name))


@functools.cache
def registry() -> Registry[Any]:
    """All the schemas, keyed by `$id`, so `$ref`s between them resolve offline."""
    return Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema, default_specification=DRAFT202012))
        for schema in map(_load, SCHEMA_NAMES)
    )


@functools.cache
def _validator(name: str) -> Any:
    """The validator for schema `name`, built once."""
    checker = Draft202012Validator.FORMAT_CHECKER
    # Without rfc3339-validator, jsonschema silently stops checking date-time.
    if "date-time" not in checker.checkers:
        raise HlTestkitError(
            "jsonschema cannot check the 'date-time' format: install rfc3339-validator "
            "(a declared dependency of hl-testkit)."
        )
    schema = _load(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry(), format_checker=checker)


def schema_name_for(operation: str, status: int) -> str | None:
    """The schema an answer to `operation` ("create", "get", "list") with `status` must match."""
    if status in _ERROR_STATUSES:
        return "error"
    if status == 422 and operation in _OPERATIONS:
        return "validation_error"
    return _SUCCESS.get((operation, status))


@dataclass(frozen=True)
class Violation:
    """One way a body breaks its schema."""

    path: str  # JSON path of the offending value; "$" is the whole body
    message: str  # jsonschema's message
    keyword: str  # the schema keyword that failed: "required", "pattern", "type", ...
    expected: Any  # that keyword's value in the schema
    actual: Any  # the offending value (for "required": the missing property's name)

    def __str__(self) -> str:
        return f"{self.path}: {self.message} ({self.keyword})"


def _json_path(parts: Iterable[str | int]) -> str:
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            out += f".{part}"
        else:
            out += "['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return out


def _sort_key(error: Any) -> tuple[Any, ...]:
    # Numeric order for indexes ($.records[2] before $.records[10]), ints before keys.
    path = tuple((1, 0, p) if isinstance(p, str) else (0, p, "") for p in error.absolute_path)
    return (path, str(error.validator), str(error.message))


def _violation(error: Any) -> Violation:
    keyword = str(error.validator)
    actual = error.instance
    message = str(error.message)
    if keyword == "required":
        # jsonschema reports one error per missing property, on the object itself.
        missing = [p for p in error.validator_value if f"{p!r} is a required property" == message]
        if missing:
            actual = missing[0]
            message = f"required property {actual!r} is missing"
    return Violation(
        path=_json_path(error.absolute_path),
        message=message,
        keyword=keyword,
        expected=error.validator_value,
        actual=actual,
    )


def validate(name: str, body: Any) -> list[Violation]:
    """Every violation of schema `name` by `body`, sorted by path; [] when valid.

    Our schemas use no anyOf/oneOf, so each error stands on its own and its
    `context` (sub-errors of combinators) needs no unpacking.
    """
    errors = sorted(_validator(name).iter_errors(body), key=_sort_key)
    return [_violation(error) for error in errors]


def validate_response(operation: str, status: int, body: Any) -> list[Violation] | None:
    """`validate()` against the schema for (operation, status); None if none is mapped."""
    name = schema_name_for(operation, status)
    return None if name is None else validate(name, body)
