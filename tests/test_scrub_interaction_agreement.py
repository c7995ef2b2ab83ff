"""`scrub.scrub_interaction`'s shortcuts give exactly what the straightforward scrub gave.

Recording scrubs every exchange, so `scrub_interaction` takes shortcuts:

* a header's (name, value) is scrubbed once per secrets and rules
  (`_Context.header_value`), then looked up;
* a body's Content-Encoding and Content-Type are read in one pass
  (`_body_headers`), not looked up twice;
* the context for the same secrets and rules is found by comparing with the last
  one (`_last`), before hashing.

`reference_scrub_interaction` below is the scrub as it was (every value scrubbed,
every header looked up by a scan): both must give the same interaction, on generated
exchanges holding secrets in every encoding the scrubber knows, in headers (repeated,
in any case), URIs, bodies (JSON, form, gzip) and reasons. And no shortcut may let a
secret through: not a value remembered for other secrets, nor a secret added to the
same list in place.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hl_testkit.cassettes.model import Headers, Interaction, RecordedRequest, RecordedResponse
from hl_testkit.secrets import scrub
from hl_testkit.secrets.scrub import ScrubRules, Secret

KEY = "hl_sk_agree/ment+key=0123"
OTHER = "sk-other-secret-value-42"
SECRETS = [Secret("HUMANLOOP_API_KEY", KEY), Secret("OPENAI_API_KEY", OTHER)]


def _header(headers: Headers, name: str) -> str:
    values = [v for k, v in headers.items() if k.lower() == name]
    return ", ".join(v if isinstance(v, str) else ", ".join(v) for v in values)


def _reference_body(body: bytes | None, headers: Headers, ctx: Any) -> bytes | None:
    if not body:
        return body
    codings = [c.strip().lower() for c in _header(headers, "content-encoding").split(",")]
    for coding in reversed([c for c in codings if c and c != "identity"]):
        body = scrub._decompress(coding, body)
    redacted = scrub._redact_named_by(body, _header(headers, "content-type"), ctx.rules)
    return ctx.replace.data(redacted)  # type: ignore[no-any-return]


def _reference_headers(headers: Headers, body_changed: bool, ctx: Any) -> Headers:
    scrubbed: Headers = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower == "content-encoding" or (lower == "content-length" and body_changed):
            continue
        if isinstance(value, str):
            scrubbed[name] = scrub._scrub_header_value(name, value, ctx)
        else:
            scrubbed[name] = [scrub._scrub_header_value(name, v, ctx) for v in value]
    return scrubbed


def reference_scrub_interaction(
    interaction: Interaction, secrets: list[Secret], rules: ScrubRules
) -> Interaction:
    """`scrub.scrub_interaction` before its shortcuts, kept as the oracle (a fresh
    context: nothing remembered)."""
    merged = {s.value: s for s in scrub.known_secrets({}, extra=rules.values)}
    for secret in secrets:
        merged.setdefault(secret.value, secret)
    ordered = sorted(merged.values(), key=lambda s: (-len(s.value), s.source))
    ctx = scrub._Context(rules, scrub._Replacer(tuple(ordered)))
    req, resp = interaction.request, interaction.response
    body = _reference_body(req.body, req.headers, ctx)
    request = RecordedRequest(
        method=req.method,
        uri=scrub._scrub_uri(req.uri, ctx),
        headers=_reference_headers(req.headers, req.body != body, ctx),
        body=body,
    )
    answer = _reference_body(resp.body, resp.headers, ctx) or b""
    response = RecordedResponse(
        status=resp.status,
        reason=ctx.replace.text(resp.reason),
        headers=_reference_headers(resp.headers, resp.body != answer, ctx),
        body=answer,
    )
    return Interaction(request, response)


# -- generated exchanges --------------------------------------------------------------

_FORMS = sorted(scrub.secret_forms(KEY) | scrub.secret_forms(OTHER))
_TEXT = st.one_of(
    st.sampled_from(["application/json", "", " ", "gzip", "identity", "x", "<REDACTED>"]),
    st.sampled_from(_FORMS),
    st.builds(lambda a, f, b: f"{a}{f}{b}", st.text(max_size=3), st.sampled_from(_FORMS),
              st.text(max_size=3)),
    st.builds(lambda f: f"Bearer {f}", st.sampled_from(_FORMS)),
)  # fmt: skip
_NAMES = st.sampled_from(
    ["Accept", "accept", "Content-Type", "content-type", "CONTENT-TYPE", "X-Api-Key",
     "Authorization", "Location", "Set-Cookie", "Content-Length", "X-Note", "x-note",
     "WWW-Authenticate"]
)  # fmt: skip
_VALUE = _TEXT | st.lists(_TEXT, min_size=1, max_size=2)
_HEADERS = st.dictionaries(_NAMES, _VALUE, max_size=5)
_CONTENT_TYPES = st.sampled_from(
    ["application/json", "application/x-www-form-urlencoded", "text/plain", ""]
)
_JSON = st.recursive(
    st.none() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["id", "token", "api_key", "note", "data"]), inner,
                      max_size=3),
    max_leaves=8,
)  # fmt: skip


@st.composite
def _parts(draw: Any) -> tuple[Headers, bytes | None]:
    """Headers and the body they describe: JSON, a form or text, maybe gzip'd."""
    headers: Headers = draw(_HEADERS)
    content_type = draw(_CONTENT_TYPES)
    if content_type:
        headers[draw(st.sampled_from(["Content-Type", "content-type"]))] = content_type
    kind = draw(st.sampled_from(["none", "json", "form", "text"]))
    body: bytes | None = None
    if kind == "json":
        body = json.dumps(draw(_JSON), ensure_ascii=draw(st.booleans())).encode()
    elif kind == "form":
        body = f"token={draw(_TEXT)}&name={draw(_TEXT)}".encode()
    elif kind == "text":
        body = draw(_TEXT).encode()
    if body and draw(st.booleans()):
        body = gzip.compress(body, mtime=0)
        headers[draw(st.sampled_from(["Content-Encoding", "content-encoding"]))] = "gzip"
    return headers, body


