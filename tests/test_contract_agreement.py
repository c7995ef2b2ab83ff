"""The default schemas agree with the contract: the official SDK's models, both directions.

Bodies are generated (hypothesis) from the SDK 0.5.18 models' own constraints, read
from the generated classes (`MetaOapg.required`, each property's schema class), plus
the one rule the reference adds (ids start with `sesh_` / `pr_`):

- every body the SDK's model accepts passes the default check;
- a body with one violation injected (a required property removed, a value of the
  wrong type, a `created_at` no ISO 8601 reading parses, an id without its prefix)
  fails it, at that JSON path, with that rule; and the SDK refuses it too.

Known exceptions, where the SDK and the contract part ways on purpose (each tested):
`KNOWN_SDK_EXCEPTIONS` below. Runs are bounded and derandomized (same examples on
every run and under xdist), with no example database written.
"""

from __future__ import annotations

import copy
import re
import string
from typing import Any

import pytest

from hl_testkit.contract.schemas import SchemaSet, is_date_time, is_iso_date_time, json_path

humanloop = pytest.importorskip("humanloop")
hypothesis = pytest.importorskip("hypothesis")

from humanloop import schemas as sdk_schemas  # noqa: E402
from humanloop.model.create_session_response import CreateSessionResponse  # noqa: E402
from humanloop.model.http_validation_error import HTTPValidationError  # noqa: E402
from humanloop.model.paginated_data_session_response import (  # noqa: E402
    PaginatedDataSessionResponse,
)
from humanloop.model.session_response import SessionResponse  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

BOUNDED = settings(max_examples=100, derandomize=True, deadline=None, database=None)

#: (our schema name, the SDK's model)
MODELS: tuple[tuple[str, Any], ...] = (
    ("session_created", CreateSessionResponse),
    ("session", SessionResponse),
    ("session_page", PaginatedDataSessionResponse),
    ("validation_error", HTTPValidationError),
)

#: Where the SDK 0.5.18 and the contract part ways; each one is asserted below.
KNOWN_SDK_EXCEPTIONS = {
    "loc-integers": "ValidationError.loc items may be integers (the SDK's own model says "
    "str or int) but its anyOf check refuses them",
    "null-optional": "optional fields sent as null (FastAPI does) are refused by the SDK",
    "id-prefix": "the SDK checks no id prefix; the reference says ids start with sesh_/pr_",
    "leap-second": "RFC 3339 allows :60, the SDK's parser (Python datetime) does not",
    "integral-float": "JSON Schema counts 1.0 as an integer; the SDK refuses it",
}

_CONFIG = humanloop.Humanloop(api_key="unused", host="http://127.0.0.1:9").sessions.api_client
_ID_PREFIX = {
    ("session", "id"): "sesh_",
    ("session_created", "id"): "sesh_",
    ("project", "id"): "pr_",
}


def sdk_accepts(model: Any, body: Any) -> bool:
    try:
        model.from_openapi_data_oapg(body, _configuration=_CONFIG.configuration)
    except Exception:  # ApiTypeError, ApiValueError, SchemaValidationError, ...
        return False
    return True


def sdk_parses_date_time(text: str) -> bool:
    """What the SDK's `DateTimeSchema` runs on a `created_at` (its isoparser)."""
    try:
        sdk_schemas.DEFAULT_ISOPARSER.parse_isodatetime(text)
    except (ValueError, OverflowError):
        return False
    return True


# -- ISO 8601 date-times the SDK reads (the default profile's date-time) ------------------

_2 = st.integers(0, 99).map("{:02d}".format)


@st.composite
def iso_date_times(draw: st.DrawFn) -> str:
    """A complete date (calendar, week or ordinal), a separator, a time, maybe an offset."""
    year = draw(st.integers(1, 9998))
    month, day = draw(st.integers(1, 12)), draw(st.integers(1, 28))
    date = draw(
        st.sampled_from(
            [
                f"{year:04d}-{month:02d}-{day:02d}",
                f"{year:04d}{month:02d}{day:02d}",
                f"{year:04d}-W{draw(st.integers(1, 52)):02d}-{draw(st.integers(1, 7))}",
                f"{year:04d}-{draw(st.integers(1, 365)):03d}",  # extended only: see _sdk_only
            ]
        )
    )
    hour, minute, second = draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(_2)
    second = f"{min(int(second), 59):02d}"
    fraction = draw(st.sampled_from(["", ".5", ",25", ".789012", ".123456789"]))
    time = draw(
        st.sampled_from(
            [
                f"{hour:02d}:{minute:02d}:{second}{fraction}",
                f"{hour:02d}{minute:02d}{second}{fraction}",
                f"{hour:02d}:{minute:02d}",
                f"{hour:02d}",
            ]
        )
    )
    offset = draw(st.sampled_from(["", "Z", "z", "+00:00", "-08:00", "+0530", "+05"]))
    return date + draw(st.sampled_from("Tt ")) + time + offset


