"""Expectations on a response, and values saved from it. Pure functions.

`match(expected, actual, ...)` returns the differences as `Mismatch`es (JSON
path, the line of the expectation, expected, actual) rather than stopping at
the first: a failing step shows everything that differed at once.

Matching rules (docs/scenarios.md):

- a mapping matches an object holding at least its keys (a subset), each
  value matching in turn;
- a list matches a list of the same length, item by item;
- a string with placeholders is filled in first (`"{session_id}"`), a whole
  placeholder keeping the variable's type;
- a mapping whose keys all start with `$` is a matcher (`$regex`, `$type`,
  `$length`, `$min_length`, `$max_length`, `$contains`, `$each`): all must hold;
- anything else must be equal (a boolean is never equal to a number).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hl_testkit.cassettes.wording import show
from hl_testkit.scenarios.source import Located, LocatedList
from hl_testkit.scenarios.variables import render, whole_reference

MATCHERS = ("$regex", "$type", "$length", "$min_length", "$max_length", "$contains", "$each")
JSON_TYPES = ("string", "integer", "number", "boolean", "object", "array", "null")
_SEGMENT = re.compile(r"\.([^.\[\]']+)|\[(-?\d+)\]|\['([^']*)'\]")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Mismatch:
    path: str  # "$.records[0].id", "status", "headers['content-type']"
    line: int  # where the expectation is written
    problem: str  # "expected 'x', got 'y'"

    def __str__(self) -> str:
        return f"{self.path}: {self.problem} (line {self.line})"


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def has_type(value: Any, name: str) -> bool:
    kind = json_type(value)
    if name == "number":
        return kind in ("integer", "number")
    if name == "integer":
        return kind == "integer" or (kind == "number" and float(value).is_integer())
    return kind == name


def equal(expected: Any, actual: Any) -> bool:
    """JSON equality: 1 == 1.0, but true is not 1 and "1" is not 1."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return expected == actual
    if isinstance(expected, (list, dict)) or isinstance(actual, (list, dict)):
        return False  # structures are compared part by part, never here
    return type(expected) is type(actual) and bool(expected == actual)


def json_path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if _IDENTIFIER.fullmatch(key):
        return f"{parent}.{key}"
    return f"{parent}['{key}']"