@st.composite
def _interactions(draw: Any) -> Interaction:
    request_headers, request_body = draw(_parts())
    response_headers, response_body = draw(_parts())
    query = draw(st.sampled_from(["", "?api_key=", "?state=", "?page=2&token="]))
    return Interaction(
        RecordedRequest(
            method="POST",
            uri=f"https://api.humanloop.com/v4/sessions{query}{draw(_TEXT)}",
            headers=request_headers,
            body=request_body,
        ),
        RecordedResponse(
            status=200,
            reason=draw(_TEXT),
            headers=response_headers,
            body=response_body or b"",
        ),
    )


_RULES = [
    scrub.DEFAULT_RULES,
    ScrubRules(header_names=("x-note",), values={"EXTRA": "extra-value"}),
]


@settings(max_examples=400, deadline=None)
@given(st.lists(_interactions(), min_size=1, max_size=3), st.sampled_from(_RULES))
def test_scrub_interaction_agrees_with_the_reference(
    interactions: list[Interaction], rules: ScrubRules
) -> None:
    # Several in a row: the later ones meet what the earlier ones left remembered.
    for interaction in interactions:
        assert scrub.scrub_interaction(interaction, SECRETS, rules) == (
            reference_scrub_interaction(interaction, SECRETS, rules)
        )


# -- what no shortcut may let through ---------------------------------------------------


def _leaks(interaction: Interaction, secrets: list[Secret]) -> list[scrub.Leak]:
    """The leaks in every part of `interaction`, each on a line of its own, as it is (a
    repr would escape what it holds once more)."""
    parts = [interaction.request.uri, interaction.response.reason]
    for headers in (interaction.request.headers, interaction.response.headers):
        for name, value in headers.items():
            parts += [name, *([value] if isinstance(value, str) else value)]
    text = "\n".join(parts).encode() + b"\n" + (interaction.request.body or b"")
    return scrub.find_leaks(text + b"\n" + interaction.response.body, secrets)