# -- bodies from the SDK's models ---------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def _resolve(cls: Any) -> Any:
    # Generated models name some properties through a staticmethod (forward references).
    return cls if isinstance(cls, type) else cls()


def strategy_for(cls: Any, owner: str, field: str = "") -> st.SearchStrategy[Any]:
    """Values the SDK's schema class `cls` accepts (for `field` of `owner`)."""
    cls = _resolve(cls)
    meta: Any = getattr(cls, "MetaOapg", None)
    if issubclass(cls, sdk_schemas.DateTimeSchema):
        return iso_date_times()
    if issubclass(cls, sdk_schemas.StrSchema):
        prefix = _ID_PREFIX.get((owner, field), "")
        return st.text(st.characters(codec="utf-8"), max_size=8).map(prefix.__add__)
    if issubclass(cls, sdk_schemas.IntSchema):
        return st.integers(-(2**40), 2**40)
    if issubclass(cls, sdk_schemas.ComposedSchema):  # ValidationErrorLoc's items: str or int
        return st.text(max_size=6)  # integers: KNOWN_SDK_EXCEPTIONS["loc-integers"]
    if issubclass(cls, sdk_schemas.ListSchema):
        return st.lists(strategy_for(meta.items, _owner(meta.items, owner)), max_size=3)
    if meta is not None and hasattr(meta, "properties"):
        return _object(cls, owner)
    if issubclass(cls, sdk_schemas.DictSchema):
        return st.dictionaries(st.text(max_size=5), _JSON, max_size=3)
    raise AssertionError(f"no strategy for {cls}")


def _owner(cls: Any, default: str) -> str:
    name = getattr(_resolve(cls), "__name__", "")
    return {"SessionProjectResponse": "project", "SessionResponse": "session"}.get(name, default)


def _object(cls: Any, owner: str) -> st.SearchStrategy[dict[str, Any]]:
    properties = {
        name: _resolve(value) for name, value in cls.MetaOapg.properties.__annotations__.items()
    }
    required: set[str] = getattr(cls.MetaOapg, "required", set())
    fields = {
        name: strategy_for(value, _owner(value, owner), name) for name, value in properties.items()
    }
    extra = st.dictionaries(
        st.text(string.ascii_lowercase, min_size=1, max_size=6).filter(
            lambda key: key not in properties
        ),
        _JSON,
        max_size=2,
    )
    return st.fixed_dictionaries(
        {k: v for k, v in fields.items() if k in required},
        optional={k: v for k, v in fields.items() if k not in required},
    ).flatmap(lambda body: extra.map(lambda more: {**more, **body}))


def bodies(name: str, model: Any) -> st.SearchStrategy[Any]:
    return strategy_for(model, name)


# -- one violation, injected -------------------------------------------------------------

Parts = tuple[str | int, ...]


def locations(
    cls: Any, value: Any, parts: Parts = (), owner: str = ""
) -> list[tuple[Parts, Any, bool, str]]:
    """(path, schema class, required?, owner) of every property present in `value`."""
    cls = _resolve(cls)
    meta: Any = getattr(cls, "MetaOapg", None)
    found: list[tuple[Parts, Any, bool, str]] = []
    if issubclass(cls, sdk_schemas.ListSchema) and not issubclass(cls, sdk_schemas.ComposedSchema):
        for index, item in enumerate(value):
            found += locations(meta.items, item, (*parts, index), _owner(meta.items, owner))
    elif meta is not None and hasattr(meta, "properties"):
        for name, sub in meta.properties.__annotations__.items():
            if name in value:
                required = name in getattr(meta, "required", set())
                found.append(((*parts, name), _resolve(sub), required, owner))
                found += locations(sub, value[name], (*parts, name), _owner(sub, owner))
    return found


def wrong_values(cls: Any, owner: str, field: str) -> list[tuple[Any, str]]:
    """(a value the contract forbids here, the rule our schema names for it)."""
    if issubclass(cls, sdk_schemas.DateTimeSchema):
        return [
            ("yesterday", "format"),
            ("2024-05-01", "format"),
            ("2024-02-30T00:00:00", "format"),
            (1714566896, "type"),
        ]
    if issubclass(cls, sdk_schemas.StrSchema):
        wrong = [(7, "type"), (True, "type"), (["x"], "type")]
        if (owner, field) in _ID_PREFIX:
            wrong.append(("x" + _ID_PREFIX[(owner, field)], "pattern"))
        return wrong
    if issubclass(cls, sdk_schemas.IntSchema):
        return [("3", "type"), (1.5, "type"), (True, "type")]
    if issubclass(cls, sdk_schemas.ListSchema):
        return [({}, "type"), ("x", "type")]
    return [("x", "type"), ([], "type"), (0, "type")]


