"""JSON Schemas (Draft 2020-12) of the sessions API's bodies, and validation against them.

The schema files live in the repo's top-level `schemas/` and ship in the wheel
as `hl_testkit/_schemas`. `validate()` reports every violation, each with a
JSON path (`$.records[3].projects[0].id`), so a failing test says exactly what
in a body is wrong.

A `SchemaSet` bundles the schemas, the registry their `$ref`s resolve in, one
validator per schema (built once, with the set) and the routes that say which
schema an answer must match: `route_for("GET", "/sessions/sesh_1", 200)` is
"session". `SchemaSet.default()` is the built-in set, built once per process;
`SchemaSet.with_extra(dir, routes)` adds a user's schema files and routes.

Two profiles (docs/contract.md). "default" (`schemas/*.json`) is never
stricter than the API contract: ids only start with `sesh_`/`pr_`, counts
have no bounds, optional fields may be null, `created_at` is any ISO 8601
date-time the official SDK reads (`is_iso_date_time`). "strict"
(`schemas/strict/*.json`) adds RFC 3339 (`is_date_time`), id alphabets,
non-negative counts, no null. `SchemaSet.strict_drift()` reports what only
the strict profile refuses, with path and rule.

Hot path: `SchemaSet.check()` asks a compiled validator (`jsonschema-rs`,
about a microsecond a session body) for the yes/no answer first and builds the
full, sorted report with `jsonschema` only for a body that fails. Without
`jsonschema_rs` (or for a schema using a `format` whose checking is not proven
to agree, see `FAST_FORMATS`) the yes/no answer is `jsonschema`'s own
short-circuiting `is_valid()`. Both sides are given the profile's own
`date-time` function (`DATE_TIME_CHECKS`): the answer never depends on a
library's version of the format; tests prove the two answers agree. The schema
compiled for the yes/no has its plain `$ref`s inlined (jsonschema-rs's `dereference`)
and answers common date-times with a pattern; a set that is not Draft 2020-12
throughout is answered by jsonschema alone (see `_fast_schema`).
`extra_properties()` is the drift report: properties a body carries that its
schema does not name (allowed, but worth knowing about).

Nothing is built at import: `jsonschema`, `referencing` and `jsonschema_rs` are
imported, and each schema's validators built, on first use (then kept).
"""

from __future__ import annotations

import copy
import functools
import importlib
import json
import pathlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urljoin

from hl_testkit.errors import HlTestkitError

if TYPE_CHECKING:
    from referencing import Registry
    from referencing._core import Resolver

#: Loaded on first use (module `__getattr__`): `schemas.Draft202012Validator` etc. still work.
_LAZY = {
    # jsonschema ships no type information (no py.typed, types-jsonschema not installed).
    "Draft202012Validator": ("jsonschema", "Draft202012Validator"),
    "FormatChecker": ("jsonschema", "FormatChecker"),
    "SchemaError": ("jsonschema.exceptions", "SchemaError"),
    "validator_for": ("jsonschema.validators", "validator_for"),
    "Resource": ("referencing", "Resource"),
    "RegistryClass": ("referencing", "Registry"),
    "Unresolvable": ("referencing.exceptions", "Unresolvable"),
    "DRAFT202012": ("referencing.jsonschema", "DRAFT202012"),
}