def is_matcher(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(k in MATCHERS for k in value)


def _line(container: Any, key: str | int, default: int) -> int:
    if isinstance(container, (Located, LocatedList)):
        return container.line_of(key)  # type: ignore[arg-type]
    return default


class _Matcher:
    def __init__(self, variables: Mapping[str, Any]) -> None:
        self.variables = variables
        self.out: list[Mismatch] = []

    def fail(self, path: str, line: int, problem: str) -> None:
        self.out.append(Mismatch(path, line, problem))

    def match(self, expected: Any, actual: Any, path: str, line: int, literal: bool) -> None:
        """`literal`: `expected` came from a variable, so it is not interpolated again."""
        if isinstance(expected, str) and not literal:
            name = whole_reference(expected)
            value = render(expected, self.variables)
            if name is not None and isinstance(value, (dict, list)):
                self.match(value, actual, path, line, literal=True)
                return
            if not equal(value, actual):
                shown = show(value) if value == expected else f"{expected!r} = {show(value)}"
                self.fail(path, line, f"expected {shown}, got {show(actual)}")
            return
        if is_matcher(expected):
            self.matcher(expected, actual, path, line, literal)
        elif isinstance(expected, dict):
            if not isinstance(actual, dict):
                self.fail(path, line, f"expected an object, got {show(actual)}")
                return
            for key, value in expected.items():
                here, where = json_path(path, key), _line(expected, key, line)
                if key not in actual:
                    keys = ", ".join(map(repr, actual)) or "none"
                    self.fail(here, where, f"missing (expected {show(value)}; keys: {keys})")
                else:
                    self.match(value, actual[key], here, where, literal)
        elif isinstance(expected, list):
            if not isinstance(actual, list):
                self.fail(path, line, f"expected a list, got {show(actual)}")
                return
            if len(expected) != len(actual):
                self.fail(
                    path,
                    line,
                    f"expected {len(expected)} item(s), got {len(actual)}: {show(actual)}",
                )
            for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
                self.match(want, got, json_path(path, index), _line(expected, index, line), literal)
        elif not equal(expected, actual):
            self.fail(path, line, f"expected {show(expected)}, got {show(actual)}")

    def matcher(self, spec: dict[str, Any], actual: Any, path: str, at: int, literal: bool) -> None:
        for key, raw in spec.items():
            line = _line(spec, key, at)
            arg = (
                raw
                if literal or key in ("$regex", "$contains", "$each")
                else render(raw, self.variables)
            )
            if key == "$regex":
                if not isinstance(actual, str) or re.search(arg, actual) is None:
                    self.fail(path, line, f"expected a string matching /{arg}/, got {show(actual)}")
            elif key == "$type":
                names = arg if isinstance(arg, list) else [arg]
                if not any(has_type(actual, name) for name in names):
                    wanted = " or ".join(names)
                    self.fail(
                        path, line, f"expected {wanted}, got {json_type(actual)} {show(actual)}"
                    )
            elif key in ("$length", "$min_length", "$max_length"):
                self.length(key, arg, actual, path, line)
            elif key == "$contains":
                self.contains(arg, actual, path, line, literal)
            elif key == "$each":
                if not isinstance(actual, list):
                    self.fail(path, line, f"$each: expected a list, got {show(actual)}")
                    continue
                for index, item in enumerate(actual):
                    self.match(arg, item, json_path(path, index), line, literal)

    def length(self, key: str, arg: Any, actual: Any, path: str, line: int) -> None:
        if not isinstance(arg, int) or isinstance(arg, bool):
            self.fail(path, line, f"{key} must be an integer, got {show(arg)}")
            return
        if not isinstance(actual, (str, list, dict)):
            self.fail(path, line, f"{key}: expected a string, list or object, got {show(actual)}")
            return
        size = len(actual)
        ok = {"$length": size == arg, "$min_length": size >= arg, "$max_length": size <= arg}[key]
        if not ok:
            wanted = {"$length": "length", "$min_length": "length >=", "$max_length": "length <="}
            self.fail(path, line, f"expected {wanted[key]} {arg}, got {size}: {show(actual)}")

    def contains(self, wanted: Any, actual: Any, path: str, line: int, literal: bool) -> None:
        if not isinstance(actual, list):
            self.fail(path, line, f"$contains: expected a list, got {show(actual)}")
            return
        for index, item in enumerate(wanted):
            item_line = _line(wanted, index, line)
            found = False
            for candidate in actual:
                probe = _Matcher(self.variables)
                probe.match(item, candidate, path, item_line, literal)
                if not probe.out:
                    found = True
                    break
            if not found:
                self.fail(
                    path,
                    item_line,
                    f"expected an item matching {show(item)}, "
                    f"none of the {len(actual)} item(s) does",
                )


def match(
    expected: Any, actual: Any, variables: Mapping[str, Any], path: str = "$"
) -> list[Mismatch]:
    """Every way `actual` fails `expected`; [] when it matches."""
    matcher = _Matcher(variables)
    matcher.match(expected, actual, path, getattr(expected, "line", 0), literal=False)
    return matcher.out


def match_headers(
    expected: Mapping[str, Any], actual: Mapping[str, str], variables: Mapping[str, Any]
) -> list[Mismatch]:
    """Header names compared without case; values as in `match`."""
    lowered = {name.lower(): value for name, value in actual.items()}
    matcher = _Matcher(variables)
    for name, value in expected.items():
        here, line = f"headers['{name}']", _line(expected, name, 0)
        if name.lower() not in lowered:
            present = ", ".join(sorted(actual)) or "none"
            matcher.fail(here, line, f"missing (expected {show(value)}; headers: {present})")
        else:
            matcher.match(value, lowered[name.lower()], here, line, literal=False)
    return matcher.out


# -- saved values ------------------------------------------------------------------------


def parse_path(text: str) -> tuple[str, list[str | int]]:
    """`body.records[0].id` → `("body", ["records", 0, "id"])`; ValueError if malformed."""
    root = text.split(".", 1)[0].split("[", 1)[0]
    rest = text[len(root) :]
    if root not in ("status", "headers", "body"):
        raise ValueError(f"a path starts with body, headers or status, not {root!r}")
    parts: list[str | int] = []
    position = 0
    while position < len(rest):
        found = _SEGMENT.match(rest, position)
        if found is None:
            raise ValueError(f"cannot read {rest[position:]!r} (use .key, [index] or ['key'])")
        key, index, quoted = found.groups()
        parts.append(int(index) if index is not None else (key if key is not None else quoted))
        position = found.end()
    return root, parts


def extract(text: str, status: int, headers: Mapping[str, str], body: Any) -> Any:
    """The value at path `text` in a response; LookupError says where the path broke."""
    root, parts = parse_path(text)
    if root == "status":
        return status
    if root == "headers":
        name = str(parts[0]) if parts else ""
        lowered = {key.lower(): value for key, value in headers.items()}
        if name.lower() not in lowered:
            raise LookupError(f"no header {name!r} (headers: {', '.join(sorted(headers))})")
        return lowered[name.lower()]
    value, where = body, "body"
    for part in parts:
        if isinstance(part, int):
            if not isinstance(value, list):
                raise LookupError(f"{where} is {json_type(value)} {show(value)}, not a list")
            if not -len(value) <= part < len(value):
                raise LookupError(f"{where} has {len(value)} item(s), no [{part}]")
            value, where = value[part], f"{where}[{part}]"
        else:
            if not isinstance(value, dict):
                raise LookupError(f"{where} is {json_type(value)} {show(value)}, not an object")
            if part not in value:
                keys = ", ".join(map(repr, value)) or "none"
                raise LookupError(f"{where} has no key {part!r} (keys: {keys})")
            value, where = value[part], json_path(where, part)
    return value