def _set(body: Any, parts: Parts, value: Any) -> Any:
    body = copy.deepcopy(body)
    parent = body
    for part in parts[:-1]:
        parent = parent[part]
    if value is _DELETE:
        del parent[parts[-1]]
    else:
        parent[parts[-1]] = value
    return body


_DELETE = object()


@st.composite
def injected(draw: st.DrawFn, name: str, model: Any) -> tuple[Any, str, str, bool]:
    """(a body with one violation, its JSON path, the rule, whether the SDK refuses it)."""
    body = draw(bodies(name, model))
    spots = locations(model, body, (), name)
    if not spots:  # an empty 422 body: only a wrong type of the whole can be injected
        return draw(st.sampled_from([[], "x", 0])), "$", "type", True
    parts, cls, required, owner = draw(st.sampled_from(spots))
    choices: list[tuple[Any, str]] = wrong_values(cls, owner, str(parts[-1]))
    if required:
        choices.append((_DELETE, "required"))
    value, rule = draw(st.sampled_from(choices))
    path = json_path(parts[:-1] if rule == "required" else parts)
    sdk_refuses = rule != "pattern"  # KNOWN_SDK_EXCEPTIONS["id-prefix"]
    return _set(body, parts, value), path, rule, sdk_refuses


# -- the agreement ------------------------------------------------------------------------


def _found(name: str, body: Any) -> list[tuple[str, str]]:
    return [(v.path, v.keyword) for v in SchemaSet.default().check(name, body)]


@pytest.mark.parametrize(("name", "model"), MODELS, ids=[n for n, _ in MODELS])
def test_every_body_the_sdk_accepts_passes_the_default_check(name: str, model: Any) -> None:
    @BOUNDED
    @given(bodies(name, model))
    def check(body: Any) -> None:
        assert sdk_accepts(model, body), body  # the generator follows the SDK's models
        assert _found(name, body) == []

    check()


@pytest.mark.parametrize(("name", "model"), MODELS, ids=[n for n, _ in MODELS])
def test_one_injected_violation_fails_at_its_path_and_the_sdk_agrees(name: str, model: Any) -> None:
    @BOUNDED
    @given(injected(name, model))
    def check(case: tuple[Any, str, str, bool]) -> None:
        body, path, rule, sdk_refuses = case
        assert _found(name, body) == [(path, rule)]
        assert sdk_accepts(model, body) is not sdk_refuses, body

    check()


@BOUNDED
@given(iso_date_times())
def test_iso_date_times_the_sdk_reads_pass_the_default_check(text: str) -> None:
    assert sdk_parses_date_time(text), text
    assert is_iso_date_time(text)


_NEAR = st.text(alphabet="0123456789-:TtWZz.,+ ", min_size=8, max_size=30)


def _mutations(text: str) -> st.SearchStrategy[str]:
    where = st.integers(0, len(text))
    char = st.sampled_from("0123456789-:T.Z ")
    return st.one_of(
        st.tuples(where, char).map(lambda wc: text[: wc[0]] + wc[1] + text[wc[0] :]),
        where.map(lambda w: text[:w] + text[w + 1 :]),
        st.tuples(where, char).map(lambda wc: text[: wc[0]] + wc[1] + text[wc[0] + 1 :]),
    )


_DATE_FORMS = re.compile(r"\d{4}-\d{2}-\d{2}|\d{8}|\d{4}-W\d{2}-\d|\d{4}W\d{3}|\d{4}-\d{3}")
_CLOCK_FORMS = re.compile(
    r"\d{2}(?::\d{2}(?::\d{2}(?:[.,]\d+)?)?|\d{2}(?:\d{2}(?:[.,]\d+)?)?)?(?=[Zz+-]|$)"
)
_OFFSET_FORMS = re.compile(r"(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?")


def sdk_leniency(text: str) -> str | None:
    """Which of the SDK parser's leniencies (not ISO 8601) `text` needs, if any.

    dateutil's isoparser takes any character between date and time, reads numbers
    with int() (so signs and spaces pass, and a last field cut short), a date
    without its day before a time, and some basic ordinal dates. The forms of ISO
    8601 are checked here, not the values: a date-time of the right forms that the
    SDK takes and hl-testkit refuses is a real disagreement.
    """
    date = _DATE_FORMS.match(text)
    if date is None or _DATE_FORMS.fullmatch(text[: date.end() + 1]):
        return "date form"
    rest = text[date.end() :]
    if rest[:1] not in ("T", "t", " "):
        return "separator"
    clock = _CLOCK_FORMS.match(rest, 1)
    if clock is None:
        return "time form"
    if not _OFFSET_FORMS.fullmatch(rest, clock.end()):
        return "offset form"
    return None


