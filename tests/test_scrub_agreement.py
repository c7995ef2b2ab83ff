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

from hypothesis import given, settings
from hypothesis import strategies as st

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
