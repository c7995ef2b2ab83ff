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

Hot path: `SchemaSet.check()` asks the validator's short-circuiting
`is_valid()` first and builds the full, sorted report only for a body that
fails. `extra_properties()` is the drift report: properties a body carries
that its schema does not name (allowed, but worth knowing about).
"""

from __future__ import annotations

import copy
import functools
import json
import pathlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urljoin

# jsonschema ships no type information (no py.typed, types-jsonschema not installed).
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped]
from jsonschema.validators import validator_for  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from hl_testkit.errors import HlTestkitError

if TYPE_CHECKING:
    from referencing._core import Resolver

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


def _build_validator(schema: dict[str, Any], schemas_registry: Registry[Any]) -> Any:
    """A validator for `schema` whose `$ref`s resolve in `schemas_registry`.

    Draft 2020-12 unless the schema's `$schema` names another draft. Formats
    are asserted (not just annotated), `date-time` included.
    """
    checker = Draft202012Validator.FORMAT_CHECKER
    # Without rfc3339-validator, jsonschema silently stops checking date-time.
    if "date-time" not in checker.checkers:
        raise HlTestkitError(
            "jsonschema cannot check the 'date-time' format: install rfc3339-validator "
            "(a declared dependency of hl-testkit)."
        )
    cls = validator_for(schema, default=Draft202012Validator)
    cls.check_schema(schema)
    return cls(schema, registry=schemas_registry, format_checker=cls.FORMAT_CHECKER)


@functools.cache
def _validator(name: str) -> Any:
    """The validator for built-in schema `name`, built once."""
    return _build_validator(_load(name), registry())


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


def is_valid(name: str, body: Any) -> bool:
    """Whether `body` matches built-in schema `name`; stops at the first violation."""
    return bool(_validator(name).is_valid(body))


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
        resource = Resource.from_contents(schema, default_specification=DRAFT202012)
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
                    path=_json_path([*parts, key]),
                    message=_DRIFT_MESSAGE,
                    keyword="additionalProperties",
                    expected=expected,
                    actual=value[key],
                )
                out.append(([*parts, key], drift))
    for key, child_nodes in children.items():
        _drift(value[key], child_nodes, [*parts, key], out)


# -- schema sets ---------------------------------------------------------------------------


class SchemaSet:
    """Schemas by name, their registry, one validator each, and the routes.

    Everything is built and checked in the constructor (a bad schema, an
    unresolvable `$ref` or a route to an unknown schema fails there, naming
    the file), never per call. Build one per test run: `SchemaSet.default()`
    for the built-ins (cached), `SchemaSet.with_extra(...)` for a user's.
    """

    def __init__(
        self,
        schemas: Mapping[str, Mapping[str, Any]],
        routes: Iterable[Route] = BUILTIN_ROUTES,
        *,
        origins: Mapping[str, str] | None = None,
    ) -> None:
        """`schemas`: name → schema; `origins`: name → where it came from (for messages)."""
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
                validators[name] = _build_validator(schema, schemas_registry)
            except SchemaError as exc:
                at = _json_path(exc.absolute_path) if exc.absolute_path else "$"
                raise HlTestkitError(
                    f"{where} is not a valid JSON Schema: {exc.message} (at {at})"
                ) from None
            _check_refs(schema, schemas_registry, where)
        self._setup(prepared, tuple(routes), schemas_registry, validators)

    def _setup(
        self,
        schemas: dict[str, dict[str, Any]],
        routes: tuple[Route, ...],
        schemas_registry: Registry[Any],
        validators: dict[str, Any],
    ) -> None:
        for route in routes:
            if route.schema not in schemas:
                raise RouteError(
                    f"route {route}: no schema named {route.schema!r}; "
                    f"known schemas: {', '.join(schemas)}"
                )
        self._schemas = schemas
        self._routes = routes
        self._registry = schemas_registry
        self._validators = validators
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
        other = object.__new__(SchemaSet)
        other._setup(self._schemas, routes, self._registry, self._validators)
        return other

    @classmethod
    def default(cls) -> SchemaSet:
        """The built-in schemas and routes; built once per process."""
        return _default_set()

    @classmethod
    def with_extra(
        cls, schema_dir: pathlib.Path | None = None, routes: Iterable[Route] = ()
    ) -> SchemaSet:
        """The built-ins plus a user's additions.

        Each `<name>.json` in `schema_dir` adds schema `<name>`, or replaces the
        built-in of that name (a `$ref` to it, e.g. a page's records, then
        reaches the replacement). `routes` come after the built-in ones: for
        the same method, template and status, the user's route wins.
        """
        base = cls.default()
        extra_routes = tuple(routes)
        if schema_dir is None and not extra_routes:
            return base
        schemas: dict[str, Mapping[str, Any]] = {n: _load(n) for n in SCHEMA_NAMES}
        origins = {n: _builtin_origin(n) for n in SCHEMA_NAMES}
        if schema_dir is not None:
            for name, (schema, origin) in _read_schema_dir(schema_dir).items():
                schemas[name] = schema
                origins[name] = origin
        return cls(schemas, base.routes + extra_routes, origins=origins)

    # -- what the set holds

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._schemas)

    @property
    def routes(self) -> tuple[Route, ...]:
        return self._routes

    @property
    def registry(self) -> Registry[Any]:
        return self._registry

    def schema(self, name: str) -> dict[str, Any]:
        """A copy of schema `name` (with the `$id` it is registered under)."""
        return copy.deepcopy(self._schemas[self._known(name)])

    def validator(self, name: str) -> Any:
        """The (jsonschema) validator of schema `name`, built with the set."""
        return self._validators[self._known(name)]

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
        """Yes or no, stopping at the first violation: the hot path's question."""
        return bool(self.validator(name).is_valid(body))

    def validate(self, name: str, body: Any) -> list[Violation]:
        """Every violation of schema `name` by `body`, sorted by path; [] when valid."""
        errors = sorted(self.validator(name).iter_errors(body), key=_sort_key)
        return [_violation(error) for error in errors]

    def check(self, name: str, body: Any) -> list[Violation]:
        """`validate()`, answering a valid body through `is_valid()` first.

        Same result as `validate()`; the full (sorted, detailed) report is built
        only for a body that fails.
        """
        return [] if self.is_valid(name, body) else self.validate(name, body)

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
        resolver = self._registry.resolver(base_uri=schema["$id"])
        found: _Found = []
        _drift(body, _expand(schema, resolver, frozenset({id(schema)})), [], found)
        found.sort(key=lambda item: _path_key(item[0]))
        return [drift for _, drift in found]

    def __repr__(self) -> str:
        return f"<SchemaSet {len(self._schemas)} schemas, {len(self._routes)} routes>"