@BOUNDED
@given(st.one_of(_NEAR, iso_date_times().flatmap(_mutations)))
def test_date_time_agrees_with_the_sdk_both_ways(text: str) -> None:
    ours, sdk = is_iso_date_time(text), sdk_parses_date_time(text)
    if ours and not sdk:  # only RFC 3339's leap second or year 0, which Python cannot hold
        assert is_date_time(text), text
        assert text[17:19] == "60" or text.startswith("0000"), text
    if sdk and not ours:
        assert sdk_leniency(text) is not None, text


# -- the bodies of issue #14, and the known exceptions --------------------------------------

_SESSION: dict[str, Any] = {
    "id": "sesh_1",
    "projects": [{"id": "pr_1", "name": "n"}],
    "datapoints_count": 3,
    "created_at": "2024-05-01T12:34:56Z",
}
_PAGE: dict[str, Any] = {"records": [_SESSION], "page": 1, "size": 10, "total": 1}

#: Bodies the SDK accepts that hl-testkit's check refused before: the default profile
#: passes each; the strict profile refuses each at its path, with its rule.
CONTRACT_ALLOWS: list[tuple[str, Any, Any, str, str]] = [
    (
        "session",
        SessionResponse,
        {**_SESSION, "created_at": "2024-05-01T12:34:56.789012"},
        "$.created_at",
        "format",
    ),
    (
        "session",
        SessionResponse,
        {**_SESSION, "created_at": "2024-05-01T12:34:56"},
        "$.created_at",
        "format",
    ),
    ("session", SessionResponse, {**_SESSION, "id": "sesh_a.b"}, "$.id", "pattern"),
    (
        "session",
        SessionResponse,
        {**_SESSION, "projects": [{"id": "pr_a.b", "name": "n"}]},
        "$.projects[0].id",
        "pattern",
    ),
    (
        "session",
        SessionResponse,
        {**_SESSION, "datapoints_count": -1},
        "$.datapoints_count",
        "minimum",
    ),
    ("session_page", PaginatedDataSessionResponse, {**_PAGE, "page": 0}, "$.page", "minimum"),
    ("session_page", PaginatedDataSessionResponse, {**_PAGE, "total": -1}, "$.total", "minimum"),
    ("validation_error", HTTPValidationError, {}, "$", "required"),
    (
        "validation_error",
        HTTPValidationError,
        {"detail": [{"loc": ["query"], "msg": "m", "type": "t", "ctx": "x"}]},
        "$.detail[0].ctx",
        "type",
    ),
]


@pytest.mark.parametrize(("name", "model", "body", "path", "rule"), CONTRACT_ALLOWS)
def test_what_the_contract_allows_passes_by_default_and_is_strict_drift(
    name: str, model: Any, body: Any, path: str, rule: str
) -> None:
    assert sdk_accepts(model, body)
    assert _found(name, body) == []
    strict = SchemaSet.default("strict")
    assert [(v.path, v.keyword) for v in strict.check(name, body)] == [(path, rule)]
    assert [(d.path, d.keyword) for d in SchemaSet.default().strict_drift(name, body)] == [
        (path, rule)
    ]


#: (exception, schema, SDK model, body): hl-testkit's default accepts, the SDK refuses.
_EXCEPTIONS: list[tuple[str, str, Any, Any]] = [
    (
        "loc-integers",
        "validation_error",
        HTTPValidationError,
        {"detail": [{"loc": ["query", "page", 0], "msg": "m", "type": "t"}]},
    ),
    ("null-optional", "session", SessionResponse, {**_SESSION, "reference_id": None}),
    ("null-optional", "session", SessionResponse, {**_SESSION, "first_inputs": None}),
    ("null-optional", "validation_error", HTTPValidationError, {"detail": None}),
    ("leap-second", "session", SessionResponse, {**_SESSION, "created_at": "1998-12-31T23:59:60Z"}),
    ("integral-float", "session", SessionResponse, {**_SESSION, "datapoints_count": 3.0}),
]


@pytest.mark.parametrize(("exception", "name", "model", "body"), _EXCEPTIONS)
def test_known_sdk_exceptions(exception: str, name: str, model: Any, body: Any) -> None:
    assert exception in KNOWN_SDK_EXCEPTIONS
    assert not sdk_accepts(model, body)
    assert _found(name, body) == []


def test_the_sdk_checks_no_id_prefix_but_the_reference_does() -> None:
    body = {**_SESSION, "id": "x"}
    assert sdk_accepts(SessionResponse, body)  # KNOWN_SDK_EXCEPTIONS["id-prefix"]
    assert _found("session", body) == [("$.id", "pattern")]
