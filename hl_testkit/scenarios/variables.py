"""Variables in scenario files: `{name}` interpolation and values from the environment.

A string that is exactly one placeholder, `"{page}"`, is replaced by the
variable's value with its type (an int stays an int). Placeholders inside a
longer string are replaced by the value's text (`"sesh-{n}"`; a non-string
value is written as JSON). `{{` and `}}` are literal braces. Anything else in
braces that is not a name (`[0-9a-f]{24}`) is left as it is.

Pure functions: the collector checks references with `references()`, the
runner fills values in with `render()`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")
_WHOLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

Scalar = str | int | float | bool | None


def whole_reference(text: str) -> str | None:
    """`"{page}"` → `"page"`; anything else → None."""
    match = _WHOLE.fullmatch(text)
    return match.group(1) if match else None


def names_in(text: str) -> list[str]:
    """The variables a string refers to, in order."""
    return [m.group(1) for m in _TOKEN.finditer(text) if m.group(1)]


def references(value: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every `(path, name)` a value (string, list, mapping) refers to.

    Mapping keys are literal; only values are interpolated. `$regex` patterns
    are taken literally (regexes are full of braces), so are not looked into.
    """
    if isinstance(value, str):
        for name in names_in(value):
            yield (), name
    elif isinstance(value, list):
        for index, item in enumerate(value):
            for path, name in references(item):
                yield (index, *path), name
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "$regex":
                continue
            for path, name in references(item):
                yield (key, *path), name


def text_of(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def render(value: Any, variables: Mapping[str, Any]) -> Any:
    """`value` with its placeholders filled in (a KeyError names an unknown variable)."""
    if isinstance(value, str):
        name = whole_reference(value)
        if name is not None:
            return variables[name]
        return _TOKEN.sub(
            lambda m: text_of(variables[m.group(1)]) if m.group(1) else m.group(0)[0], value
        )
    if isinstance(value, list):
        return [render(item, variables) for item in value]
    if isinstance(value, dict):
        return {
            key: item if key == "$regex" else render(item, variables) for key, item in value.items()
        }
    return value


def uses_variables(value: Any) -> bool:
    return any(True for _ in references(value))


@dataclass(frozen=True)
class EnvVar:
    """`{env: NAME, default: value}`: read when recording, stored with the cassette."""

    env: str
    default: str | int | float | bool | None = None

    def resolve(self, environ: Mapping[str, str] = os.environ) -> str | int | float | bool:
        """The environment's value (typed like the default), else the default."""
        raw = environ.get(self.env)
        if raw is None or raw == "":
            if self.default is None:
                raise LookupError(
                    f"the environment variable {self.env} is not set and has no default; "
                    f"set it, or give one: {{env: {self.env}, default: ...}}"
                )
            return self.default
        default = self.default
        try:
            if isinstance(default, bool):
                if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(raw)
                return raw.lower() in ("true", "1", "yes")
            if isinstance(default, int):
                return int(raw)
            if isinstance(default, float):
                return float(raw)
        except ValueError:
            kind = {"int": "an integer", "float": "a number", "bool": "a boolean"}.get(
                type(default).__name__, type(default).__name__
            )
            # The value is not shown: the variable may hold a secret.
            raise LookupError(
                f"the environment variable {self.env} is not {kind} "
                f"(its default {default!r} is one)"
            ) from None
        return raw

    def static_type(self) -> type:
        return str if self.default is None else type(self.default)


VarSpec = Scalar | EnvVar


def spec_of(value: Any) -> VarSpec:
    """A `vars:` entry (already checked by the JSON Schema) as a `VarSpec`."""
    if isinstance(value, dict):
        return EnvVar(str(value["env"]), value.get("default"))
    assert value is None or isinstance(value, (str, int, float, bool))
    return value
