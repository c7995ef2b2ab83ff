"""A scenario file, checked and turned into cases (one per test item).

Checking is in two passes, and every problem found names `file:line`:

1. the structure, by the JSON Schema `schemas/scenario.json` (`structure`):
   unknown keys, missing arguments, wrong types;
2. semantic checks the schema cannot express (here): variables used before
   any step saves them, duplicate names, argument types after interpolation,
   regexes that do not compile, marks a scenario cannot carry, headers that a
   cassette does not keep. They run for every scenario whose structure is valid.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hl_testkit.cassettes.canonical import VOLATILE_RESPONSE_HEADERS
from hl_testkit.scenarios.expect import parse_path
from hl_testkit.scenarios.source import Located, LocatedList, PathPart, ScenarioError, line_at
from hl_testkit.scenarios.structure import CALLS, describe, dotted, schema_problems, suggest, where
from hl_testkit.scenarios.variables import EnvVar, VarSpec, references, spec_of, whole_reference
from hl_testkit.settings import RECORD_MODES

#: Argument → the Python type the client takes.
ARGUMENTS: dict[str, dict[str, type]] = {
    "create": {},
    "get": {"id": str},
    "list": {"project_id": str, "page": int, "size": int},
}
ROW_KEYS = ("id", "marks")
MAX_PROBLEMS = 20

#: Marks that make no sense on a scenario, and what to do instead.
REFUSED_MARKS = {
    "skipif": "its condition would be Python evaluated by pytest; use skip (or -k, -m, --deselect)",
    "parametrize": "use the scenario's parametrize: key",
    "usefixtures": "a scenario uses no fixtures",
}
_MARK_KWARGS = {
    "skip": ("reason",),
    "xfail": ("reason", "strict", "run"),
    "hl_cassette": ("record_mode",),
}
# Dropped from cassettes (they change on every call); Content-Length is recomputed on replay.
_UNKEPT_HEADERS = VOLATILE_RESPONSE_HEADERS - {"content-length"}


# -- the model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    name: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    line: int = 0


@dataclass(frozen=True)
class Step:
    number: int  # from 1
    op: str  # create, get or list
    args: Mapping[str, Any]
    save: Mapping[str, str]
    expect: Mapping[str, Any]
    line: int
    name: str | None = None

    @property
    def title(self) -> str:
        named = f" {self.name!r}" if self.name else ""
        return f"step {self.number}{named} ({self.op})"


@dataclass(frozen=True)
class Scenario:
    name: str
    line: int
    steps: tuple[Step, ...]
    vars: Mapping[str, VarSpec]  # the file's, then the scenario's
    marks: tuple[Mark, ...] = ()
    schema: bool | str = True
    description: str = ""


@dataclass(frozen=True)
class Case:
    """One test item: a scenario with the values of one parametrize row (if any)."""

    scenario: Scenario
    name: str  # the item's name: `scenario` or `scenario[row id]`
    line: int
    row: Mapping[str, Any] = field(default_factory=dict)
    marks: tuple[Mark, ...] = ()

    @property
    def static_vars(self) -> dict[str, VarSpec]:
        return {**self.scenario.vars, **self.row}

    @property
    def env_vars(self) -> dict[str, EnvVar]:
        """The environment variables this case uses (those its steps refer to)."""
        used = {name for step in self.scenario.steps for _, name in _step_references(step)}
        return {
            name: spec
            for name, spec in self.static_vars.items()
            if isinstance(spec, EnvVar) and name in used
        }


# -- reading -----------------------------------------------------------------------------


def cases(document: Any, shown: str) -> list[Case]:
    """The cases of a loaded scenario file; `ScenarioError` lists every problem.

    Semantic checks run for every scenario whose structure the schema accepts,
    so one run reports as much as can be known.
    """
    if document is None:
        raise ScenarioError([f"{shown}:1: the file is empty; a scenario file holds scenarios:"])
    found_problems = schema_problems(document, shown)
    problems = [text for _, text in found_problems]
    # A problem outside any one scenario (vars:, scenarios: itself) stops here; a broken
    # scenario is only left out of the semantic checks.
    if any(path[:1] != ("scenarios",) or len(path) < 2 for path, _ in found_problems):
        raise ScenarioError(_capped(problems))
    broken = {path[1] for path, _ in found_problems}
    checker = _Checker(document, shown, skip=broken)
    found = checker.build()
    problems += checker.problems
    if problems:
        raise ScenarioError(_capped(sorted(dict.fromkeys(problems), key=_line_order)))
    return found


def _line_order(problem: str) -> tuple[int, str]:
    match = re.match(r"[^\n]*?:(\d+): ", problem)
    return (int(match.group(1)) if match else 0, problem)


def _capped(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    return [*problems[:MAX_PROBLEMS], f"... and {len(problems) - MAX_PROBLEMS} more problem(s)"]


# -- pass 2: semantic checks ---------------------------------------------------


def _step_references(step: Step) -> Iterator[tuple[tuple[PathPart, ...], str]]:
    for key, value in step.args.items():
        for path, name in references(value):
            yield (step.op, key, *path), name
    for path, name in references(step.expect):
        yield ("expect", *path), name


class _Checker:
    def __init__(self, document: Located, shown: str, skip: set[Any]) -> None:
        self.document = document
        self.shown = shown
        self.skip = skip  # scenarios (by index) the schema found broken
        self.problems: list[str] = []

    def problem(self, path: Sequence[PathPart], text: str) -> None:
        line = line_at(self.document, path)
        self.problems.append(f"{self.shown}:{line}: {text}")

    def build(self) -> list[Case]:
        file_vars = {name: spec_of(value) for name, value in self.document.get("vars", {}).items()}
        out: list[Case] = []
        seen: dict[str, int] = {}
        for index, raw in enumerate(self.document["scenarios"]):
            at: tuple[PathPart, ...] = ("scenarios", index)
            if index in self.skip:
                continue
            name = raw["name"]
            if name in seen:
                self.problem(
                    (*at, "name"),
                    f"a second scenario named {name!r} (the first is at line {seen[name]}); "
                    "scenario names are test names and must differ",
                )
                continue
            seen[name] = line_at(self.document, (*at, "name"))
            scenario = self.scenario(raw, at, file_vars)
            out += self.cases(scenario, raw, at)
        return out

    def scenario(
        self, raw: Located, at: tuple[PathPart, ...], file_vars: dict[str, VarSpec]
    ) -> Scenario:
        scenario_vars = {name: spec_of(value) for name, value in raw.get("vars", {}).items()}
        steps = tuple(self.step(raw, at, number) for number in range(len(raw["steps"])))
        return Scenario(
            name=raw["name"],
            line=raw.line,
            steps=steps,
            vars={**file_vars, **scenario_vars},
            marks=self.marks(raw.get("marks", []), (*at, "marks")),
            schema=raw.get("schema", True),
            description=raw.get("description", ""),
        )

    def step(self, scenario: Located, at: tuple[PathPart, ...], index: int) -> Step:
        raw = scenario["steps"][index]
        here = (*at, "steps", index)
        op = next(c for c in CALLS if c in raw)
        expect = raw.get("expect") or Located()
        step = Step(
            number=index + 1,
            op=op,
            args=raw[op] or Located(),
            save=raw.get("save") or Located(),
            expect=expect,
            line=scenario["steps"].line_of(index),
            name=raw.get("name"),
        )
        label = where(self.document, here)
        for var, text in step.save.items():
            root, parts = parse_path(text)
            if root == "headers" and str(parts[0]).lower() in _UNKEPT_HEADERS:
                self.problem(
                    (*here, "save", var),
                    f"save {var} in {label} reads the header {parts[0]!r}, which cassettes do "
                    "not keep (it changes on every call), so replay could not give it",
                )
        for name in expect.get("headers", {}):
            if name.lower() in _UNKEPT_HEADERS:
                self.problem(
                    (*here, "expect", "headers", name),
                    f"expect.headers in {label} checks {name!r}, which cassettes do not keep "
                    "(it changes on every call), so replay could not check it",
                )
        for path, pattern in _regexes(expect):
            try:
                re.compile(pattern)
            except re.error as exc:
                self.problem(
                    (*here, "expect", *path),
                    f"expect.{dotted(path)} in {label}: the regex {pattern!r} does not compile "
                    f"({exc})",
                )
        return step

    def marks(self, raw: LocatedList, at: tuple[PathPart, ...]) -> tuple[Mark, ...]:
        out = []
        for index, item in enumerate(raw):
            here = (*at, index)
            line = line_at(self.document, here)
            name, value = next(iter(item.items())) if isinstance(item, dict) else (item, None)
            label = where(self.document, here)
            if name in REFUSED_MARKS:
                self.problem(here, f"{label}: {name} cannot mark a scenario: {REFUSED_MARKS[name]}")
                continue
            mark = _mark(name, value, line)
            allowed = _MARK_KWARGS.get(name)
            if allowed is not None:
                wrong = [k for k in mark.kwargs if k not in allowed]
                if mark.args or wrong:
                    given = ", ".join(wrong) if wrong else describe(value)
                    reason = " (or a string: the reason)" if name in ("skip", "xfail") else ""
                    self.problem(
                        here,
                        f"{label}: {name} takes a mapping of {', '.join(allowed)}{reason}, "
                        f"not {given}",
                    )
                    continue
                mode = mark.kwargs.get("record_mode")
                if name == "hl_cassette" and mode not in RECORD_MODES:
                    self.problem(
                        here,
                        f"{label}: record_mode {mode!r} is not one of {', '.join(RECORD_MODES)}",
                    )
                    continue
            out.append(mark)
        return tuple(out)

    def cases(self, scenario: Scenario, raw: Located, at: tuple[PathPart, ...]) -> list[Case]:
        rows: LocatedList | None = raw.get("parametrize")
        if rows is None:
            self.references(scenario, set(scenario.vars), at)
            self.argument_types(scenario, scenario.vars, at, "")
            return [Case(scenario, scenario.name, scenario.line, {}, scenario.marks)]
        first_keys: list[str] = []
        ids: list[str] = []
        out: list[Case] = []
        for index, row in enumerate(rows):
            here = (*at, "parametrize", index)
            values = {k: v for k, v in row.items() if k not in ROW_KEYS}
            keys = sorted(values)
            if index == 0:
                first_keys = keys
            elif keys != first_keys:
                self.problem(
                    here,
                    f"{where(self.document, here)} sets {', '.join(keys) or 'no variable'}, "
                    f"row 1 sets {', '.join(first_keys) or 'no variable'}: every row sets the "
                    "same variables",
                )
                continue
            ids.append(str(row["id"]) if "id" in row else _row_id(values, index))
            marks = self.marks(row.get("marks", []), (*here, "marks"))
            self.argument_types(scenario, {**scenario.vars, **values}, at, f" (row {index + 1})")
            out.append(Case(scenario, "", rows.line_of(index), values, scenario.marks + marks))
        self.references(scenario, {*scenario.vars, *first_keys}, at)
        return [
            Case(c.scenario, f"{scenario.name}[{i}]", c.line, c.row, c.marks)
            for c, i in zip(out, _unique(ids), strict=True)
        ]

    def references(self, scenario: Scenario, static: set[str], at: tuple[PathPart, ...]) -> None:
        """Every variable a step uses is defined by then: by vars, the row, or a saving step."""
        saved: set[str] = set()
        for step in scenario.steps:
            here = (*at, "steps", step.number - 1)
            for path, name in _step_references(step):
                if name in static or name in saved:
                    continue
                later = [s.number for s in scenario.steps if name in s.save]
                known = sorted(static | saved)
                if later:
                    why = f"only step {later[0]} saves it, after this one"
                else:
                    why = "no earlier step saves it and no vars or parametrize row define it"
                hint = suggest(name, known).replace("'", "")
                self.problem(
                    (*here, *path),
                    f"{where(self.document, here)} uses {{{name}}}, which is not defined here: "
                    f"{why} (defined here: {', '.join(known) or 'nothing'}){hint}",
                )
            saved.update(step.save)

    def argument_types(
        self,
        scenario: Scenario,
        static: Mapping[str, Any],
        at: tuple[PathPart, ...],
        row_label: str,
    ) -> None:
        """Arguments and statuses given by a known variable have the type they need."""
        for step in scenario.steps:
            here = (*at, "steps", step.number - 1)
            wanted = {**ARGUMENTS[step.op], "status": int}
            values = dict(step.args)
            if "status" in step.expect:
                values["status"] = step.expect["status"]
            for key, raw in values.items():
                name = whole_reference(raw) if isinstance(raw, str) else None
                if name is None or name not in static:
                    continue
                spec = static[name]
                kind = spec.static_type() if isinstance(spec, EnvVar) else type(spec)
                need = wanted[key]
                if kind is need:
                    continue
                at_key = ("expect", "status") if key == "status" else (step.op, key)
                shown = (
                    f"{{env: {spec.env}}} ({kind.__name__})"
                    if isinstance(spec, EnvVar)
                    else describe(spec)
                )
                self.problem(
                    (*here, *at_key),
                    f"{dotted(at_key)} in {where(self.document, here)}{row_label} is "
                    f"{{{name}}} = {shown}, but it must be "
                    + {str: "a string", int: "an integer"}[need],
                )


def _regexes(
    expect: Any, path: tuple[PathPart, ...] = ()
) -> Iterator[tuple[tuple[PathPart, ...], str]]:
    if isinstance(expect, dict):
        for key, value in expect.items():
            if key == "$regex" and isinstance(value, str):
                yield (*path, key), value
            else:
                yield from _regexes(value, (*path, key))
    elif isinstance(expect, list):
        for index, value in enumerate(expect):
            yield from _regexes(value, (*path, index))


def _mark(name: str, value: Any, line: int) -> Mark:
    if value is None:
        return Mark(name, line=line)
    if isinstance(value, str) and name in ("skip", "xfail"):
        return Mark(name, kwargs={"reason": value}, line=line)
    if isinstance(value, dict):
        return Mark(name, kwargs=dict(value), line=line)
    if isinstance(value, list):
        return Mark(name, args=tuple(value), line=line)
    return Mark(name, args=(value,), line=line)


def _row_id(values: Mapping[str, Any], index: int) -> str:
    parts = []
    for key, value in values.items():
        if isinstance(value, (str, int, float, bool)) and str(value) != "":
            parts.append(str(value))
        else:
            parts.append(f"{key}{index}")
    return "-".join(parts) or str(index)


def _unique(ids: list[str]) -> list[str]:
    """Like pytest: an id given to several rows gets a counter (`a0`, `a1`; `p1_0`, `p1_1`)."""
    counts = {i: ids.count(i) for i in ids}
    seen: dict[str, int] = {}
    out = []
    for i in ids:
        if counts[i] > 1:
            separator = "_" if i[-1:].isdigit() else ""
            out.append(f"{i}{separator}{seen.get(i, 0)}")
            seen[i] = seen.get(i, 0) + 1
        else:
            out.append(i)
    return out
