"""Scenario files as pytest nodes: one `pytest.File` per file, one `pytest.Item` per case.

Public pytest API only (`pytest_collect_file`, `pytest.File`, `pytest.Item`).
An item runs like a test that uses the `sessions` fixture: `setup` loads and
activates its cassette through `hl_testkit.recording.run.use_cassette` (record modes,
replay, scrubbing, the network guard), `runtest` makes the calls, `teardown`
checks schemas and saves, knowing from the makereport hook whether it failed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import requests

from hl_testkit.cassettes.wording import show
from hl_testkit.client import ApiResponse, SessionsClient
from hl_testkit.errors import ApiException, HlTestkitError
from hl_testkit.recording.recorder import Recording
from hl_testkit.recording.run import item_failed, run_for, scrub_rules, use_cassette
from hl_testkit.scenarios import source
from hl_testkit.scenarios.expect import Mismatch, extract, match, match_headers
from hl_testkit.scenarios.loader import ARGUMENTS, Case, Step, cases
from hl_testkit.scenarios.source import ScenarioError
from hl_testkit.scenarios.structure import describe
from hl_testkit.scenarios.variables import EnvVar, render
from hl_testkit.secrets.scrub import scrub_text

_REPLAYING_MODES = ("none", "once", "new_episodes")


def _shown(path: Path, config: pytest.Config) -> str:
    """The file as messages name it: relative to the rootdir when under it."""
    try:
        return path.relative_to(config.rootpath).as_posix()
    except ValueError:
        return str(path)


class ScenarioFile(pytest.File):
    """A `test_*.hl.yaml` file; fails to collect, naming `file:line`, when invalid."""

    def collect(self) -> Iterator[ScenarioItem]:
        shown = _shown(self.path, self.config)
        try:
            found = cases(source.read(self.path, shown), shown)
        except ScenarioError as exc:
            raise self.CollectError(_collect_message(shown, exc.problems)) from None
        items, problems = [], []
        for case in found:
            # The node id as a string, parsed the way pytest parses a cached one: pytest 9
            # reads a row's "[id]" as parameters, and --lf only matches an equal parse.
            nodeid = f"{self.nodeid}::{case.name}"
            item = ScenarioItem.from_parent(
                self, name=case.name, nodeid=nodeid, case=case, shown=shown
            )
            problems += _apply_marks(item, case, shown)
            items.append(item)
        if problems:
            raise self.CollectError(_collect_message(shown, problems))
        yield from items


def _collect_message(shown: str, problems: list[str]) -> str:
    count = len([p for p in problems if not p.startswith("...")])
    return (
        f"hl-testkit: {shown} is not a valid scenario file ({count} problem(s)):\n"
        + "\n".join(f"  {problem}" for problem in problems)
        + "\n(the format: docs/scenarios.md in hl-testkit)"
    )


def _apply_marks(item: ScenarioItem, case: Case, shown: str) -> list[str]:
    """The case's marks on the item; the problems (unregistered under --strict-markers)."""
    problems = []
    cassette: dict[str, Any] = {}
    for mark in case.marks:
        if mark.name == "hl_cassette":
            cassette.update(mark.kwargs)
            continue
        try:
            decorator = getattr(pytest.mark, mark.name)
        except pytest.fail.Exception:
            problems.append(
                f"{shown}:{mark.line}: the mark {mark.name!r} of scenario "
                f"{case.scenario.name!r} is not registered, and --strict-markers is on: "
                "register it like any pytest mark (markers = ... in the ini file)"
            )
            continue
        item.add_marker(decorator.with_args(*mark.args, **mark.kwargs))
    if case.scenario.schema is not True:
        cassette["schema"] = case.scenario.schema  # the marker's schema=False / schema=name
    if cassette:
        item.add_marker(pytest.mark.hl_cassette(**cassette))
    return problems


class ScenarioFailure(Exception):
    """A step whose response did not match, or that could not be made."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class ScenarioStepError(HlTestkitError):
    """hl-testkit refused a step's request (a cassette miss, the network guard, ...)."""


