"""The fast redaction of credential fields gives exactly what the straightforward walk gave.

`scrub._redact_json` looks each field name up in a per-rules table
(`scrub._FieldNames`) instead of matching it again, and skips the scalars outside
any credential field without a call. `reference_redact` below is the walk as it was:
both must return the same value, and the same object when nothing changed (an
untouched body keeps its exact bytes), on generated JSON with credential-named
fields at every depth.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hl_testkit.cassettes.model import Headers, Interaction, RecordedRequest, RecordedResponse
from hl_testkit.secrets import scrub
from hl_testkit.secrets.scrub import REDACTED, ScrubRules


def reference_redact(value: Any, rules: ScrubRules, inside: bool) -> Any:
    """`scrub._redact_json` before it was optimized, kept as the oracle."""
    if isinstance(value, dict):
        changed: dict[Any, Any] | None = None
        for k, v in value.items():
            new = reference_redact(v, rules, inside or rules.is_secret_field(str(k)))
            if new is not v:
                if changed is None:
                    changed = dict(value)
                changed[k] = new
        return value if changed is None else changed
    if isinstance(value, list):
        items: list[Any] | None = None
        for n, v in enumerate(value):
            new = reference_redact(v, rules, inside)
            if new is not v:
                if items is None:
                    items = list(value)
                items[n] = new
        return value if items is None else items
    if inside and isinstance(value, str) and value and value != REDACTED:
        return REDACTED
    return value


_NAMES = st.sampled_from(
    ["id", "api_key", "Api-Key", "token", "page_token", "max_tokens", "password", "name",
     "provider_api_keys", "secret_key", "credentials", "sort_key", "x", " token ", "OPENAI_API_KEY"]
)  # fmt: skip
_SCALARS = st.none() | st.booleans() | st.integers() | st.sampled_from(["", REDACTED, "v", "0"])
_JSON = st.recursive(
    _SCALARS | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_NAMES, inner, max_size=4),
    max_leaves=25,
)
_RULES = [
    scrub.DEFAULT_RULES,
    ScrubRules(field_names=("name", "*_key"), name_keep=("sort_key",)),
]


@settings(max_examples=500, deadline=None)
@given(_JSON, st.sampled_from(_RULES), st.booleans())
def test_redaction_agrees_with_the_reference(value: Any, rules: ScrubRules, inside: bool) -> None:
    # A copy for each: the two must not see each other's objects.
    mine, theirs = json.loads(json.dumps(value)), json.loads(json.dumps(value))
    fast = scrub._redact_json(mine, scrub._field_names(rules.field_names, rules.name_keep), inside)
    slow = reference_redact(theirs, rules, inside)
    assert fast == slow
    assert (fast is mine) == (slow is theirs)  # untouched: the very object, so the bytes stay


def test_the_agreement_test_redacts_and_keeps() -> None:
    """The generated kind of value is both changed and left alone (the property compares
    something), and the table remembers a name only for the rules it was decided by."""
    value = {"page_token": "p", "data": [{"api_key": "k", "id": 1}], "name": "n"}
    default = scrub._field_names(scrub.DEFAULT_RULES.field_names, scrub.DEFAULT_RULES.name_keep)
    redacted = scrub._redact_json(value, default, False)
    assert redacted == {"page_token": "p", "data": [{"api_key": REDACTED, "id": 1}], "name": "n"}
    other = _RULES[1]
    by_name = scrub._redact_json(
        value, scrub._field_names(other.field_names, other.name_keep), False
    )
    assert by_name == {
        "page_token": "p",
        "data": [{"api_key": REDACTED, "id": 1}],
        "name": REDACTED,
    }
    untouched = {"id": 1, "items": [1, "a", None]}
    assert scrub._redact_json(untouched, scrub._field_names((), ()), True) is not untouched
    assert scrub._redact_json(untouched, scrub._field_names((), ()), False) is untouched


# -- the shortcut past the parse: a body that cannot name a credential field ----------------

_TRICKY_NAMES = st.sampled_from(
    ["id", "token", "TOKEN", " token ", "Api-Key", "API_KEY", "page_token", "max_tokens",
     "to\u212aen", "pass\u00adword", "provider-api-keys", "x_secret", "sort_key", "key",
     "na\"me", "t\\oken", "\u00e9", "client_secret_x"]
)  # fmt: skip
_TRICKY_JSON = st.recursive(
    _SCALARS | st.text(max_size=4) | st.sampled_from(["token", "api_key", "-_-"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TRICKY_NAMES, inner, max_size=4),
    max_leaves=20,
)
_SHORTCUT_RULES = [
    *_RULES,
    ScrubRules(field_names=("t?ken", "[ab]pi_key")),  # patterns the shortcut leaves alone
    ScrubRules(field_names=()),
]


def _encoded(value: Any, how: str) -> bytes:
    """`value` as JSON bytes in one of the spellings a body may use."""
    if how == "utf-16":
        return json.dumps(value).encode("utf-16")
    if how == "escaped":  # every letter t as \u0074: the key `token` hidden from a byte search
        return json.dumps(value).replace("t", "\\u0074").encode("utf-8")
    if how == "indented":
        return json.dumps(value, indent=1, ensure_ascii=False).encode("utf-8")
    return json.dumps(value, ensure_ascii=how == "ascii", separators=(",", ":")).encode("utf-8")


@settings(max_examples=600, deadline=None)
@given(_TRICKY_JSON, st.sampled_from(["ascii", "utf-8", "utf-16", "escaped", "indented"]),
       st.sampled_from(_SHORTCUT_RULES))  # fmt: skip
def test_the_shortcut_past_the_parse_changes_nothing(
    value: Any, how: str, rules: ScrubRules
) -> None:
    body = _encoded(value, how)
    parsed = scrub._redact_json_body(body, rules)
    assert scrub._redact_named_by(body, "application/json", rules) == parsed
    if not scrub._may_name_a_field(body, rules):
        assert parsed == body  # skipped only where the parse changes nothing


@pytest.mark.parametrize(
    "body",
    [
        b'{"TOKEN": "hidden-value-1"}',
        b'{"data": [{" Api-Key ": "hidden-value-1"}]}',
        b'{"\\u0074oken": "hidden-value-1"}',  # the name escaped
        '{"to\u212aen": "hidden-value-1"}'.encode(),  # a Kelvin sign lowercases to k
        '{"token": "hidden-value-1"}'.encode("utf-16"),  # json.loads detects UTF-16
        '{"token": "hidden-value-1"}'.encode("utf-32"),
        b'{"provider_api_keys": {"openai": "hidden-value-1"}}',
    ],
)
def test_a_credential_field_in_any_spelling_is_still_redacted(body: bytes) -> None:
    """The shortcut never skips a body naming a credential field, however it is spelt:
    the value (not a known secret: only the name can catch it) is gone, in request and
    response bodies alike."""
    headers: Headers = {"Content-Type": "application/json"}
    interaction = Interaction(
        RecordedRequest("POST", "https://api.humanloop.com/v4/sessions", headers, body),
        RecordedResponse(200, "OK", headers, body),
    )
    scrubbed = scrub.scrub_interaction(interaction, [])
    for kept in (scrubbed.request.body, scrubbed.response.body):
        assert kept is not None
        assert b"hidden-value-1" not in kept
        assert REDACTED.encode() in kept
    assert scrub._may_name_a_field(body, scrub.DEFAULT_RULES)


def test_a_body_without_credential_fields_is_not_parsed() -> None:
    """The shortcut is taken (it is what the recording path gains) for an answer whose
    text holds no credential name's plain run; any that does is parsed, a name or not."""
    body = b'{"id": "sesh_1", "kind": "A-B", "inputs": {"question": "q"}, "n": [1, null]}'
    assert not scrub._may_name_a_field(body, scrub.DEFAULT_RULES)
    for parsed in (b'{"x": {"Api-Key": 1}}', b'{"kind": "token"}', b'{"max_tokens": 3}'):
        assert scrub._may_name_a_field(parsed, scrub.DEFAULT_RULES)


