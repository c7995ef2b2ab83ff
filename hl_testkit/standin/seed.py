"""The stand-in server's seed: which projects and sessions exist before any call.

A seed is plain data (JSON or YAML on disk) parsed into frozen dataclasses.
Parsing is strict, so a typo in a hand-written seed file fails loudly with
the file and the field at fault instead of serving surprising data.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import yaml
from rfc3339_validator import validate_rfc3339

from hl_testkit.errors import HlTestkitError

DEFAULT_BASE_TIME = "2024-01-01T00:00:00Z"

#: The built-in seed's project with 23 sessions (pages of 10, 10, 3 at size=10).
DEMO_PROJECT_ID = "pr_demo"
#: The built-in seed's project with no sessions at all.
EMPTY_PROJECT_ID = "pr_empty"
#: A session of the built-in seed with a reference_id and datapoints in two projects.
DEMO_SESSION_ID = "sesh_demo"

_SUPPORT_PROJECT_ID = "pr_support"


@dataclass(frozen=True)
class SeedProject:
    id: str
    name: str


@dataclass(frozen=True)
class SeedDatapoint:
    project_id: str
    # Excluded from hashing: a dict is unhashable, and equality still compares it.
    inputs: dict[str, Any] = field(hash=False)
    output: str | None = None  # None: the session's last_output is left out


@dataclass(frozen=True)
class SeedSession:
    datapoints: tuple[SeedDatapoint, ...] = ()
    id: str | None = None
    reference_id: str | None = None
    created_at: str | None = None  # RFC 3339; None means "base_time + position"


@dataclass(frozen=True)
class Seed:
    projects: tuple[SeedProject, ...] = ()
    sessions: tuple[SeedSession, ...] = ()
    base_time: str = DEFAULT_BASE_TIME

    def to_dict(self) -> dict[str, Any]:
        """The seed as plain data, in the shape `load_seed` reads."""
        return {
            "base_time": self.base_time,
            "projects": [{"id": p.id, "name": p.name} for p in self.projects],
            "sessions": [
                {
                    key: value
                    for key, value in (
                        ("id", s.id),
                        ("reference_id", s.reference_id),
                        ("created_at", s.created_at),
                    )
                    if value is not None
                }
                | {
                    "datapoints": [
                        {"project_id": d.project_id, "inputs": d.inputs}
                        | ({} if d.output is None else {"output": d.output})
                        for d in s.datapoints
                    ]
                }
                for s in self.sessions
            ],
        }

    @property
    def fingerprint(self) -> str:
        """A stable digest of the content: ids derived from it change when the seed does."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})"
)


def parse_rfc3339(text: str) -> datetime:
    """An RFC 3339 date-time (offset required) as an aware datetime in UTC."""
    match = _RFC3339.fullmatch(text)
    if not match or not validate_rfc3339(text):
        raise ValueError(f"{text!r} is not an RFC 3339 date-time (e.g. {DEFAULT_BASE_TIME})")
    day, time_of_day, fraction, offset = match.groups()
    # Rebuilt in the one shape Python 3.10's fromisoformat reads: 6-digit
    # fraction (finer digits dropped), "+00:00" for "Z".
    micros = (fraction or "").ljust(6, "0")[:6]
    offset = "+00:00" if offset in ("Z", "z") else offset
    return datetime.fromisoformat(f"{day}T{time_of_day}.{micros}{offset}").astimezone(timezone.utc)


def format_rfc3339(moment: datetime) -> str:
    """UTC with a `Z`, microseconds only when there are some."""
    utc = moment.astimezone(timezone.utc)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}"
    return text + "Z"


# -- reading seed files -------------------------------------------------------


