"""Reading a scenario file: safe YAML that remembers where everything was written.

Mappings load as `Located` dicts and lists as `LocatedList`s: plain `dict` and
`list` subclasses (so jsonschema and the rest see ordinary JSON data) that also
know the 1-based line of each of their keys and items. Every problem found
later, by the JSON Schema or by the semantic checks, can then say `file:line`.

The loader is PyYAML's `SafeLoader` (no object construction, no code), plus:
duplicate keys are refused, keys must be strings, unquoted timestamps stay
strings (`created_at: 2024-01-01T00:00:00Z` compares with the JSON string),
and the one tag it adds, `!re "^sesh_"`, is shorthand for `{$regex: "^sesh_"}`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

_MERGE_TAG = "tag:yaml.org,2002:merge"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
PathPart = str | int


class ScenarioError(Exception):
    """A scenario file that cannot be collected; each problem names `file:line`."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


class Located(dict[str, Any]):
    """A mapping from the file, with the line of each key."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line) if hasattr(self, "key_lines") else self.line


class LocatedList(list[Any]):
    """A sequence from the file, with the line of each item."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        lines = getattr(self, "item_lines", [])
        return lines[index] if 0 <= index < len(lines) else self.line


def regex_matcher(pattern: str, line: int) -> Located:
    """`{"$regex": pattern}`, as `!re pattern` loads."""
    out = Located({"$regex": pattern})
    out.line, out.key_lines = line, {"$regex": line}
    return out


class _Loader(yaml.SafeLoader):
    """SafeLoader with positions, strict keys, string timestamps and `!re`."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Iterator[Located]:
    data = Located()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=False)
        if not isinstance(key, str):
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"the key {key!r} is not a string; quote it",
                key_node.start_mark,
            )
        if key in data:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"the key {key!r} appears twice",
                key_node.start_mark,
            )
        data[key] = loader.construct_object(value_node, deep=False)
        data.key_lines[key] = key_node.start_mark.line + 1


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> Iterator[LocatedList]:
    data = LocatedList()
    data.line = node.start_mark.line + 1
    data.item_lines = [child.start_mark.line + 1 for child in node.value]
    yield data
    data.extend(loader.construct_object(child, deep=False) for child in node.value)


def _construct_regex(loader: _Loader, node: yaml.Node) -> Located:
    if not isinstance(node, yaml.ScalarNode):
        raise yaml.constructor.ConstructorError(
            None, None, '!re takes a string: !re "^sesh_"', node.start_mark
        )
    return regex_matcher(str(loader.construct_scalar(node)), node.start_mark.line + 1)


# Unquoted timestamps stay strings: bodies hold them as JSON strings.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
_Loader.add_constructor("!re", _construct_regex)


def load(text: str, shown: str) -> Any:
    """The document in `text`; `shown` is the file as messages name it.

    Raises `ScenarioError` for text that is not YAML, or YAML we refuse.
    """
    try:
        return yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        last = text.count("\n") + (0 if text.endswith("\n") else 1)
        mark = exc.problem_mark or exc.context_mark
        line = f":{min(mark.line + 1, max(last, 1))}" if mark is not None else ""
        problem = str(exc.problem or "")
        tag = "could not determine a constructor for the tag"
        if tag in problem:
            problem = (
                problem.replace(tag, "unknown YAML tag").replace("tag:yaml.org,2002:", "!!")
                + " (a scenario file is plain data; the only tag is !re)"
            )
        context = ""
        start = exc.context_mark
        if exc.context and start is not None and (mark is None or start.line != mark.line):
            context = f" ({exc.context} at line {start.line + 1})"
        hint = ""
        if "expected ',' or '}'" in problem or "expected ',' or ']'" in problem:
            hint = (
                "; inside {...} or [...] quote values holding [ ] { } or ',' "
                '(save: {first: "body.records[0].id"}), or write the mapping in block style'
            )
        raise ScenarioError([f"{shown}{line}: not valid YAML: {problem}{context}{hint}"]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([f"{shown}: not valid YAML: {exc}"]) from None


def read(path: Path, shown: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([f"{shown}: cannot be read: {exc}"]) from None
    return load(text, shown)


def line_at(document: Any, path: Sequence[PathPart]) -> int:
    """The line of the value at `path` (its key's line), or of the nearest parent."""
    line = getattr(document, "line", 1)
    node = document
    for part in path:
        if not _has(node, part):
            break
        line = node.line_of(part)
        node = node[part]
    return line


def _has(node: Any, part: PathPart) -> bool:
    if isinstance(node, Located):
        return isinstance(part, str) and part in node
    if isinstance(node, LocatedList):
        return isinstance(part, int) and 0 <= part < len(node)
    return False
