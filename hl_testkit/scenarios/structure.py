"""Pass 1 of reading a scenario file: its structure, checked by the JSON Schema.

`schemas/scenario.json` is the format's one definition. Its errors are turned
into sentences that say where (`file:line`, scenario, step, key) and what is
allowed: `unknown key 'expcet' in step 2 (get) of scenario 'x' (allowed: ...);
did you mean 'expect'?`. The schema is loaded here, apart from the API body
schemas of `hl_testkit.contract.schemas` (it is never routed to a response).
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

# jsonschema ships no type information (see hl_testkit.contract.schemas).
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from hl_testkit.cassettes.wording import describe_value
from hl_testkit.contract.schemas import schema_dir
from hl_testkit.scenarios.expect import MATCHERS
from hl_testkit.scenarios.source import Located, PathPart, line_at

CALLS = ("create", "get", "list")


@functools.cache
def format_schema() -> dict[str, Any]:
    """`schemas/scenario.json`: loaded here, apart from the API body schemas."""
    path = schema_dir() / "scenario.json"
    return cast(dict[str, Any], json.loads(path.read_text(encoding="utf-8")))


@functools.cache
def _validator() -> Any:
    return Draft202012Validator(format_schema())


def schema_problems(document: Any, shown: str) -> list[tuple[tuple[PathPart, ...], str]]:
    """`(path, "file:line: sentence")` for every schema error, in line order."""
    errors = list(_validator().iter_errors(document))
    with_unknown_keys = {
        tuple(e.absolute_path) for e in errors if e.validator == "additionalProperties"
    }
    out: list[tuple[int, str, tuple[PathPart, ...]]] = []
    for error in errors:
        path = tuple(error.absolute_path)
        if error.validator in ("oneOf", "required") and path in with_unknown_keys:
            continue  # `gett:` or `idd:` is reported as the unknown key it is
        out += [
            (line, f"{shown}:{line}: {text}", path) for line, text in _translate(document, error)
        ]
    out.sort(key=lambda item: (item[0], item[1]))
    unique = dict.fromkeys((text, path) for _, text, path in out)
    return [(path, text) for text, path in unique]


def where(document: Any, path: Sequence[PathPart]) -> str:
    """`["scenarios", 0, "steps", 1, "get", "id"]` → "get.id in step 2 (get) of scenario 'x'"."""
    parts = list(path)
    context, inner = "the file", parts
    if parts[:1] == ["vars"]:
        context, inner = "the file's vars", parts[1:]
    elif len(parts) >= 2 and parts[0] == "scenarios" and isinstance(parts[1], int):
        scenario = _get(document, parts[:2])
        name = scenario.get("name") if isinstance(scenario, dict) else None
        label = f"scenario {name!r}" if isinstance(name, str) else f"scenario #{parts[1] + 1}"
        rest = parts[2:]
        context, inner = label, rest
        if len(rest) >= 2 and isinstance(rest[1], int):
            index = rest[1]
            if rest[0] == "steps":
                step = _get(document, parts[:4])
                op = next((c for c in CALLS if isinstance(step, dict) and c in step), None)
                context = f"step {index + 1}" + (f" ({op})" if op else "") + f" of {label}"
                inner = rest[2:]
            elif rest[0] == "parametrize":
                context, inner = f"parametrize row {index + 1} of {label}", rest[2:]
            elif rest[0] == "marks":
                context, inner = f"mark {index + 1} of {label}", rest[2:]
        elif rest[:1] == ["vars"]:
            context, inner = f"the vars of {label}", rest[1:]
    return f"{dotted(inner)} in {context}" if inner else context


def dotted(parts: Iterable[PathPart]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _get(document: Any, path: Sequence[PathPart]) -> Any:
    node = document
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


describe = describe_value  # one wording for values across hl-testkit's messages


def _allowed(properties: Iterable[str]) -> str:
    names = list(properties)
    if set(CALLS) <= set(names):
        others = [n for n in names if n not in CALLS]
        return "one call: create, get or list; " + ", ".join(others)
    return ", ".join(names)


def suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _translate(document: Any, error: Any) -> Iterator[tuple[int, str]]:
    """One schema error → (line, sentence) pairs."""
    path = tuple(error.absolute_path)
    line = line_at(document, path)
    here = where(document, path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    about = schema.get("description")
    if schema is format_schema():  # the root's description is the format's, too long here
        about = "a scenario file holds scenarios:, a list of scenarios, and optionally vars:"
    instance = error.instance
    keyword = error.validator
    in_names = "propertyNames" in error.absolute_schema_path

    if keyword == "additionalProperties" and isinstance(instance, dict):
        properties = list(schema.get("properties", {}))
        is_step = set(CALLS) <= set(properties)
        for key in instance:
            if key not in properties:
                kind = "matcher" if key.startswith("$") and "$regex" in properties else "key"
                if is_step and not any(call in instance for call in CALLS):
                    kind = "call"  # `delete:`, `gett:`: the step has no known call
                yield (
                    instance.line_of(key) if isinstance(instance, Located) else line,
                    f"unknown {kind} {key!r} in {here} (allowed: {_allowed(properties)})"
                    + suggest(key, properties),
                )
        return
    if in_names and isinstance(instance, str):
        parent = _get(document, path)
        key_line = parent.line_of(instance) if isinstance(parent, Located) else line
        if keyword == "not":  # a `$` key among body keys
            yield (
                key_line,
                f"the key {instance!r} in {here} mixes a matcher with body keys: a mapping is "
                f"either all matchers ({', '.join(MATCHERS)}) or all body keys",
            )
        else:
            yield key_line, f"the name {instance!r} in {here} is not {about or 'valid'}"
        return
    if keyword == "required" and isinstance(instance, dict):
        missing = [key for key in error.validator_value if key not in instance]
        what = f" ({about})" if about else ""
        yield line, f"{here} lacks {', '.join(map(repr, missing))}{what}"
        return
    if keyword == "oneOf" and all(
        isinstance(s, dict) and list(s) == ["required"] for s in error.validator_value
    ):
        choices = [s["required"][0] for s in error.validator_value]
        present = [c for c in choices if isinstance(instance, dict) and c in instance]
        if not present:
            yield line, f"{here} makes no call: give one of {', '.join(choices)}"
        else:
            yield line, f"{here} has {len(present)} calls ({', '.join(present)}): one per step"
        return
    if keyword == "type":
        wanted = about or " or ".join(_as_list(error.validator_value))
        yield line, f"{here} must be {wanted}, not {describe(instance)}"
        return
    if keyword == "pattern" and _quoted_integer(instance, schema):
        yield line, f"{here} must be an integer: remove the quotes around {instance!r}"
        return
    if keyword in ("pattern", "enum", "minimum", "maximum", "minLength"):
        yield line, f"{here}: {describe(instance)} is not {about or _rule(error)}"
        return
    if keyword in ("minItems", "minProperties") and not instance:
        yield line, f"{here} is empty; it must be {about or error.message}"
        return
    if keyword in ("minItems", "minProperties", "maxProperties"):
        yield line, f"{here}: {about or error.message}"
        return
    yield line, f"{here}: {error.message}"


def _quoted_integer(instance: Any, schema: dict[str, Any]) -> bool:
    """`status: "201"`: an integer in quotes where an integer or a "{placeholder}" goes."""
    placeholder = format_schema()["$defs"]["placeholder"]["pattern"]
    return (
        schema.get("pattern") == placeholder
        and isinstance(instance, str)
        and re.fullmatch(r"-?[0-9]+", instance.strip()) is not None
    )


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _rule(error: Any) -> str:
    keyword, value = error.validator, error.validator_value
    if keyword == "enum":
        return "one of " + ", ".join(map(str, value))
    if keyword == "pattern":
        return f"of the form /{value}/"
    return f"allowed ({keyword} {value})"