def load_seed(path: str | os.PathLike[str]) -> Seed:
    """Read a seed from a `.json`, `.yaml` or `.yml` file.

    Raises `HlTestkitError` naming the file and the field at fault.
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HlTestkitError(f"cannot read seed file {source}: {exc}") from None
    if source.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise HlTestkitError(
                f"seed file {source} is not valid JSON: line {exc.lineno} column {exc.colno}: "
                f"{exc.msg}"
            ) from None
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise HlTestkitError(f"seed file {source} is not valid YAML: {exc}") from None
    return parse_seed(data, source=str(source))


def parse_seed(data: object, *, source: str = "<seed>") -> Seed:
    """Build a `Seed` from plain data; errors name `source` and the field at fault."""
    try:
        return _parse_seed(data)
    except _SeedFieldError as exc:
        where = f"{exc.field}: " if exc.field else ""
        raise HlTestkitError(f"seed file {source}: {where}{exc.problem}") from None


class _SeedFieldError(Exception):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(field, problem)
        self.field = field
        self.problem = problem


def _parse_seed(data: object) -> Seed:
    top = _mapping(data, "", {"base_time", "projects", "sessions"})
    base_time = _timestamp(top.get("base_time", DEFAULT_BASE_TIME), "base_time")

    projects: list[SeedProject] = []
    for i, item in enumerate(_list(top.get("projects", []), "projects")):
        where = f"projects[{i}]"
        raw = _mapping(item, where, {"id", "name"}, required={"id", "name"})
        project_id = _text(raw["id"], f"{where}.id", prefix="pr_")
        if any(p.id == project_id for p in projects):
            raise _SeedFieldError(f"{where}.id", f"duplicate project id {project_id!r}")
        projects.append(SeedProject(project_id, _text(raw["name"], f"{where}.name")))
    known_projects = {p.id for p in projects}

    sessions: list[SeedSession] = []
    seen: set[tuple[str, str]] = set()
    for i, item in enumerate(_list(top.get("sessions", []), "sessions")):
        where = f"sessions[{i}]"
        raw = _mapping(item, where, {"id", "reference_id", "created_at", "datapoints"})
        session_id = _optional_text(raw.get("id"), f"{where}.id", prefix="sesh_")
        reference_id = _optional_text(raw.get("reference_id"), f"{where}.reference_id")
        # Both are unique in the API: ids by nature, reference_ids by its docs.
        for name, value in (("id", session_id), ("reference_id", reference_id)):
            if value is not None:
                if (name, value) in seen:
                    raise _SeedFieldError(f"{where}.{name}", f"duplicate session {name} {value!r}")
                seen.add((name, value))
        created_at = raw.get("created_at")
        datapoints = tuple(
            _datapoint(dp, f"{where}.datapoints[{j}]", known_projects)
            for j, dp in enumerate(_list(raw.get("datapoints", []), f"{where}.datapoints"))
        )
        sessions.append(
            SeedSession(
                datapoints=datapoints,
                id=session_id,
                reference_id=reference_id,
                created_at=None
                if created_at is None
                else _timestamp(created_at, f"{where}.created_at"),
            )
        )
    return Seed(tuple(projects), tuple(sessions), base_time)


def _datapoint(item: object, where: str, known_projects: set[str]) -> SeedDatapoint:
    raw = _mapping(item, where, {"project_id", "inputs", "output"}, required={"project_id"})
    project_id = _text(raw["project_id"], f"{where}.project_id")
    if project_id not in known_projects:
        raise _SeedFieldError(
            f"{where}.project_id", f"{project_id!r} is not one of the seed's projects"
        )
    inputs = _mapping(raw.get("inputs", {}), f"{where}.inputs")
    _json_value(inputs, f"{where}.inputs")
    output = _optional_text(raw.get("output"), f"{where}.output")
    return SeedDatapoint(project_id, dict(inputs), output)


def _mapping(
    value: object,
    where: str,
    allowed: set[str] | None = None,
    required: frozenset[str] | set[str] = frozenset(),
) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _SeedFieldError(where, f"expected a mapping, got {_kind(value)}")
    for key in value:
        if not isinstance(key, str):
            raise _SeedFieldError(where, f"keys must be strings, got {key!r}")
    if allowed is not None:
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise _SeedFieldError(
                _join(where, unknown[0]),
                f"unknown field (expected one of: {', '.join(sorted(allowed))})",
            )
    for key in sorted(required):
        if key not in value:
            raise _SeedFieldError(_join(where, key), "field required")
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _SeedFieldError(where, f"expected a list, got {_kind(value)}")
    return value


def _text(value: object, where: str, *, prefix: str = "") -> str:
    if not isinstance(value, str):
        raise _SeedFieldError(where, f"expected a string, got {_kind(value)}")
    # The same id grammar as the JSON Schemas, so every body served validates.
    if prefix and not re.fullmatch(re.escape(prefix) + r"[A-Za-z0-9_-]+", value):
        raise _SeedFieldError(
            where, f"{value!r} must be {prefix!r} followed by letters, digits, '_' or '-'"
        )
    return value


def _optional_text(value: object, where: str, *, prefix: str = "") -> str | None:
    return None if value is None else _text(value, where, prefix=prefix)


def _timestamp(value: object, where: str) -> str:
    # YAML turns unquoted timestamps into datetime objects; accept those too.
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise _SeedFieldError(where, "the date-time needs a timezone (e.g. a trailing Z)")
        value = value.isoformat()
    if not isinstance(value, str):
        raise _SeedFieldError(where, f"expected an RFC 3339 date-time, got {_kind(value)}")
    try:
        return format_rfc3339(parse_rfc3339(value))
    except ValueError as exc:
        raise _SeedFieldError(where, str(exc)) from None


def _json_value(value: object, where: str) -> None:
    """Inputs are served as JSON, so refuse what JSON cannot carry (e.g. YAML dates)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _json_value(item, f"{where}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise _SeedFieldError(where, f"keys must be strings, got {key!r}")
            _json_value(item, _join(where, key))
        return
    hint = " (quote it in YAML)" if isinstance(value, date) else ""
    raise _SeedFieldError(where, f"not a JSON value: {_kind(value)}{hint}")


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kind(value: object) -> str:
    return "null" if value is None else f"{type(value).__name__} {value!r}"[:80]


# -- the built-in seed ---------------------------------------------------------

_TOPICS = (
    "billing",
    "shipping",
    "returns",
    "passwords",
    "invoices",
    "refunds",
    "warranty",
    "upgrades",
)


def default_seed() -> Seed:
    """The built-in seed: deterministic, small, and covering every response shape.

    - `DEMO_PROJECT_ID` ("Demo assistant"): 23 sessions, so size=10 pages 10, 10, 3.
    - `EMPTY_PROJECT_ID` ("Empty project"): no sessions.
    - `DEMO_SESSION_ID`: a reference_id and datapoints in the demo and support projects.
    - sessions with and without reference_id; one whose last datapoint has no output
      (no last_output); one with no datapoints at all (no projects, no first_inputs,
      no last_output); one only in the support project.
    """
    demo, support = DEMO_PROJECT_ID, _SUPPORT_PROJECT_ID
    sessions: list[SeedSession] = [
        SeedSession(
            id=DEMO_SESSION_ID,
            reference_id="demo-conversation-1",
            datapoints=(
                SeedDatapoint(demo, {"question": "How do I reset my password?"}, "Open Settings."),
                SeedDatapoint(support, {"ticket": "T-1001"}, "Escalated to support."),
                SeedDatapoint(demo, {"question": "Thanks!"}, "You're welcome."),
            ),
        )
    ]
    for n in range(1, 23):
        topic = _TOPICS[n % len(_TOPICS)]
        sessions.append(
            SeedSession(
                # Every third session carries a reference_id; the rest rely on ids only.
                reference_id=f"demo-conversation-{n + 1}" if n % 3 == 0 else None,
                datapoints=tuple(
                    SeedDatapoint(
                        demo,
                        {"question": f"Question {k + 1} about {topic}"},
                        # One session whose last datapoint is unanswered: no last_output.
                        None if n == 5 and k == n % 3 else f"Answer {k + 1}",
                    )
                    for k in range(1 + n % 3)
                ),
            )
        )
    sessions.append(SeedSession(reference_id="never-logged"))
    sessions.append(
        SeedSession(datapoints=(SeedDatapoint(support, {"ticket": "T-2002"}, "Closed."),))
    )
    return Seed(
        projects=(
            SeedProject(demo, "Demo assistant"),
            SeedProject(support, "Support triage"),
            SeedProject(EMPTY_PROJECT_ID, "Empty project"),
        ),
        sessions=tuple(sessions),
    )