def _builtin_origin(name: str) -> str:
    return str(schema_dir() / f"{name}.json")


def _with_id(name: str, schema: dict[str, Any], where: str) -> dict[str, Any]:
    schema_id = schema.get("$id")
    if schema_id is None:
        schema["$id"] = f"{BASE_URI}{name}.json"
    elif not isinstance(schema_id, str) or not schema_id:
        raise HlTestkitError(f"{where}: $id must be a non-empty string")
    return schema


def _registry_of(schemas: Mapping[str, dict[str, Any]]) -> Registry[Any]:
    """Each schema under its `$id` and under `BASE_URI + name.json`: a file
    replacing a built-in is what `$ref`s to the built-in reach."""
    resources: dict[str, Resource[Any]] = {}
    for name, schema in schemas.items():
        resource = Resource.from_contents(schema, default_specification=DRAFT202012)
        resources[f"{BASE_URI}{name}.json"] = resource
    for schema in schemas.values():
        resources.setdefault(
            schema["$id"], Resource.from_contents(schema, default_specification=DRAFT202012)
        )
    return Registry().with_resources(resources.items()).crawl()


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
            except Unresolvable as exc:
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


@functools.cache
def _default_set() -> SchemaSet:
    schemas = {name: _load(name) for name in SCHEMA_NAMES}
    validators = {name: _validator(name) for name in SCHEMA_NAMES}
    default = SchemaSet.__new__(SchemaSet)
    default._setup(schemas, BUILTIN_ROUTES, registry(), validators)
    return default


def route_for(method: str, path: str, status: int) -> str | None:
    """`SchemaSet.default().route_for(...)`: the built-in schema for an answer, or None."""
    return _default_set().route_for(method, path, status)


def extra_properties(name: str, body: Any) -> list[Drift]:
    """`SchemaSet.default().extra_properties(...)`: the drift report for a built-in schema."""
    return _default_set().extra_properties(name, body)