class ScenarioItem(pytest.Item):
    """One scenario (with one parametrize row): its steps, against its own cassette."""

    def __init__(self, *, case: Case, shown: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.shown = shown
        # Read by the schema failure message: the fix as written in a scenario file.
        self.schema_off_hint = f"schema: false in scenario {case.scenario.name!r} of {shown}"
        self.variables: dict[str, Any] = {}
        self.step: Step | None = None
        self._cassette: Iterator[Recording] | None = None
        self._recording: Recording | None = None

    # -- the cassette, around the test as the hl_cassette fixture is ----------------------

    def setup(self) -> None:
        run = run_for(self.config)
        self._cassette = use_cassette(
            run, self, {}, scrub_rules(run.settings), lambda: item_failed(self)
        )
        self._recording = next(self._cassette)

    def teardown(self) -> None:
        cassette, self._cassette, self._recording = self._cassette, None, None
        if cassette is not None:
            for _ in cassette:  # checks schemas, saves, fails on misses
                pass

    # -- the steps ---------------------------------------------------------------------------

    def runtest(self) -> None:
        recording = self._recording
        assert recording is not None, "setup() did not run"
        self.variables = self._variables(recording)
        with SessionsClient(recording.api_key, base_url=recording.base_url) as client:
            for step in self.case.scenario.steps:
                self.step = step
                self._run(client, step)
        self.step = None

    def _variables(self, recording: Recording) -> dict[str, Any]:
        """The static values; environment ones from the cassette when it answers."""
        values: dict[str, Any] = {}
        stored: dict[str, Any] = {}
        replaying = recording.existed and recording.record_mode in _REPLAYING_MODES
        used = self.case.env_vars
        for name, spec in self.case.static_vars.items():
            if not isinstance(spec, EnvVar):
                values[name] = spec
            elif name in used:
                if replaying and name in recording.vars:
                    values[name] = recording.vars[name]
                else:
                    try:
                        values[name] = spec.resolve()
                    except LookupError as exc:
                        raise ScenarioFailure(
                            [f"{self._where()}: variable {name}: {exc}"]
                        ) from None
                stored[name] = values[name]
        recording.vars = stored  # written with the cassette, when it is written
        return values

    def _run(self, client: SessionsClient, step: Step) -> None:
        args = {key: render(value, self.variables) for key, value in step.args.items()}
        for key, value in args.items():
            need = ARGUMENTS[step.op][key]
            if not isinstance(value, need) or isinstance(value, bool) or value == "":
                kind = {str: "a non-empty string", int: "an integer"}[need]
                raise ScenarioFailure(
                    [
                        f"{self._where(step)}: argument {key} is {describe(value)}, "
                        f"but {step.op} needs {kind}",
                        *self._context(step, args, None),
                    ]
                )
        try:
            answer: ApiResponse | ApiException = getattr(client, step.op)(**args)
        except ApiException as exc:
            answer = exc
        except HlTestkitError as exc:
            raise ScenarioStepError(f"{self._where(step)}:\n{exc}") from None
        except requests.RequestException as exc:
            raise ScenarioFailure(
                [
                    f"{self._where(step)}: the request failed: {exc}",
                    *self._context(step, args, None),
                ]
            ) from None

        mismatches = self._check(step, answer)
        if mismatches:
            raise ScenarioFailure(
                [
                    f"{self._where(step)}: the response does not match",
                    *(f"  {self.shown}:{m.line}: {m.path}: {m.problem}" for m in mismatches),
                    *self._context(step, args, answer),
                ]
            )
        for var, path in step.save.items():
            try:
                self.variables[var] = extract(path, answer.status, answer.headers, answer.body)
            except LookupError as exc:
                line = step.save.line_of(var) if isinstance(step.save, source.Located) else 0
                raise ScenarioFailure(
                    [
                        f"{self._where(step)}: cannot save {var}",
                        f"  {self.shown}:{line or step.line}: {path}: {exc}",
                        *self._context(step, args, answer),
                    ]
                ) from None

    def _check(self, step: Step, answer: ApiResponse | ApiException) -> list[Mismatch]:
        expect, status = step.expect, answer.status
        reason = f" {answer.reason}" if isinstance(answer, ApiException) else ""
        line = _line(expect, "status", step.line)
        if "status" not in expect:
            if not 200 <= status < 300:
                return [
                    Mismatch(
                        "status",
                        step.line,
                        f"got {status}{reason}; a step without expect.status must succeed (2xx)",
                    )
                ]
        else:
            wanted = render(expect["status"], self.variables)
            if status != wanted:
                return [Mismatch("status", line, f"expected {wanted}, got {status}{reason}")]
        mismatches = []
        if "body" in expect:
            mismatches += match(expect["body"], answer.body, self.variables)
        if "headers" in expect:
            mismatches += match_headers(expect["headers"], answer.headers, self.variables)
        return mismatches

    def _context(
        self, step: Step, args: Mapping[str, Any], answer: ApiResponse | ApiException | None
    ) -> list[str]:
        call = ", ".join(f"{key}={value!r}" for key, value in args.items())
        lines = [f"  call:      {step.op}({call})"]
        if answer is not None:
            reason = f" {answer.reason}" if isinstance(answer, ApiException) else ""
            lines.append(f"  response:  {answer.status}{reason} {show(answer.body, 300)}")
        if self.variables:
            shown = ", ".join(f"{k}={show(v, 60)}" for k, v in sorted(self.variables.items()))
            lines.append(f"  variables: {shown}")
        return lines

    def _where(self, step: Step | None = None) -> str:
        step = step or self.step
        line = step.line if step is not None else self.case.line
        at = f", {step.title}" if step is not None else ""
        return f"{self.shown}:{line}: scenario {self.name!r}{at}"

    # -- reporting ---------------------------------------------------------------------------

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | Any:
        error = excinfo.value
        if isinstance(error, ScenarioFailure):
            return self._scrubbed(str(error))
        if isinstance(error, pytest.fail.Exception) or self.config.getoption("fulltrace"):
            return super().repr_failure(excinfo)
        # Not ours to explain (a bug, an interrupted connection): no traceback through
        # hl-testkit's internals unless asked for.
        return self._scrubbed(
            f"{self._where()}: {type(error).__name__}: {error}\n"
            "(run with --fulltrace to see the traceback)"
        )

    def _scrubbed(self, text: str) -> str:
        """While recording, a response may echo a key: messages show placeholders only."""
        secrets = self._recording.secrets if self._recording is not None else []
        return scrub_text(text, secrets)

    def reportinfo(self) -> tuple[os.PathLike[str] | str, int | None, str]:
        return self.path, self.case.line - 1, f"scenario {self.name}"


def _line(container: Any, key: str, default: int) -> int:
    if isinstance(container, source.Located) and key in container:
        return container.line_of(key)
    return default