def test_a_header_value_remembered_for_other_secrets_is_scrubbed_for_these() -> None:
    """The same header value, first scrubbed when the secret in it was unknown (kept as
    it was), then with it known: every form of it is replaced the second time."""
    late = Secret("LATE_SECRET", "late-secret-value-99")
    for form in sorted(scrub.secret_forms(late.value)):
        headers: Headers = {"X-Note": f"a {form} b", "Accept": form}
        exchange = Interaction(
            RecordedRequest("GET", "https://api.humanloop.com/v4/x", headers, None),
            RecordedResponse(200, "OK", dict(headers), b"{}"),
        )
        before = scrub.scrub_interaction(exchange, SECRETS)
        assert before.request.headers == headers  # unknown then: left as it was
        after = scrub.scrub_interaction(exchange, [*SECRETS, late])
        assert not _leaks(after, [late]), form
        assert "<LATE_SECRET>" in after.request.headers["Accept"]


def test_a_secret_added_to_the_same_list_is_scrubbed() -> None:
    """The last context is reused only for equal secrets: a list grown in place (the
    same object) gets a new one."""
    secrets = list(SECRETS)
    value = "in-place-secret-777"
    headers: Headers = {"X-Note": value}
    exchange = Interaction(
        RecordedRequest("GET", f"https://api.humanloop.com/v4/x?q={value}", headers, None),
        RecordedResponse(200, value, dict(headers), json.dumps({"v": value}).encode()),
    )
    assert scrub.scrub_interaction(exchange, secrets).response.reason == value
    secrets.append(Secret("IN_PLACE", value))
    scrubbed = scrub.scrub_interaction(exchange, secrets)
    assert not _leaks(scrubbed, [Secret("IN_PLACE", value)])
    assert scrubbed.response.reason == "<IN_PLACE>"
    assert scrub.scrub_uri(exchange.request.uri, secrets).endswith("q=<IN_PLACE>")


def test_a_secret_in_every_encoding_in_every_part_is_scrubbed() -> None:
    """Each form of each secret, in each part of an exchange, scrubbed twice in a row (the
    second time from what the first remembered): none is left."""
    for form in _FORMS:
        for name in ("Accept", "X-Note", "Location", "Set-Cookie"):
            body = f'{{"note": "x{form}x"}}'.encode()
            headers: Headers = {name: f"x{form}x", "Content-Type": "application/json"}
            exchange = Interaction(
                RecordedRequest("POST", f"https://api.humanloop.com/v4/x?n={form}", headers,
                                body),
                RecordedResponse(200, form, dict(headers), gzip.compress(body, mtime=0)),
            )  # fmt: skip
            exchange.response.headers["Content-Encoding"] = "gzip"
            for _ in range(2):
                assert not _leaks(scrub.scrub_interaction(exchange, SECRETS), SECRETS), (form, name)


@settings(max_examples=300, deadline=None)
@given(_interactions(), st.sampled_from(_RULES))
def test_a_body_scrubbed_for_the_key_is_the_body_scrubbed_here(
    interaction: Interaction, rules: ScrubRules
) -> None:
    # The record adapter hands `scrub_interaction` the request body `Recording.key_and_uri`
    # scrubbed for the key (`scrub_body`, the request's own headers): the same interaction.
    request = interaction.request
    clean_body = scrub.scrub_body(request.body, request.headers, SECRETS, rules)
    assert scrub.scrub_interaction(interaction, SECRETS, rules, clean_body=clean_body) == (
        reference_scrub_interaction(interaction, SECRETS, rules)
    )


def test_what_the_context_remembers_is_never_shown() -> None:
    """The remembered header values are raw (a secret among them): a context shown in a
    traceback's locals shows none of them."""
    exchange = Interaction(
        RecordedRequest("GET", "https://api.humanloop.com/v4/x", {"X-Api-Key": KEY}, None),
        RecordedResponse(200, "OK", {"X-Note": f"k={OTHER}"}, b""),
    )
    scrub.scrub_interaction(exchange, SECRETS)
    ctx = scrub._context(SECRETS, scrub.DEFAULT_RULES)
    assert ("X-Api-Key", KEY) in ctx.header_values  # remembered, so the repr is tested
    assert not scrub.find_leaks(repr(ctx), SECRETS)