def _lazy(name: str) -> Any:
    """A name of `_LAZY`, imported now if need be (a test may have replaced it)."""
    if name in globals():
        return globals()[name]
    module, attribute = _LAZY[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return _lazy(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    package = pathlib.Path(__file__).resolve().parent.parent  # hl_testkit/
    for candidate in (package / "_schemas", package.parent / "schemas"):
        if (candidate / "session.json").is_file():
            return candidate
    raise HlTestkitError(
        f"hl-testkit's JSON Schemas are missing: neither {package / '_schemas'} (installed "
        f"wheel) nor {package.parent / 'schemas'} (source tree) holds session.json. "
        "Reinstall hl-testkit."
    )


def _check_profile(profile: str) -> str:
    if profile not in ("default", "strict"):
        raise HlTestkitError(f"no schema profile named {profile!r}; profiles: default, strict")
    return profile


@functools.cache
def _load(name: str, profile: str = "default") -> dict[str, Any]:
    if name not in SCHEMA_NAMES:
        raise UnknownSchemaError(
            f"no schema named {name!r}; known schemas: {', '.join(SCHEMA_NAMES)}"
        )
    # The strict profile's files have the same names, under strict/.
    folder = schema_dir() / "strict" if _check_profile(profile) == "strict" else schema_dir()
    path = folder / f"{name}.json"
    try:
        return cast(dict[str, Any], json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise HlTestkitError(f"cannot read schema {name!r} from {path}: {exc}") from exc


def load_schema(name: str, profile: str = "default") -> dict[str, Any]:
    """The schema called `name` (one of SCHEMA_NAMES) of `profile` ("default" or "strict").

    The file is read once; each call returns a copy, so a caller's changes
    cannot leak into the validators.
    """
    return copy.deepcopy(_load(name, profile))


def registry(profile: str = "default") -> Registry[Any]:
    """A profile's schemas, keyed by `$id`, so `$ref`s between them resolve offline."""
    return _registry(_check_profile(profile))


@functools.cache
def _registry(profile: str) -> Registry[Any]:
    resource, draft = _lazy("Resource"), _lazy("DRAFT202012")
    return cast(
        "Registry[Any]",
        _lazy("RegistryClass")().with_resources(
            (schema["$id"], resource.from_contents(schema, default_specification=draft))
            for schema in (_load(name, profile) for name in SCHEMA_NAMES)
        ),
    )


# -- date-time: one definition, checked alike by both validators --------------------------

_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?"
    r"(?:[Zz]|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)
_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def is_date_time(value: object) -> bool:
    """RFC 3339 `date-time`, as JSON Schema's format means it (non-strings pass).

    `T`/`Z` in either case, any number of fraction digits, offsets up to
    ±23:59, real calendar dates, and a leap second (`:60`) only at 23:59 UTC.
    Nothing before or after: unlike a `$`-anchored regex, no trailing newline.
    This is what `jsonschema-rs` checks; `jsonschema` is given this function,
    so that the fast yes/no answer and the detailed report always agree.
    """
    if not isinstance(value, str):
        return True
    m = _DATE_TIME.fullmatch(value)
    if m is None:
        return False
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    if not 1 <= month <= 12 or hour > 23 or minute > 59 or second > 60:
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= day <= _DAYS[month - 1] + (month == 2 and leap):
        return False
    sign, offset_hours, offset_minutes = m.group(7), m.group(8), m.group(9)
    offset = 0
    if sign is not None:
        if int(offset_hours) > 23 or int(offset_minutes) > 59:
            return False
        offset = (int(offset_hours) * 60 + int(offset_minutes)) * (1 if sign == "+" else -1)
    return second < 60 or (hour * 60 + minute - offset) % 1440 == 23 * 60 + 59


# ISO 8601 as the official SDK reads it (dateutil's isoparser, the date part complete):
# calendar (extended or basic), week or ordinal date; `T`, `t` or a space; hh[:mm[:ss[.f]]]
# or hh[mm[ss[.f]]]; no offset (naive), `Z` or ±hh[[:]mm].
_ISO_DATE = (
    r"(?P<y>\d{4})(?:-(?P<m>\d{2})-(?P<d>\d{2})|(?P<mb>\d{2})(?P<db>\d{2})"
    r"|-W(?P<w>\d{2})-(?P<wd>\d)|W(?P<wb>\d{2})(?P<wdb>\d)|-(?P<o>\d{3}))"
)
_ISO_TIME = (
    r"(?P<H>\d{2})(?::(?P<M>\d{2})(?::(?P<S>\d{2}))?|(?P<Mb>\d{2})(?P<Sb>\d{2})?)?"
    r"(?P<f>[.,]\d+)?(?P<z>[Zz]|[+-](?P<zh>\d{2})(?::?(?P<zm>\d{2}))?)?"
)
_ISO_DATE_TIME = re.compile(_ISO_DATE + "[Tt ]" + _ISO_TIME, re.ASCII)


def _iso_date_ok(g: dict[str, str | None]) -> bool:
    year = int(g["y"] or 0)
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if g["o"] is not None:
        return year > 0 and 1 <= int(g["o"]) <= 365 + leap
    if g["w"] is not None or g["wb"] is not None:
        week, day = int(g["w"] or g["wb"] or 0), int(g["wd"] or g["wdb"] or 0)
        return year > 0 and 1 <= week <= 53 and 1 <= day <= 7
    month, day = int(g["m"] or g["mb"] or 0), int(g["d"] or g["db"] or 0)
    return year > 0 and 1 <= month <= 12 and 1 <= day <= _DAYS[month - 1] + (month == 2 and leap)


def _iso_time_ok(g: dict[str, str | None]) -> bool:
    minute_text, second_text = g["M"] or g["Mb"], g["S"] or g["Sb"]
    if g["f"] is not None and second_text is None:
        return False  # a fraction only of seconds, as the SDK reads it
    hour, minute, second = int(g["H"] or 0), int(minute_text or 0), int(second_text or 0)
    fraction = int((g["f"] or ".0")[1:])
    if hour == 24:  # 24:00 is midnight at the end of the day, nothing later
        ok = minute == second == fraction == 0
    else:
        ok = hour <= 23 and minute <= 59 and second <= 59
    return ok and int(g["zh"] or 0) <= 23 and int(g["zm"] or 0) <= 59


def is_iso_date_time(value: object) -> bool:
    """A date-time the contract allows: RFC 3339 (`is_date_time`), or ISO 8601 as the
    official SDK parses it, offset optional (`2024-05-01T12:34:56.789012`, what a Python
    backend sends for a naive datetime). The default profile's `date-time` (non-strings pass).

    Owned here, whatever jsonschema or jsonschema-rs bring: both are given this function.
    The SDK's parser also takes some strings that are not ISO 8601 (any separator
    character, a date without its day before a time, signs inside numbers); this does not.
    """
    if not isinstance(value, str) or is_date_time(value):
        return True
    m = _ISO_DATE_TIME.fullmatch(value)
    if m is None:
        return False
    groups = m.groupdict()
    return _iso_date_ok(groups) and _iso_time_ok(groups)


#: profile → its `date-time` check. "default": what the contract allows; "strict": RFC 3339.
DATE_TIME_CHECKS: dict[str, Callable[[object], bool]] = {
    "default": is_iso_date_time,
    "strict": is_date_time,
}
PROFILES: tuple[str, ...] = tuple(DATE_TIME_CHECKS)


@functools.cache
def _format_checker(base: Any, date_time: Callable[[object], bool] = is_date_time) -> Any:
    """`base` (a draft's FormatChecker) with `date_time` in place of its own `date-time`."""
    checker = _lazy("FormatChecker")(formats=())
    checker.checkers.update(base.checkers)
    checker.checks("date-time")(date_time)
    return checker


def _build_validator(
    schema: dict[str, Any],
    schemas_registry: Registry[Any],
    date_time: Callable[[object], bool] = is_iso_date_time,
) -> Any:
    """A validator for `schema` whose `$ref`s resolve in `schemas_registry`.

    Draft 2020-12 unless the schema's `$schema` names another draft. Formats
    are asserted (not just annotated), `date-time` by `date_time` (the profile's).
    """
    cls = _lazy("validator_for")(schema, default=_lazy("Draft202012Validator"))
    cls.check_schema(schema)
    checker = _format_checker(cls.FORMAT_CHECKER, date_time)
    return cls(schema, registry=schemas_registry, format_checker=checker)


# -- the compiled fast path ----------------------------------------------------------------

#: Formats the compiled validator is given our own checks for (`DATE_TIME_CHECKS`). A
#: schema using any other one is answered by jsonschema alone.
FAST_FORMATS = frozenset({"date-time"})


def _probe_format(value: object) -> bool:
    return value == "probe: ours"


@functools.cache
def _rs() -> Any:
    """The `jsonschema_rs` module, or None when it cannot be imported, or does not take our
    `date-time` check in place of its own (then: jsonschema answers). Its own date-time
    check is never used: it has changed between releases (0.60 took `18:3,:59`)."""
    try:
        rs = importlib.import_module("jsonschema_rs")
        probe = rs.validator_for(
            {"format": "date-time"}, validate_formats=True, formats={"date-time": _probe_format}
        )
        if probe.is_valid("probe: ours") and not probe.is_valid("2024-05-01T12:34:56Z"):
            return rs
    except Exception:  # not installed, or an API it does not have
        pass
    return None


def _named(node: Any, keyword: str, data: frozenset[str] = frozenset()) -> set[str]:
    """Every string a schema gives `keyword` (`format`, `$schema`), not looking inside
    the keywords in `data` (over-counting is safe: it only turns the fast path off)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == keyword and isinstance(value, str):
                found.add(value)
            elif key not in data:
                found |= _named(value, keyword, data)
    elif isinstance(node, list):
        for item in node:
            found |= _named(item, keyword, data)
    return found


#: RFC 3339 date-times every profile's check accepts (days 01-28, no leap second):
#: jsonschema-rs answers these itself, and calls back into Python only for the rest.
_COMMON_DATE_TIME = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]"
    r":[0-5][0-9](\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)


#: Keywords whose values are data, not schemas: never rewritten, never searched for `$ref`.
_DATA_KEYWORDS = frozenset({"enum", "const", "examples", "default"})


def _native_first(node: Any) -> Any:
    """`node` with every `format: date-time` tried as `_COMMON_DATE_TIME` first.

    A Python call per date from compiled code costs more than the rest of a body's
    check; the pattern only ever accepts what the format check accepts too. The
    alternation sits in the node itself (an `allOf` around it costs a few %), unless
    the node has an `anyOf` of its own.
    """
    if isinstance(node, list):
        return [_native_first(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        key: value if key in _DATA_KEYWORDS else _native_first(value) for key, value in node.items()
    }
    if out.get("format") == "date-time":
        del out["format"]
        either = [{"pattern": _COMMON_DATE_TIME}, {"format": "date-time"}]
        if "anyOf" in out:
            out["allOf"] = [*out.get("allOf", []), {"anyOf": either}]
        else:
            out["anyOf"] = either
    return out


def _refuse_retrieval(uri: str) -> Any:
    raise ValueError(f"{uri} is not in the schema set (no schema is fetched)")


#: What may stand beside a `$ref` that is inlined: annotations only. jsonschema-rs's
#: `dereference` replaces the node by the target, dropping any sibling assertion.
_REF_SIBLINGS = frozenset({"$ref", "description", "title", "$comment"})
#: Refs and anchors whose target depends on the dynamic scope: never inlined.
_DYNAMIC = frozenset({"$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor"})
_DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def _plain_refs(node: Any) -> bool:
    """Whether every `$ref` in `node` can be replaced by its target with the same answer:
    annotations beside it only, no dynamic refs."""
    if isinstance(node, list):
        return all(_plain_refs(item) for item in node)
    if not isinstance(node, dict):
        return True
    if "$ref" in node and not node.keys() <= _REF_SIBLINGS:
        return False
    if node.keys() & _DYNAMIC:
        return False
    # `dereference` does not know data from schema: a "$ref" key in an enum would be replaced
    return all(
        _plain_refs(v) if k not in _DATA_KEYWORDS else not _has_ref(v, in_data=True)
        for k, v in node.items()
    )


def _has_ref(node: Any, in_data: bool = False) -> bool:
    """Whether a `$ref` is left in schema `node` (`in_data`: or a "$ref" key in its data)."""
    if isinstance(node, list):
        return any(_has_ref(item, in_data) for item in node)
    if not isinstance(node, dict):
        return False
    return "$ref" in node or any(
        _has_ref(v, in_data) for k, v in node.items() if in_data or k not in _DATA_KEYWORDS
    )


def _inlined(rs: Any, schema: Any, registry: Any, resources: list[Any]) -> Any:
    """`schema` with every `$ref` replaced by its target (jsonschema-rs's `dereference`),
    when that gives the same answers; else `schema` as it is.

    A page's records `$ref` the session schema: resolved through the registry for every
    record, it costs a few % of the page's check. Not inlined: a ref with assertions
    beside it, a dynamic ref, a "$ref" key in data, a cycle (`dereference` leaves it as a
    `$ref`, now resolved from another base).
    """
    if not _plain_refs(schema) or not all(_plain_refs(r) for _, r in resources):
        return schema
    try:
        inlined = rs.dereference(schema, registry=registry)
    except Exception:  # jsonschema-rs cannot: the registry resolves the refs instead
        return schema
    return schema if _has_ref(inlined) else inlined


def _fast_schema(schema: dict[str, Any], resources: Any) -> tuple[Any, Any] | None:
    """The schema jsonschema-rs compiles for `schema`'s yes/no, and its registry (or None
    where jsonschema-rs is not to be used): dates native first, refs inlined if safe.

    Only for Draft 2020-12 throughout: following a `$ref` into a file without `$schema`,
    jsonschema keeps the referring draft, jsonschema-rs takes 2020-12; they would disagree.
    """
    rs = _rs()
    if rs is None or not _named(schema, "format") <= FAST_FORMATS:
        return None
    nodes = (schema, *dict(resources).values())
    if not all(_named(node, "$schema", _DATA_KEYWORDS) <= {_DRAFT_2020_12} for node in nodes):
        return None
    native = [(uri, _native_first(resource)) for uri, resource in resources]
    try:
        registry = rs.Registry(native, retriever=_refuse_retrieval)
    except Exception:  # a resource it cannot take: jsonschema answers instead
        return None
    return _inlined(rs, _native_first(schema), registry, native), registry


def _fast_is_valid(
    schema: dict[str, Any], resources: Any, date_time: Callable[[object], bool]
) -> Callable[[Any], bool] | None:
    """jsonschema-rs's `is_valid` for `schema`, or None where it is not to be used."""
    fast = _fast_schema(schema, resources)
    if fast is None:
        return None
    compiled, registry = fast
    try:
        validator = _rs().validator_for(
            compiled, registry=registry, validate_formats=True, formats={"date-time": date_time}
        )
    except Exception:  # a schema it cannot compile: jsonschema answers instead
        return None
    return cast("Callable[[Any], bool]", validator.is_valid)


def _validator(name: str, profile: str = "default") -> Any:
    """The validator for built-in schema `name` of `profile`, built once."""
    return _built_validator(name, profile)


@functools.cache
def _built_validator(name: str, profile: str) -> Any:
    return _build_validator(_load(name, profile), registry(profile), DATE_TIME_CHECKS[profile])


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


def json_path(parts: Iterable[str | int], root: str = "$") -> str:
    """`$.records[3]['odd key']`: the spelling of every path a report shows."""
    out = root
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            out += f".{part}"
        else:
            out += "['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return out


def _path_key(parts: Iterable[str | int]) -> tuple[tuple[int, int, str], ...]:
    # Numeric order for indexes ($.records[2] before $.records[10]), ints before keys.
    return tuple((1, 0, p) if isinstance(p, str) else (0, p, "") for p in parts)


def _sort_key(error: Any) -> tuple[Any, ...]:
    return (_path_key(error.absolute_path), str(error.validator), str(error.message))


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
        path=json_path(error.absolute_path),
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


def is_valid(name: str, body: Any) -> bool:
    """Whether `body` matches built-in schema `name`; stops at the first violation."""
    return _default_set().is_valid(name, body)


# -- routes: which schema an answer must match -----------------------------------------

#: Base URI of the built-in schemas; a user schema without `$id` is given
#: `BASE_URI + "<name>.json"`, so `{"$ref": "session.json"}` works in it too.
BASE_URI = "https://schemas.hl-testkit.invalid/v4/"

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_METHOD = re.compile(r"[A-Za-z]+")


class RouteError(HlTestkitError, ValueError):
    """A route that cannot be: bad method, template, status or schema name."""


@dataclass(frozen=True)
class Route:
    """Answers to `method template` with `status` must match schema `schema`.

    `template` is a path under the API's base URL (`/sessions/{id}`); each
    `{param}` matches exactly one non-empty path segment, other segments match
    literally. The method is kept upper-case and a trailing slash is dropped.
    """

    method: str
    template: str
    status: int
    schema: str

    def __post_init__(self) -> None:
        where = f"route {self.method} {self.template} {self.status} -> {self.schema}"
        if not isinstance(self.method, str) or not _METHOD.fullmatch(self.method):
            raise RouteError(f"{where}: the method must be letters only, e.g. GET")
        if isinstance(self.status, bool) or not isinstance(self.status, int):
            raise RouteError(f"{where}: the status must be an integer")
        if not 100 <= self.status <= 599:
            raise RouteError(f"{where}: the status must be 100-599")
        if not isinstance(self.schema, str) or not self.schema:
            raise RouteError(f"{where}: the schema name must not be empty")
        if not isinstance(self.template, str) or not self.template.startswith("/"):
            raise RouteError(f"{where}: the template must start with '/'")
        if "?" in self.template or "#" in self.template:
            raise RouteError(f"{where}: the template is a path: no query, no fragment")
        template = (
            self.template[:-1]
            if len(self.template) > 1 and self.template.endswith("/")
            else self.template
        )
        segments = _split(template)
        if segments is None:
            raise RouteError(f"{where}: the template has an empty segment ('//')")
        for segment in segments:
            if ("{" in segment or "}" in segment) and not _PARAM.fullmatch(segment):
                raise RouteError(
                    f"{where}: a parameter must be a whole segment, like /sessions/{{id}}"
                )
        object.__setattr__(self, "method", self.method.upper())
        object.__setattr__(self, "template", template)

    @classmethod
    def parse(cls, text: str) -> Route:
        """`"GET /projects/{id} 200 project"` (method, template, status, schema) → a Route.

        The form of a route in configuration (an ini line, a command-line option).
        """
        parts = text.split()
        if len(parts) == 5 and parts[3] in ("->", "=>"):  # "GET /x 200 -> name"
            del parts[3]
        if len(parts) != 4 or not parts[2].isdigit():
            raise RouteError(
                f"route {text.strip()!r}: expected 'METHOD /path/{{param}} STATUS SCHEMA', "
                "e.g. 'GET /projects/{id} 200 project'"
            )
        return cls(parts[0], parts[1], int(parts[2]), parts[3])

    @property
    def segments(self) -> tuple[str | None, ...]:
        """The template's segments; None for a `{param}`."""
        return tuple(None if _PARAM.fullmatch(s) else s for s in _split(self.template) or ())

    def __str__(self) -> str:
        return f"{self.method} {self.template} {self.status} -> {self.schema}"


def _split(path: str) -> list[str] | None:
    """A path's segments: `/sessions/sesh_1` → ["sessions", "sesh_1"]; `/` → [].

    Drops a query or fragment and one trailing slash. None when a segment is
    empty (`/sessions//x`): no route matches such a path.
    """
    path = path.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        path = "/" + path
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    if path == "/":
        return []
    segments = path[1:].split("/")
    return None if "" in segments else segments


def _fits(template: tuple[str | None, ...], segments: Sequence[str]) -> bool:
    return len(template) == len(segments) and all(
        t is None or t == s for t, s in zip(template, segments, strict=True)
    )


def _builtin_routes() -> tuple[Route, ...]:
    endpoints = (
        ("POST", "/sessions", 201, "session_created"),
        ("GET", "/sessions/{id}", 200, "session"),
        ("GET", "/sessions", 200, "session_page"),
    )
    routes: list[Route] = []
    for method, template, status, name in endpoints:
        routes.append(Route(method, template, status, name))
        routes.append(Route(method, template, 422, "validation_error"))
        routes.extend(Route(method, template, s, "error") for s in sorted(_ERROR_STATUSES))
    return tuple(routes)


#: The sessions API: create, get and list, their success bodies, 422 and the errors.
BUILTIN_ROUTES: tuple[Route, ...] = _builtin_routes()

_OPERATION_ROUTES: tuple[tuple[str, tuple[str | None, ...], str], ...] = (
    ("POST", ("sessions",), "create"),
    ("GET", ("sessions", None), "get"),
    ("GET", ("sessions",), "list"),
)


def operation_of(method: str, path: str) -> str | None:
    """ "create", "get" or "list" for a sessions call (path under the base URL); else None."""
    segments = _split(path)
    if segments is None:
        return None
    method = method.upper()
    for verb, template, operation in _OPERATION_ROUTES:
        if verb == method and _fits(template, segments):
            return operation
    return None


# -- drift: what a body carries that its schema does not name -----------------------------


@dataclass(frozen=True)
class Drift(Violation):
    """A property the schema does not name. Allowed, so not a failure: a sign
    that the API grew a field the schemas (and maybe the tests) do not know."""

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


_Node = tuple[dict[str, Any], "Resolver[Any]"]
_DRIFT_MESSAGE = "not in the schema (drift)"


def _expand(schema: Any, resolver: Resolver[Any], seen: frozenset[int]) -> list[_Node]:
    """`schema` plus what it pulls in through `$ref` and allOf/anyOf/oneOf."""
    if not isinstance(schema, dict):
        return []  # true/false schemas name no properties
    if isinstance(schema.get("$id"), str):
        resource = _lazy("Resource").from_contents(
            schema, default_specification=_lazy("DRAFT202012")
        )
        resolver = resolver.in_subresource(resource)
    nodes: list[_Node] = [(schema, resolver)]
    ref = schema.get("$ref")
    if isinstance(ref, str):
        resolved = resolver.lookup(ref)
        if id(resolved.contents) not in seen:  # a schema referring to itself: stop
            seen = seen | {id(resolved.contents)}
            nodes += _expand(resolved.contents, resolved.resolver, seen)
    for keyword in ("allOf", "anyOf", "oneOf"):
        branches = schema.get(keyword)
        if isinstance(branches, list):
            for branch in branches:
                nodes += _expand(branch, resolver, seen)
    return nodes


_Found = list[tuple[list[str | int], Drift]]


def _drift(value: Any, nodes: list[_Node], parts: list[str | int], out: _Found) -> None:
    if isinstance(value, dict):
        _drift_object(value, nodes, parts, out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            item_nodes: list[_Node] = []
            for schema, resolver in nodes:
                prefix = schema.get("prefixItems")
                if isinstance(prefix, list) and index < len(prefix):
                    item_nodes += _expand(prefix[index], resolver, frozenset())
                elif isinstance(schema.get("items"), dict):
                    item_nodes += _expand(schema["items"], resolver, frozenset())
            if item_nodes:
                _drift(item, item_nodes, [*parts, index], out)


def _drift_object(
    value: dict[str, Any], nodes: list[_Node], parts: list[str | int], out: _Found
) -> None:
    children: dict[str, list[_Node]] = {}
    named: set[str] = set()
    declares = False  # a schema lists properties: only then can one be "not in the schema"
    open_by_design = False  # additionalProperties is a schema (a map) or false (an error)
    for schema, resolver in nodes:
        properties = schema.get("properties")
        if isinstance(properties, dict):
            declares = True
            named.update(properties)
            for key, sub in properties.items():
                if key in value:
                    children.setdefault(key, []).extend(_expand(sub, resolver, frozenset()))
        patterns = schema.get("patternProperties")
        if isinstance(patterns, dict):
            declares = True
            for pattern, sub in patterns.items():
                for key in value:
                    if re.search(pattern, key):
                        named.add(key)
                        children.setdefault(key, []).extend(_expand(sub, resolver, frozenset()))
        for keyword in ("additionalProperties", "unevaluatedProperties"):
            extra = schema.get(keyword)
            if extra is False or isinstance(extra, dict):
                open_by_design = True
            if isinstance(extra, dict):
                for key in value:
                    if key not in named:
                        children.setdefault(key, []).extend(_expand(extra, resolver, frozenset()))
    if declares and not open_by_design:
        expected = sorted(named)
        for key in value:
            if key not in named:
                drift = Drift(
                    path=json_path([*parts, key]),
                    message=_DRIFT_MESSAGE,
                    keyword="additionalProperties",
                    expected=expected,
                    actual=value[key],
                )
                out.append(([*parts, key], drift))
    for key, child_nodes in children.items():
        _drift(value[key], child_nodes, [*parts, key], out)


# -- schema sets ---------------------------------------------------------------------------


class _Compiled:
    """A set's registry and validators, each built once, on first use, then kept.

    Shared by the sets `overriding_success` derives (same schemas, other routes).
    """

    def __init__(
        self,
        registry: Registry[Any] | Callable[[], Registry[Any]],
        validators: dict[str, Any] | Callable[[str], Any],
        fast_resources: list[tuple[str, dict[str, Any]]],
        date_time: Callable[[object], bool] = is_iso_date_time,
    ) -> None:
        self.date_time = date_time  # the profile's `date-time` check, for both validators
        self._registry = registry
        self._validator_factory = validators if callable(validators) else None
        self.validators: dict[str, Any] = {} if callable(validators) else validators
        self.fast_resources = fast_resources
        #: name → the yes/no function of the hot path (jsonschema-rs's, or jsonschema's)
        self.checks: dict[str, Callable[[Any], bool]] = {}

    @property
    def registry(self) -> Registry[Any]:
        if callable(self._registry):
            self._registry = self._registry()
        return self._registry

    def validator(self, name: str, schema: dict[str, Any]) -> Any:
        validator = self.validators.get(name)
        if validator is None:
            if self._validator_factory is None:  # pragma: no cover - built with the set
                validator = _build_validator(schema, self.registry, self.date_time)
            else:
                validator = self._validator_factory(name)
            self.validators[name] = validator
        return validator

    def check_function(self, name: str, schema: dict[str, Any]) -> Callable[[Any], bool]:
        check = self.checks.get(name)
        if check is None:
            fast = _fast_is_valid(schema, self.fast_resources, self.date_time)
            check = fast or self.validator(name, schema).is_valid
            self.checks[name] = check
        return check


class SchemaSet:
    """Schemas by name, their registry, one validator each, and the routes.

    Everything is checked in the constructor (a bad schema, an unresolvable
    `$ref` or a route to an unknown schema fails there, naming the file),
    never per call; each validator is built once, when first needed. Build one
    per test run: `SchemaSet.default()` for the built-ins (cached),
    `SchemaSet.with_extra(...)` for a user's.

    A set has a profile: "default" (never stricter than the contract) or
    "strict" (the stricter readings, `schemas/strict/`). A default set's
    `strict_drift()` reports what its strict twin alone refuses.
    """

    def __init__(
        self,
        schemas: Mapping[str, Mapping[str, Any]],
        routes: Iterable[Route] = BUILTIN_ROUTES,
        *,
        origins: Mapping[str, str] | None = None,
        profile: str = "default",
        strict_twin: Callable[[], SchemaSet] | None = None,
    ) -> None:
        """`schemas`: name → schema; `origins`: name → where it came from (for messages).

        `profile` picks the `date-time` check; `strict_twin` builds the strict set to
        compare with (default: these schemas, with the strict `date-time`).
        """
        date_time = DATE_TIME_CHECKS[_check_profile(profile)]
        origins = dict(origins or {})
        prepared: dict[str, dict[str, Any]] = {}
        for name, schema in schemas.items():
            where = f"schema {name!r} ({origins.get(name, 'given in code')})"
            if not isinstance(schema, Mapping):
                raise HlTestkitError(f"{where} must be a JSON object")
            prepared[name] = _with_id(name, copy.deepcopy(dict(schema)), where)
        schemas_registry = _registry_of(prepared)
        validators: dict[str, Any] = {}
        for name, schema in prepared.items():
            where = f"schema {name!r} ({origins.get(name, 'given in code')})"
            try:
                validators[name] = _build_validator(schema, schemas_registry, date_time)
            except _lazy("SchemaError") as exc:
                at = json_path(exc.absolute_path) if exc.absolute_path else "$"
                raise HlTestkitError(
                    f"{where} is not a valid JSON Schema: {exc.message} (at {at})"
                ) from None
            _check_refs(schema, schemas_registry, where)
        compiled = _Compiled(schemas_registry, validators, _fast_resources(prepared), date_time)
        routes = tuple(routes)
        if strict_twin is None and profile == "default":
            strict_twin = functools.partial(_strict_twin, prepared, routes, compiled)
        self._setup(prepared, routes, compiled, profile, strict_twin)

    def _setup(
        self,
        schemas: dict[str, dict[str, Any]],
        routes: tuple[Route, ...],
        compiled: _Compiled,
        profile: str = "default",
        strict_twin: Callable[[], SchemaSet] | None = None,
    ) -> None:
        for route in routes:
            if route.schema not in schemas:
                raise RouteError(
                    f"route {route}: no schema named {route.schema!r}; "
                    f"known schemas: {', '.join(schemas)}"
                )
        self._schemas = schemas
        self._routes = routes
        self._compiled = compiled
        self.profile = profile
        self._strict_twin = strict_twin
        self._strict: SchemaSet | None = None
        # (method, status) → [(template segments, literal count, order, schema)]
        table: dict[tuple[str, int], list[tuple[tuple[str | None, ...], int, int, str]]] = {}
        for order, route in enumerate(routes):
            segments = route.segments
            literal = sum(s is not None for s in segments)
            table.setdefault((route.method, route.status), []).append(
                (segments, literal, order, route.schema)
            )
        self._table = table

    def overriding_success(self, name: str) -> SchemaSet:
        """The same set, but every 2xx answer checked against schema `name`.

        For `@pytest.mark.hl_cassette(schema="...")`; shares the built validators.
        """
        routes = tuple(
            replace(r, schema=name) if 200 <= r.status < 300 else r for r in self._routes
        )
        twin = None if self._strict_twin is None else self.strict_set
        other = object.__new__(SchemaSet)
        other._setup(
            self._schemas,
            routes,
            self._compiled,
            self.profile,
            None if twin is None else lambda: twin().overriding_success(name),
        )
        return other

    @classmethod
    def default(cls, profile: str = "default") -> SchemaSet:
        """The built-in schemas and routes of `profile`; built once per process."""
        return _default_set(_check_profile(profile))

    @classmethod
    def with_extra(
        cls,
        schema_dir: pathlib.Path | None = None,
        routes: Iterable[Route] = (),
        *,
        profile: str = "default",
    ) -> SchemaSet:
        """The built-ins plus a user's additions.

        Each `<name>.json` in `schema_dir` adds schema `<name>`, or replaces the
        built-in of that name (a `$ref` to it, e.g. a page's records, then
        reaches the replacement). `routes` come after the built-in ones: for
        the same method, template and status, the user's route wins.
        """
        base = cls.default(profile)
        extra_routes = tuple(routes)
        if schema_dir is None and not extra_routes:
            return base
        schemas: dict[str, Mapping[str, Any]] = {n: _load(n, profile) for n in SCHEMA_NAMES}
        origins = {n: _builtin_origin(n, profile) for n in SCHEMA_NAMES}
        if schema_dir is not None:
            for name, (schema, origin) in _read_schema_dir(schema_dir).items():
                schemas[name] = schema
                origins[name] = origin
        twin = None
        if profile == "default":  # the user's files and routes, over the strict built-ins
            twin = functools.partial(cls.with_extra, schema_dir, extra_routes, profile="strict")
        return cls(
            schemas, base.routes + extra_routes, origins=origins, profile=profile, strict_twin=twin
        )

    # -- what the set holds

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._schemas)

    @property
    def routes(self) -> tuple[Route, ...]:
        return self._routes

    @property
    def registry(self) -> Registry[Any]:
        return self._compiled.registry

    def schema(self, name: str) -> dict[str, Any]:
        """A copy of schema `name` (with the `$id` it is registered under)."""
        return copy.deepcopy(self._schemas[self._known(name)])

    def validator(self, name: str) -> Any:
        """The (jsonschema) validator of schema `name`, built once, on first use."""
        return self._compiled.validator(self._known(name), self._schemas[name])

    def _known(self, name: str) -> str:
        if name not in self._schemas:
            raise UnknownSchemaError(
                f"no schema named {name!r}; known schemas: {', '.join(self._schemas)}"
            )
        return name

    # -- routing

    def route_for(self, method: str, path: str, status: int) -> str | None:
        """The schema an answer to `method path` with `status` must match, or None.

        `path` is relative to the API's base URL (`/sessions/sesh_1`); a query
        and a trailing slash are ignored. With several matches the most literal
        template wins (`/sessions/search` over `/sessions/{id}`), then the
        route given last.
        """
        segments = _split(path)
        candidates = self._table.get((method.upper(), status))
        if segments is None or not candidates:
            return None
        best: tuple[int, int, str] | None = None
        for template, literal, order, name in candidates:
            if _fits(template, segments) and (best is None or (literal, order) > best[:2]):
                best = (literal, order, name)
        return None if best is None else best[2]

    # -- validation

    def is_valid(self, name: str, body: Any) -> bool:
        """Yes or no, stopping at the first violation: the hot path's question.

        Compiled (jsonschema-rs) where it can be; the same answer as `validate() == []`.
        """
        check = self._compiled.checks.get(name)
        if check is None:
            check = self._compiled.check_function(self._known(name), self._schemas[name])
        return bool(check(body))

    def validate(self, name: str, body: Any) -> list[Violation]:
        """Every violation of schema `name` by `body`, sorted by path; [] when valid."""
        errors = sorted(self.validator(name).iter_errors(body), key=_sort_key)
        return [_violation(error) for error in errors]

    def check(self, name: str, body: Any) -> list[Violation]:
        """`validate()`, answering a valid body through `is_valid()` first.

        Same result as `validate()`; the full (sorted, detailed) report is built
        only for a body that fails.
        """
        check = self._compiled.checks.get(name)
        if check is None:
            check = self._compiled.check_function(self._known(name), self._schemas[name])
        return [] if check(body) else self.validate(name, body)

    def check_response(
        self, method: str, path: str, status: int, body: Any
    ) -> list[Violation] | None:
        """`check()` against the routed schema; None when no route matches."""
        name = self.route_for(method, path, status)
        return None if name is None else self.check(name, body)

    def extra_properties(self, name: str, body: Any) -> list[Drift]:
        """Properties in `body` that schema `name` does not name, sorted by path.

        Walks the schema's `properties` alongside the body, following `$ref`,
        `items` and allOf/anyOf/oneOf. Only objects whose schema lists
        properties are looked at (`first_inputs`, a free-form object, is not),
        and not those whose `additionalProperties` is a schema (a map by design)
        or false (an extra key is then a violation, reported by `validate`).
        """
        schema = self._schemas[self._known(name)]
        resolver = self._compiled.registry.resolver(base_uri=schema["$id"])
        found: _Found = []
        _drift(body, _expand(schema, resolver, frozenset({id(schema)})), [], found)
        found.sort(key=lambda item: _path_key(item[0]))
        return [drift for _, drift in found]

    def strict_set(self) -> SchemaSet:
        """The strict twin of this set (itself when it is strict), built once."""
        if self._strict_twin is None:
            return self
        if self._strict is None:
            self._strict = self._strict_twin()
        return self._strict

    def strict_drift(
        self, name: str, body: Any, violations: Iterable[Violation] | None = None
    ) -> list[Drift]:
        """What the strict profile refuses in `body` and this set does not: path and rule.

        Reported, not failed (`--hl-schema-strict`); empty for a strict set.
        `violations`: this set's `check(name, body)`, when the caller has it already.
        """
        strict = self.strict_set()
        if strict is self or name not in strict.names or strict.is_valid(name, body):
            return []
        if violations is None:
            violations = self.check(name, body)
        ours = {(v.path, v.keyword) for v in violations}
        return [
            Drift(
                path=v.path,
                message=f"{v.message} (strict profile: {v.keyword})",
                keyword=v.keyword,
                expected=v.expected,
                actual=v.actual,
            )
            for v in strict.validate(name, body)
            if (v.path, v.keyword) not in ours
        ]

    def __repr__(self) -> str:
        return (
            f"<SchemaSet {len(self._schemas)} schemas, {len(self._routes)} routes, "
            f"profile {self.profile}>"
        )


def _builtin_origin(name: str, profile: str = "default") -> str:
    return str(schema_dir() / ("strict/" if profile == "strict" else "") / f"{name}.json")


def _with_id(name: str, schema: dict[str, Any], where: str) -> dict[str, Any]:
    schema_id = schema.get("$id")
    if schema_id is None:
        schema["$id"] = f"{BASE_URI}{name}.json"
    elif not isinstance(schema_id, str) or not schema_id:
        raise HlTestkitError(f"{where}: $id must be a non-empty string")
    return schema


def _fast_resources(schemas: Mapping[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The schemas by URI for jsonschema-rs, as `_registry_of` files them.

    Each under the URIs of the built-in of its name in both profiles: a user's file
    replacing `session` is what the strict page's records reach too.
    """
    uris: dict[str, dict[str, Any]] = {}
    for name, schema in schemas.items():
        uris[f"{BASE_URI}{name}.json"] = schema
        uris[f"{BASE_URI}strict/{name}.json"] = schema
    for schema in schemas.values():
        uris.setdefault(schema["$id"], schema)
    return list(uris.items())


def _registry_of(schemas: Mapping[str, dict[str, Any]]) -> Registry[Any]:
    """Each schema under its `$id` and under `BASE_URI + name.json`: a file
    replacing a built-in is what `$ref`s to the built-in reach."""
    resource, draft = _lazy("Resource"), _lazy("DRAFT202012")
    resources = {
        uri: resource.from_contents(schema, default_specification=draft)
        for uri, schema in _fast_resources(schemas)
    }
    return cast("Registry[Any]", _lazy("RegistryClass")().with_resources(resources.items()).crawl())


def _check_refs(schema: dict[str, Any], schemas_registry: Registry[Any], where: str) -> None:
    """Fail now, naming the schema, on a `$ref` that would fail mid-validation."""
    resolver = schemas_registry.resolver()

    def walk(node: Any, base: str) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, base)
            return
        if not isinstance(node, dict):
            return
        if isinstance(node.get("$id"), str):
            base = urljoin(base, node["$id"])
        ref = node.get("$ref")
        if isinstance(ref, str):
            try:
                resolver.lookup(urljoin(base, ref))
            except _lazy("Unresolvable") as exc:
                raise HlTestkitError(f"{where}: $ref {ref!r} cannot be resolved: {exc}") from None
        for key, value in node.items():
            if key not in ("examples", "enum", "const", "default"):
                walk(value, base)

    walk(schema, "")


def _read_schema_dir(directory: pathlib.Path) -> dict[str, tuple[dict[str, Any], str]]:
    if not directory.is_dir():
        raise HlTestkitError(f"schema directory {directory} does not exist or is not a directory")
    files = sorted(directory.glob("*.json"))
    if not files:
        raise HlTestkitError(f"schema directory {directory} holds no <name>.json schema file")
    out: dict[str, tuple[dict[str, Any], str]] = {}
    for path in files:
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise HlTestkitError(f"cannot read schema {path}: {exc}") from None
        if not isinstance(schema, dict):
            raise HlTestkitError(f"schema {path} must hold a JSON object")
        out[path.stem] = (schema, str(path))
    return out


def _strict_twin(
    schemas: dict[str, dict[str, Any]], routes: tuple[Route, ...], loaded: _Compiled
) -> SchemaSet:
    """The strict set of schemas a default set has checked and registered already: the
    same schemas, routes and registry, only the strict `date-time`; validators on first use."""
    date_time = DATE_TIME_CHECKS["strict"]
    compiled = _Compiled(
        loaded.registry,
        lambda name: _build_validator(schemas[name], loaded.registry, date_time),
        loaded.fast_resources,
        date_time,
    )
    twin = SchemaSet.__new__(SchemaSet)
    twin._setup(schemas, routes, compiled, "strict")
    return twin


@functools.cache
def _default_set(profile: str = "default") -> SchemaSet:
    """The built-ins: known good, so nothing is checked or built until it is needed."""
    schemas = {name: _load(name, profile) for name in SCHEMA_NAMES}
    compiled = _Compiled(
        functools.partial(registry, profile),
        functools.partial(_validator, profile=profile),
        _fast_resources(schemas),
        DATE_TIME_CHECKS[profile],
    )
    default = SchemaSet.__new__(SchemaSet)
    twin = functools.partial(_default_set, "strict") if profile == "default" else None
    default._setup(schemas, BUILTIN_ROUTES, compiled, profile, twin)
    return default


def route_for(method: str, path: str, status: int) -> str | None:
    """`SchemaSet.default().route_for(...)`: the built-in schema for an answer, or None."""
    return _default_set().route_for(method, path, status)


def extra_properties(name: str, body: Any) -> list[Drift]:
    """`SchemaSet.default().extra_properties(...)`: the drift report for a built-in schema."""
    return _default_set().extra_properties(name, body)
