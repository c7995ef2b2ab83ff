"""`hl-testkit check`: validate every recorded answer in cassettes against its schema.

Each interaction is routed by method, path (under the API's base URL) and
status to a schema (`SchemaSet.route_for`); its JSON body is validated with
every violation reported at its JSON path. An interaction no route covers
(another host, a 302, ...) is counted as unrouted, not judged. Properties a
schema does not name, and what only the strict profile refuses (a naive
`created_at`, an id outside [A-Za-z0-9_-], a negative count, a null), are listed
as drift with path and rule: allowed, so they never fail a check (unless the set
checked is the strict profile itself: `hl-testkit check --profile strict`).

Exit status of `run_check`: 0 every routed answer is valid, 1 some answer is
invalid, 2 a path is missing or unreadable or a cassette is corrupt (then the
other cassettes are still checked and reported).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from hl_testkit.cassettes import file as cassette_file
from hl_testkit.cassettes.file import CassetteError
from hl_testkit.cassettes.model import Interaction
from hl_testkit.cassettes.wording import show
from hl_testkit.contract.schemas import Drift, SchemaSet, Violation
from hl_testkit.secrets.scrub import Secret, known_secrets
from hl_testkit.secrets.scrubbed_stream import ScrubbedStream

#: Recorded URIs under the API are rebased onto this; routes are relative to it.
API_BASE = "https://api.humanloop.com/v4"
FORMATS = ("text", "json")

_API_ORIGIN = urlsplit(API_BASE)
_VALUE_WIDTH = 200  # longest expected/actual value shown in the details


#: Called before each file: (files done, files in all, the file).
Progress = Callable[[int, int, Path], None]


@dataclass(frozen=True)
class Finding:
    """One routed interaction that is invalid, or carries drift, or both."""

    cassette: Path
    index: int  # the interaction's position in the cassette, from 0
    method: str
    target: str  # the path under the base URL (the URI's path on other hosts), with query
    status: int
    schema: str
    violations: tuple[Violation, ...] = ()
    drift: tuple[Drift, ...] = ()

    @property
    def where(self) -> str:
        return (
            f"{self.cassette}, interaction {self.index}: "
            f"{self.method} {self.target} -> {self.status}, schema {self.schema}"
        )


@dataclass
class CassetteResult:
    path: Path
    interactions: int = 0
    valid: int = 0
    invalid: int = 0
    unrouted: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.violations]


@dataclass
class CheckReport:
    cassettes: list[CassetteResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # unreadable paths, corrupt cassettes

    @property
    def failures(self) -> list[Finding]:
        return [f for c in self.cassettes for f in c.failures]

    @property
    def drift(self) -> list[Finding]:
        return [f for c in self.cassettes for f in c.findings if f.drift]

    def totals(self) -> dict[str, int]:
        return {
            "cassettes": len(self.cassettes),
            "interactions": sum(c.interactions for c in self.cassettes),
            "valid": sum(c.valid for c in self.cassettes),
            "invalid": sum(c.invalid for c in self.cassettes),
            "unrouted": sum(c.unrouted for c in self.cassettes),
        }

    @property
    def exit_code(self) -> int:
        if self.errors:
            return 2
        return 1 if any(c.invalid for c in self.cassettes) else 0

    def as_json(self) -> dict[str, Any]:
        """The report as JSON-ready data (for `--format json`)."""
        return {
            "ok": self.exit_code == 0,
            "exit_code": self.exit_code,
            "totals": self.totals(),
            "cassettes": [
                {
                    "path": str(c.path),
                    "interactions": c.interactions,
                    "valid": c.valid,
                    "invalid": c.invalid,
                    "unrouted": c.unrouted,
                    "failures": [
                        {
                            **_finding_json(f),
                            "violations": [_violation_json(v) for v in f.violations],
                        }
                        for f in c.failures
                    ],
                    "drift": [
                        {**_finding_json(f), "properties": [_violation_json(d) for d in f.drift]}
                        for f in c.findings
                        if f.drift
                    ],
                }
                for c in self.cassettes
            ],
            "errors": list(self.errors),
        }


def _finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "interaction": finding.index,
        "method": finding.method,
        "path": finding.target,
        "status": finding.status,
        "schema": finding.schema,
    }


def _violation_json(violation: Violation) -> dict[str, Any]:
    return {
        "path": violation.path,
        "message": violation.message,
        "keyword": violation.keyword,
        "expected": violation.expected,
        "actual": violation.actual,
    }


# -- checking --------------------------------------------------------------------------


def api_target(uri: str) -> tuple[str, str]:
    """(path to route on, path with query to show) for a recorded URI.

    Under `API_BASE` the path is relative to it (`/sessions/sesh_1`); on any
    other host it is the URI's own path.
    """
    parts = urlsplit(uri)
    path = parts.path or "/"
    same_origin = (parts.scheme.lower(), parts.netloc.lower()) == (
        _API_ORIGIN.scheme,
        _API_ORIGIN.netloc,
    )
    if same_origin and (path == _API_ORIGIN.path or path.startswith(_API_ORIGIN.path + "/")):
        path = path[len(_API_ORIGIN.path) :] or "/"
    return path, path + (f"?{parts.query}" if parts.query else "")


def cassette_files(paths: Iterable[Path], errors: list[str]) -> list[Path]:
    """Every `*.yaml` under `paths` (a file is taken whatever its name), once each.

    A path that does not exist is added to `errors`.
    """
    found: list[Path] = []
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            candidates = sorted(p for p in path.rglob("*.yaml") if p.is_file())
        elif path.is_file():
            candidates = [path]
        else:
            errors.append(f"{path}: no such file or directory")
            continue
        for candidate in candidates:
            key = candidate.resolve()
            if key not in seen:
                seen.add(key)
                found.append(candidate)
    return found


#: `check_interaction`'s default `body`: not parsed yet.
UNPARSED: Any = object()


def check_interaction(
    cassette: Path,
    index: int,
    interaction: Interaction,
    schemas: SchemaSet,
    *,
    drift: bool = True,
    body: Any = UNPARSED,
) -> Finding | None:
    """The routed interaction's finding (maybe with no violation, no drift); None if unrouted.

    `drift=False` skips the drift report (it walks the whole body along the schema, and
    asks the strict profile), for callers that would not show it. `body`: the response
    body as `json.loads` gave it, for a caller that has parsed it already.
    """
    method = interaction.request.method.upper()
    path, target = api_target(interaction.request.uri)
    status = interaction.response.status
    name = schemas.route_for(method, path, status)
    if name is None:
        return None
    raw = interaction.response.body
    try:
        body = json.loads(raw) if body is UNPARSED else body
    except ValueError as exc:  # includes UnicodeDecodeError
        problem = "response body is empty" if not raw else f"response body is not JSON ({exc})"
        violation = Violation(
            path="$",
            message=f"{problem}; schema {name!r} needs a JSON document",
            keyword="json",
            expected="a JSON document",
            actual=raw[:_VALUE_WIDTH].decode("utf-8", "replace"),
        )
        return Finding(cassette, index, method, target, status, name, (violation,))
    violations = tuple(schemas.check(name, body))
    found = _drift(schemas, name, body, violations) if drift else ()
    return Finding(cassette, index, method, target, status, name, violations, found)


def _drift(
    schemas: SchemaSet, name: str, body: Any, violations: tuple[Violation, ...]
) -> tuple[Drift, ...]:
    """Extra properties and strict-profile refusals (given the body's `violations`), in
    path order."""
    found = [
        *schemas.extra_properties(name, body),
        *schemas.strict_drift(name, body, violations),
    ]
    return tuple(sorted(found, key=lambda d: _path_order(d.path)))


_PATH_PART = re.compile(r"\[(\d+)\]|(\[[^\]]*\]|[^.\[]+)")


def _path_order(path: str) -> tuple[tuple[int, int, str], ...]:
    """`$.records[2]` before `$.records[10]`: indexes in numeric order, before keys."""
    return tuple((0, int(n), "") if n else (1, 0, key) for n, key in _PATH_PART.findall(path))


def check_paths(
    paths: list[Path], schemas: SchemaSet | None = None, progress: Progress | None = None
) -> CheckReport:
    """Validate every interaction of every cassette under `paths`."""
    schemas = schemas or SchemaSet.default()
    report = CheckReport()
    files = cassette_files(paths, report.errors)
    for done, path in enumerate(files):
        if progress is not None:
            progress(done, len(files), path)
        try:
            data = cassette_file.read(path)
        except CassetteError as exc:
            report.errors.append(str(exc))
            continue
        except OSError as exc:
            report.errors.append(f"cannot read cassette {path}: {exc.strerror or exc}")
            continue
        if data is None:
            report.errors.append(f"cassette {path} disappeared while being checked")
            continue
        result = CassetteResult(path, interactions=len(data.interactions))
        for index, interaction in enumerate(data.interactions):
            finding = check_interaction(path, index, interaction, schemas)
            if finding is None:
                result.unrouted += 1
                continue
            if finding.violations:
                result.invalid += 1
            else:
                result.valid += 1
            if finding.violations or finding.drift:
                result.findings.append(finding)
        report.cassettes.append(result)
    return report


# -- output -----------------------------------------------------------------------------

_COLUMNS = ("interactions", "valid", "invalid", "unrouted")


def format_table(report: CheckReport) -> str:
    """One row per cassette and a total row, columns aligned."""
    totals = report.totals()
    noun = "cassette" if totals["cassettes"] == 1 else "cassettes"
    rows: list[tuple[str, ...]] = [
        (str(c.path), *(str(getattr(c, col)) for col in _COLUMNS)) for c in report.cassettes
    ]
    total = (f"total ({totals['cassettes']} {noun})", *(str(totals[col]) for col in _COLUMNS))
    header = ("cassette", *_COLUMNS)
    widths = [max(len(row[i]) for row in [header, *rows, total]) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *map(line, rows), rule, line(total)]) + "\n"


def format_details(report: CheckReport) -> str:
    """Each invalid interaction with its violations, then the drift; "" when neither."""
    blocks: list[str] = []
    for finding in report.failures:
        count = len(finding.violations)
        lines = [f"{finding.where}: {count} violation{'s' if count != 1 else ''}"]
        for violation in finding.violations:
            lines.append(f"  {violation}")
            lines.append(f"      expected: {show(violation.expected, _VALUE_WIDTH)}")
            lines.append(f"      actual:   {show(violation.actual, _VALUE_WIDTH)}")
        blocks.append("\n".join(lines))
    drifting = report.drift
    if drifting:
        lines = [
            "drift: properties the schemas do not name, and what only the strict profile "
            "refuses (allowed; not failures)"
        ]
        for finding in drifting:
            lines.append(f"  {finding.where}")
            lines.extend(f"    {d}" for d in finding.drift)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _summary(report: CheckReport) -> str:
    totals = report.totals()
    routed = totals["valid"] + totals["invalid"]
    if totals["invalid"]:
        broken = sum(1 for c in report.cassettes if c.invalid)
        return (
            f"FAILED: {totals['invalid']} of {routed} routed interactions invalid, "
            f"in {broken} cassette{'s' if broken != 1 else ''}"
        )
    if report.errors:
        count = len(report.errors)
        return f"ERROR: {count} path(s) or cassette(s) could not be read (listed above, on stderr)"
    return f"OK: all {routed} routed interactions valid"


def run_check(
    paths: list[Path],
    out: TextIO,
    fmt: str = "text",
    *,
    schemas: SchemaSet | None = None,
    err: TextIO | None = None,
    progress: Progress | None = None,
    secrets: Sequence[Secret] | None = None,
) -> int:
    """Check `paths` and print the report to `out` as `fmt` ("text" or "json").

    Every form of every known secret (default: the environment's) is printed as its
    placeholder.

    Unreadable paths and corrupt cassettes go to `err` (default stderr), one
    line each naming the file; in JSON they are also under "errors".
    Returns 0 all valid, 1 some invalid, 2 an unreadable path or corrupt cassette.
    """
    # Field values are shown as they are stored; a key that got into a cassette (edited
    # by hand, recorded by an older version) must not go on into CI logs from here.
    secrets = known_secrets(os.environ) if secrets is None else secrets
    to_out = ScrubbedStream.of(out, secrets)
    to_err = ScrubbedStream.of(sys.stderr if err is None else err, secrets)
    if fmt not in FORMATS:
        known = ", ".join(FORMATS)
        to_err.write(f"hl-testkit check: unknown format {fmt!r}; use one of {known}\n")
        return 2
    report = check_paths(paths, schemas, progress)
    # First, so that the summary's "listed above" holds on a terminal.
    for error in report.errors:
        to_err.write(f"hl-testkit check: {error}\n")
    to_err.flush()
    if fmt == "json":
        document = json.dumps(report.as_json(), indent=2, ensure_ascii=False, default=repr)
        to_out.write(document + "\n")
    else:
        to_out.write(format_table(report))
        details = format_details(report)
        if details:
            to_out.write("\n" + details)
        to_out.write("\n" + _summary(report) + "\n")
    return report.exit_code