_NEEDLES = st.lists(st.text(alphabet="abk_ey-tokn", min_size=1, max_size=9), max_size=8)


@given(_NEEDLES, st.text(alphabet="abk_ey-tokn ", max_size=40))
def test_the_probes_find_every_text_a_needle_is_in(names: list[str], text: str) -> None:
    """Fewer searches (`_field_probes`) decide as the needles would: each needle holds a
    probe, so a text holding no probe holds no needle (then no field name can match)."""
    needles = scrub._field_needles(tuple(names))
    if needles is None:
        return
    probes = scrub._probes(needles)
    assert all(any(probe in needle for probe in probes) for needle in needles)
    body = text.encode("ascii")
    if any(needle in body for needle in needles):
        assert any(probe in body for probe in probes)
    rules = ScrubRules(field_names=tuple(names))
    assert scrub._may_name_a_field(body, rules) == any(needle in body.replace(b"-", b"_")
                                                        for needle in needles)  # fmt: skip


def test_the_default_names_take_fewer_searches() -> None:
    needles = scrub._field_needles(scrub.DEFAULT_RULES.field_names)
    probes = scrub._field_probes(scrub.DEFAULT_RULES.field_names)
    assert needles is not None
    assert probes is not None
    assert len(probes) < len(needles)
    assert b"_key" in probes
    assert b"passw" in probes
