"""Scrubbing secrets out of recorded exchanges, and finding any that got through.

Pure functions, no I/O. Two nets, because either alone misses something:

* by name: header, query-parameter and JSON-field names that conventionally
  carry credentials are redacted whatever their value, which catches keys we
  were never told about;
* by value: every encoding we know of (raw, percent-, form- and JSON-escaped,
  base64) of every known secret is replaced wherever it appears, which catches
  a key echoed in an error message, a redirect or a log line.

Placeholders are fixed text (`<REDACTED>`, `<HUMANLOOP_API_KEY>`), never
derived from the value, so re-recording does not churn and a leaked file
reveals nothing.

Matching on replay: a scrubbed request no longer looks like the live one, so
the replay side must put each live request through `scrub_uri` and
`scrub_body` (same rules) before computing its key. Name-based redaction
writes `<REDACTED>` whatever the value, so it matches whatever key the
replaying machine has, or none. Value-based replacement writes the source's
placeholder (`?state=<HUMANLOOP_API_KEY>`), so it matches only when the
replaying machine knows *some* value for that source; a dummy will do.
"""

from __future__ import annotations

import base64
import copy
import enum
import gzip
import importlib
import json
import math
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from fnmatch import translate
from functools import lru_cache
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus, urlsplit, urlunsplit

from hl_testkit.cassettes.model import Headers, Interaction, RecordedRequest, RecordedResponse
from hl_testkit.errors import HlTestkitError

REDACTED = "<REDACTED>"

#: Shorter values are ignored: replacing "a" or "test" everywhere would wreck
#: a cassette (ids, JSON keys, URLs) while protecting nothing worth a key.
MIN_SECRET_LENGTH = 6

#: Environment variables whose values are always secrets. Includes every label
#: of `hl_testkit.client.PROVIDER_KEY_ARGS` (a test keeps the two in step).
DEFAULT_SECRET_ENV: tuple[str, ...] = (
    "HUMANLOOP_API_KEY",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "COHERE_API_KEY",
    "AI21_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "OPENAI_AZURE_API_KEY",
    "OPENAI_AZURE_ENDPOINT_API_KEY",
    "MOCK_API_KEY",
)

_EMPTY: Mapping[str, str] = MappingProxyType({})

ScrubFunction = Callable[[Interaction], Interaction]


class ScrubError(HlTestkitError):
    """A body could not be decoded, so it could not be checked for secrets."""


# -- secrets ------------------------------------------------------------------------


@dataclass(frozen=True)
class Secret:
    source: str  # where the value came from, e.g. "HUMANLOOP_API_KEY"
    value: str = field(repr=False)  # repr=False: a Secret in a traceback leaks nothing

    @property
    def placeholder(self) -> str:
        return f"<{self.source}>"


def known_secrets(
    env: Mapping[str, str],
    extra_env_names: Iterable[str] = (),
    extra: Mapping[str, str] = _EMPTY,
) -> list[Secret]:
    """The secrets in `env` (the usual key variables plus `extra_env_names`) and `extra`.

    Longest first, so a key that contains another is replaced whole. A value
    seen twice keeps its first label. Values under `MIN_SECRET_LENGTH` are dropped.
    """
    candidates = [(name, env.get(name, "")) for name in (*DEFAULT_SECRET_ENV, *extra_env_names)]
    candidates += list(extra.items())
    found: dict[str, Secret] = {}
    for source, value in candidates:
        value = (value or "").strip()  # `export KEY=$(cat file)` keeps a newline
        if len(value) >= MIN_SECRET_LENGTH and value not in found:
            found[value] = Secret(source, value)
    return sorted(found.values(), key=lambda s: (-len(s.value), s.source))


#: The label of a credential in a base URL's userinfo (`https://user:pass@host/v4`).
USERINFO_SOURCE = "HL_BASE_URL_USERINFO"


def without_userinfo(url: str) -> str:
    """`url` with any `user:password@` taken out: how a URL is shown."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def userinfo_secrets(url: str | None) -> dict[str, str]:
    """The credential in `url`'s userinfo, by `USERINFO_SOURCE`: its password, or its
    user name when there is no password (`https://TOKEN@host` carries a token)."""
    netloc = urlsplit(url or "").netloc
    if "@" not in netloc:
        return {}
    user, colon, password = netloc.rpartition("@")[0].partition(":")
    value = unquote(password if colon else user)
    return {USERINFO_SOURCE: value} if value else {}


def secret_forms(value: str) -> set[str]:
    """Every text `value` may appear as in an HTTP exchange."""
    return {text for _, text in _named_forms(value)}


def _named_forms(value: str) -> list[tuple[str, str]]:
    """(form name, text) pairs, the plainest name first for each distinct text."""
    forms = [("raw", value)]
    for encoded in (quote(value, safe=""), quote(value)):  # safe="/" is quote's default
        forms += [("percent-encoded", encoded), ("percent-encoded", _lower_hex(encoded))]
    plus = quote_plus(value)
    forms += [("form-encoded", plus), ("form-encoded", _lower_hex(plus))]
    escaped = json.dumps(value, ensure_ascii=False)[1:-1]
    forms += [("json-escaped", escaped), ("json-escaped", escaped.replace("/", "\\/"))]
    raw = value.encode("utf-8")
    for name, encode in (("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode)):
        full = encode(raw).decode("ascii")
        plain = [(name, full), (name, full.rstrip("="))]
        for shift in (0, 1, 2):
            core = _base64_core(encode, raw, shift)
            if len(core) >= 8:  # shorter cores could turn up in any base64 by chance
                plain.append(("base64-embedded", core))
        for form, text in plain:  # base64 has `+`, `/`, `=` too: in a URL, in PHP's JSON
            pct = quote(text, safe="")
            forms += [(form, text), (f"percent-encoded {form}", pct)]
            forms += [(f"percent-encoded {form}", _lower_hex(pct))]
            forms += [(f"json-escaped {form}", text.replace("/", "\\/"))]
    unique: dict[str, str] = {}
    for name, text in forms:
        unique.setdefault(text, name)
    return [(name, text) for text, name in unique.items()]


def _lower_hex(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), text)


def _base64_core(encode: Callable[[bytes], bytes], raw: bytes, shift: int) -> str:
    """The characters of base64(prefix + raw) that depend on `raw` alone.

    With `shift` = len(prefix) % 3 these are the same whatever the prefix and
    suffix, so they find the key inside e.g. base64(f"{user}:{key}").
    """
    encoded = encode(b"\0" * shift + raw).decode("ascii")
    start = -(-8 * shift // 6)  # first character made only of key bits
    end = 8 * (shift + len(raw)) // 6  # last one, exclusive
    return encoded[start:end]


#: The base forms that `_any_escaping` patterns are made of; the rest of
#: `_named_forms` are escapings of these, kept for their names.
_BASE_FORMS = frozenset({"raw", "base64", "base64url", "base64-embedded"})


def _any_escaping(text: str) -> str:
    """A regex for `text` with each non-alphanumeric character raw or escaped, in any mix.

    Percent-encoded (either hex case; `+` for a space), JSON-escaped (`\\u002B`,
    `\\/`): a value half-encoded by `quote(key, safe="/=")`, or JSON from an encoder
    that escapes more than it must (.NET, PHP), is none of the fixed forms.
    """
    parts = []
    for char in text:
        if char.isascii() and char.isalnum():
            parts.append(char)
            continue
        escapes = [
            re.escape(char),
            "".join("%" + _any_case(f"{byte:02X}") for byte in char.encode("utf-8")),
            r"\\u" + _any_case(f"{ord(char):04X}"),
        ]
        if char in '"\\/':
            escapes.append(re.escape("\\" + char))
        if char == " ":
            escapes.append(r"\+")
        escapes += _other_escapes(char)
        parts.append(f"(?:{'|'.join(escapes)})")
    return "".join(parts)


#: What Python's repr and `unicode_escape` (and JSON, for the last three) write for these.
_BACKSLASH_ESCAPES = {"'": r"\\'", "\t": r"\\t", "\n": r"\\n", "\r": r"\\r"}


def _other_escapes(char: str) -> list[str]:
    """Python's escapes of `char` (pytest's ids write non-ASCII as `\\xe9`, a repr in a
    failure or a `record_property` value `\\'`), and JSON's surrogate pair for a
    character beyond the BMP."""
    code = ord(char)
    found = [_BACKSLASH_ESCAPES[char]] if char in _BACKSLASH_ESCAPES else []
    if (code < 0x100 and not char.isprintable()) or 0x80 <= code < 0x100:
        found.append(r"\\x" + _any_case(f"{code:02X}"))
    if code > 0xFFFF:
        high, low = divmod(code - 0x10000, 0x400)
        found.append(r"\\U" + _any_case(f"{code:08X}"))
        found.append(
            rf"\\u{_any_case(f'{0xD800 + high:04X}')}\\u{_any_case(f'{0xDC00 + low:04X}')}"
        )
    return found


def _any_case(hex_digits: str) -> str:
    return "".join(f"[{d}{d.lower()}]" if d.isalpha() else d for d in hex_digits)


def _escaped_kind(found: str) -> str:
    if "\\" not in found:
        return ""
    return "python-escaped" if re.search(r"\\[xU']", found) else "json-escaped"


class _Replacer:
    """One regex over every form of every secret: one pass, longest form first."""

    def __init__(self, secrets: tuple[Secret, ...]) -> None:
        self.forms: dict[str, tuple[str, Secret]] = {}
        for secret in secrets:  # longest first: its forms win ties with a shorter key's
            for name, text in _named_forms(secret.value):
                self.forms.setdefault(text, (name, secret))
        # Each base form in any escaping; longest first, so an alternation never stops
        # at a shorter overlapping form. No groups: they would cost sre its fast scan.
        self.bases = sorted(
            (
                (text, name, secret)
                for text, (name, secret) in self.forms.items()
                if name in _BASE_FORMS
            ),
            key=lambda base: len(base[0]),
            reverse=True,
        )
        patterns = [_any_escaping(text) for text, _, _ in self.bases]
        self.base_res = [re.compile(p) for p in patterns]
        self.text_re = re.compile("|".join(patterns)) if patterns else None
        self.bytes_re = re.compile("|".join(patterns).encode("utf-8")) if patterns else None
        self.needed = _needed(text for text, _, _ in self.bases)
        self._found: dict[str, tuple[str, Secret]] = {}

    def _identify(self, found: str) -> tuple[str, Secret]:
        """The form name and the secret of a match (there are few: each is looked up)."""
        if found in self.forms:
            return self.forms[found]
        if found not in self._found:
            _, base, secret = next(
                b for b, r in zip(self.bases, self.base_res, strict=True) if r.fullmatch(found)
            )
            kind = "percent-encoded" if "%" in found else _escaped_kind(found)
            kind = kind or "form-encoded"  # only a `+` for a space sets it apart
            self._found[found] = (kind if base == "raw" else f"{kind} {base}"), secret
        return self._found[found]

    def text(self, text: str) -> str:
        if self.text_re is None:
            return text
        return self.text_re.sub(lambda m: self._identify(m.group())[1].placeholder, text)

    def data(self, data: bytes) -> bytes:
        if self.bytes_re is None:
            return data
        return self.bytes_re.sub(
            lambda m: self._identify(m.group().decode("utf-8"))[1].placeholder.encode("utf-8"),
            data,
        )

    def find(self, data: bytes) -> Iterator[tuple[int, str, Secret]]:
        if self.bytes_re is None or (len(data) >= _LOOK_FIRST and not self._possible(data)):
            return
        for m in self.bytes_re.finditer(data):
            name, secret = self._identify(m.group().decode("utf-8"))
            yield m.start(), name, secret

    def _possible(self, data: bytes) -> bool:
        """Could `bytes_re` match in `data`? Not if some letters-and-digits run of each
        base form is missing: `bytes.find` skips through a cassette many times faster
        than the regex's alternation is tried at each byte."""
        return self.needed is None or any(all(run in data for run in runs) for runs in self.needed)


#: From this length on, `find` looks for the forms' letters before running the regex: on
#: a short text (a decoded layer) the regex is quicker than a dozen `find`s.
_LOOK_FIRST = 4096


def _needed(bases: Iterable[str]) -> tuple[tuple[bytes, ...], ...] | None:
    """For each base form, its runs of ASCII letters and digits, longest first: every
    match holds them as they are (`_any_escaping` escapes no letter or digit). None when
    a form has none, and so nothing a match must hold."""
    needed = []
    for text in bases:
        runs = sorted(set(re.findall(r"[A-Za-z0-9]+", text)), key=len, reverse=True)
        if not runs:
            return None
        needed.append(tuple(run.encode("ascii") for run in runs))
    return tuple(needed)


@lru_cache(maxsize=32)
def _replacer(secrets: tuple[Secret, ...]) -> _Replacer:
    return _Replacer(secrets)


def replacer(secrets: Iterable[Secret]) -> Callable[[str], str]:
    """`scrub_text` for these secrets, made once: for text scrubbed again and again."""
    return _replacer(tuple(secrets)).text


def scrub_text(text: str, secrets: Iterable[Secret]) -> str:
    """`text` with every form of every secret replaced: for error messages and reports."""
    return _replacer(tuple(secrets)).text(text)


# -- rules --------------------------------------------------------------------------

# Names are matched as shell-style patterns (`*_api_key`), ignoring case, and
# with `-` counted as `_`: `X-Api-Key` is `x_api_key`, `api-key` is `api_key`.

#: "session" is not here: it would catch Humanloop's own session ids.
DEFAULT_HEADER_NAMES: tuple[str, ...] = (
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "cookie",
    "set-cookie",
    "*key*",
    "*token*",
    "*secret*",
    "*auth*",
    "*password*",
    "*passwd*",
)
#: Challenges, not credentials: their scheme and realm help debug a 401.
DEFAULT_HEADER_KEEP: tuple[str, ...] = ("www-authenticate", "proxy-authenticate")

_CREDENTIAL_NAMES = (
    "api_key",
    "apikey",
    "*_api_key",
    "*_apikey",
    "token",
    "*_token",  # not `*_tokens`: max_tokens, prompt_tokens stay
    "secret",
    "*_secret",
    "secret_key",
    "*_secret_key",
    "password",
    "*_password",
    "passwd",
)
#: Not `*_key` in bodies: reference_key, sort_key, idempotency_key are data.
DEFAULT_QUERY_NAMES: tuple[str, ...] = (*_CREDENTIAL_NAMES, "key", "auth", "signature")
DEFAULT_FIELD_NAMES: tuple[str, ...] = (
    *_CREDENTIAL_NAMES,
    "private_key",
    "*_private_key",
    "authorization",
    "credentials",
    "provider_api_keys",  # everything beneath it
)
#: Pagination cursors end in `_token` but are not secrets; redacting them would
#: make every page's request look the same on replay.
DEFAULT_NAME_KEEP: tuple[str, ...] = ("*page_token",)


@lru_cache(maxsize=64)
def _pattern(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(translate(_normal(p)) for p in patterns))


def _normal(name: str) -> str:
    return name.strip().lower().replace("-", "_")


@lru_cache(maxsize=4096)  # a run sees few distinct names; each is decided once
def _matches(patterns: tuple[str, ...], keep: tuple[str, ...], name: str) -> bool:
    wanted, kept = _pattern(patterns), _pattern(keep)
    return bool(wanted and wanted.match(name) and not (kept and kept.match(name)))


@dataclass(frozen=True)
class ScrubRules:
    """What is redacted by name, and what else the user wants scrubbed.

    `*_keep` patterns win over the names. `values` are extra secrets by label
    (placeholder `<LABEL>`). `functions` run last, each on a copy of the
    scrubbed, decoded interaction; what they return is what gets written.
    """

    header_names: tuple[str, ...] = DEFAULT_HEADER_NAMES
    header_keep: tuple[str, ...] = DEFAULT_HEADER_KEEP
    query_names: tuple[str, ...] = DEFAULT_QUERY_NAMES
    field_names: tuple[str, ...] = DEFAULT_FIELD_NAMES
    name_keep: tuple[str, ...] = DEFAULT_NAME_KEEP  # for query parameters and fields
    values: Mapping[str, str] = field(default_factory=dict, repr=False)
    functions: tuple[ScrubFunction, ...] = ()

    def __post_init__(self) -> None:
        for label, value in self.values.items():
            # An explicit request we cannot honour safely is an error, not a skip.
            if value and len(value.strip()) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"secret value {label!r} is shorter than {MIN_SECRET_LENGTH} characters; "
                    "scrubbing it everywhere would corrupt the cassette"
                )

    def extended(
        self,
        *,
        header_names: Iterable[str] = (),
        query_names: Iterable[str] = (),
        field_names: Iterable[str] = (),
        values: Mapping[str, str] = _EMPTY,
        functions: Iterable[ScrubFunction] = (),
    ) -> ScrubRules:
        """These rules plus the user's additions."""
        return replace(
            self,
            header_names=(*self.header_names, *header_names),
            query_names=(*self.query_names, *query_names),
            field_names=(*self.field_names, *field_names),
            values={**self.values, **values},
            functions=(*self.functions, *functions),
        )

    def is_secret_header(self, name: str) -> bool:
        return _matches(self.header_names, self.header_keep, _normal(name))

    def is_secret_param(self, name: str) -> bool:
        return _matches(self.query_names, self.name_keep, _normal(name))

    def is_secret_field(self, name: str) -> bool:
        return _matches(self.field_names, self.name_keep, _normal(name))


DEFAULT_RULES = ScrubRules()


@dataclass(frozen=True)
class _Context:
    rules: ScrubRules
    replace: _Replacer
    #: (header name, value) → (lowercased name, `_scrub_header_value`'s result): a pure
    #: function of these and the context, and every recorded exchange repeats the same
    #: few headers (`Accept`, `Content-Type: application/json`).
    #: repr=False: the raw values may hold a secret, and a context may be shown in a
    #: traceback's locals.
    header_values: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict, repr=False)

    def header_value(self, name: str, value: str) -> tuple[str, str]:
        """(name lowercased, the value scrubbed), each pair worked out once."""
        hit = self.header_values.get((name, value))
        if hit is None:
            if len(self.header_values) >= _MAX_HEADER_VALUES:  # ids, cookies: forget
                self.header_values.clear()
            hit = self.header_values[name, value] = (
                name.lower(),
                _scrub_header_value(name, value, self),
            )
        return hit


_MAX_HEADER_VALUES = 4096

#: Built contexts, by (secrets, rules' identity and values). The entry holds the rules
#: themselves, so their id cannot be reused by other rules while the entry lives.
_CONTEXTS: dict[tuple[Any, ...], tuple[ScrubRules, _Context]] = {}
_MAX_CONTEXTS = 64
#: The last context returned and its key: a recording asks three times a request for the
#: same one, and comparing the key's tuple (the same objects: no `__eq__` called) costs
#: less than hashing it (a Python `__hash__` per secret).
_last: tuple[tuple[Any, ...], ScrubRules, _Context] | None = None


def _context(secrets: Iterable[Secret], rules: ScrubRules) -> _Context:
    """The rules and the one-pass replacer for `secrets`: built once per secret set.

    Every request of a replayed test is scrubbed (its key must match the stored,
    scrubbed one), so this is on the hot path: a cache hit costs a tuple and a lookup.
    """
    global _last
    key = (tuple(secrets), id(rules), tuple(rules.values.items()))
    last = _last
    if last is not None and last[1] is rules and last[0] == key:
        return last[2]
    hit = _CONTEXTS.get(key)
    if hit is not None and hit[0] is rules:
        _last = (key, rules, hit[1])
        return hit[1]
    merged = {s.value: s for s in known_secrets({}, extra=rules.values)}
    for secret in key[0]:
        merged.setdefault(secret.value, secret)
    ordered = sorted(merged.values(), key=lambda s: (-len(s.value), s.source))
    context = _Context(rules, _replacer(tuple(ordered)))
    if len(_CONTEXTS) >= _MAX_CONTEXTS:
        _CONTEXTS.clear()
    _CONTEXTS[key] = (rules, context)
    _last = (key, rules, context)
    return context


# -- scrubbing ----------------------------------------------------------------------


class NotGiven(enum.Enum):
    """The type of `NOT_GIVEN`: no value passed (None is a value: no body)."""

    NOT_GIVEN = enum.auto()


NOT_GIVEN = NotGiven.NOT_GIVEN


def scrub_interaction(
    interaction: Interaction,
    secrets: Iterable[Secret],
    rules: ScrubRules = DEFAULT_RULES,
    uri_scrubbed: bool = False,
    clean_body: bytes | NotGiven | None = NOT_GIVEN,
) -> Interaction:
    """A scrubbed copy of `interaction`; the original is left alone.

    `uri_scrubbed`: the request's URI is `scrub_uri`'s already, with these secrets and
    rules (a recording's, from the request's key), and is kept as it is: scrubbed
    once, as it would be here (scrubbing twice is not always the same: a placeholder
    may hold a secret's text). `clean_body`, likewise: the request body as `scrub_body`
    made it of this body with these secrets and rules, and the request's own
    Content-Encoding and Content-Type.

    Compressed bodies are stored decoded (Content-Encoding removed), and
    Content-Length is dropped wherever the body changed. Raises `ScrubError`
    for a body it cannot decode (e.g. `br` without the brotli module), rather
    than write something it could not check.
    """
    ctx = _context(secrets, rules)
    req, resp = interaction.request, interaction.response
    request = RecordedRequest(
        method=req.method,
        uri=req.uri if uri_scrubbed else _scrub_uri(req.uri, ctx),
        headers={},
        body=_scrub_body(req.body, req.headers, ctx) if clean_body is NOT_GIVEN else clean_body,
    )
    request.headers = _scrub_headers(req.headers, req.body != request.body, ctx)
    response = RecordedResponse(
        status=resp.status,
        reason=ctx.replace.text(resp.reason),
        headers={},
        body=_scrub_body(resp.body, resp.headers, ctx) or b"",
    )
    response.headers = _scrub_headers(resp.headers, resp.body != response.body, ctx)
    scrubbed = Interaction(request, response)
    for function in rules.functions:
        scrubbed = function(copy.deepcopy(scrubbed))
    return scrubbed


def scrub_uri(uri: str, secrets: Iterable[Secret], rules: ScrubRules = DEFAULT_RULES) -> str:
    """The URI as stored: credential query parameters redacted, known secrets replaced."""
    return _scrub_uri(uri, _context(secrets, rules))


def scrub_body(
    body: bytes | str | None,
    headers: Headers,
    secrets: Iterable[Secret],
    rules: ScrubRules = DEFAULT_RULES,
) -> bytes | None:
    """The body as stored: decoded, credential fields redacted, known secrets replaced.

    `headers` are the body's own (Content-Encoding, Content-Type).
    """
    data = body.encode("utf-8") if isinstance(body, str) else body
    return _scrub_body(data, headers, _context(secrets, rules))


def _scrub_uri(uri: str, ctx: _Context) -> str:
    # By hand rather than urlsplit/urlunsplit, which would re-normalise the rest.
    rest, hash_, fragment = uri.partition("#")
    base, question, query = rest.partition("?")
    if question:
        rest = base + "?" + _scrub_query(query, ctx.rules)
    return ctx.replace.text(rest + hash_ + fragment)


def _scrub_query(query: str, rules: ScrubRules) -> str:
    pieces = []
    for piece in query.split("&"):
        name, equals, value = piece.partition("=")
        if equals and value and rules.is_secret_param(unquote_plus(name)):
            piece = f"{name}={REDACTED}"
        pieces.append(piece)
    return "&".join(pieces)


def _scrub_headers(headers: Headers, body_changed: bool, ctx: _Context) -> Headers:
    scrubbed: Headers = {}
    for name, value in headers.items():
        if isinstance(value, str):
            lower, clean = ctx.header_value(name, value)
        else:
            lower = name.lower()
        if lower == "content-encoding" or (lower == "content-length" and body_changed):
            continue  # bodies are stored decoded; a changed body has a new length
        if isinstance(value, str):
            scrubbed[name] = clean
        else:
            scrubbed[name] = [_scrub_header_value(name, v, ctx) for v in value]
    return scrubbed


_AUTH_SCHEME = re.compile(r"([A-Za-z][\w.-]*) +(\S+)")
_PLACEHOLDER = re.compile(r"<[A-Za-z0-9_.-]+>")


def _scrub_header_value(name: str, value: str, ctx: _Context) -> str:
    if name.lower() in ("location", "content-location"):
        return _scrub_uri(value, ctx)
    if not ctx.rules.is_secret_header(name) or not value.strip():
        return ctx.replace.text(value)
    # `Bearer <OPENAI_API_KEY>` says more than `<REDACTED>` and reveals nothing;
    # anything not wholly a known secret (cookies, Basic user:pass) goes entirely.
    scheme = _AUTH_SCHEME.fullmatch(value)
    credential = ctx.replace.text(scheme.group(2) if scheme else value)
    if not _PLACEHOLDER.fullmatch(credential):  # also one from an earlier scrub: stable
        credential = REDACTED
    return f"{scheme.group(1)} {credential}" if scheme else credential


def _scrub_body(body: bytes | None, headers: Headers, ctx: _Context) -> bytes | None:
    if not body:
        return body
    encoding, content_type = _body_headers(headers)
    body = _decode_by(body, encoding)
    return ctx.replace.data(_redact_named_by(body, content_type, ctx.rules))


def _body_headers(headers: Headers) -> tuple[str, str]:
    """The Content-Encoding and the Content-Type: every value under each name (in any
    case) joined by ", ", both read in one pass over the headers."""
    encoding: list[str] = []
    content_type: list[str] = []
    for name, value in headers.items():
        lower = name.lower()
        if lower == "content-encoding":
            encoding.append(value if isinstance(value, str) else ", ".join(value))
        elif lower == "content-type":
            content_type.append(value if isinstance(value, str) else ", ".join(value))
    return ", ".join(encoding), ", ".join(content_type)


def _redact_named_by(body: bytes, content_type: str, rules: ScrubRules) -> bytes:
    """Credential fields of a form or JSON body (JSON whatever the Content-Type says)."""
    if content_type.lower().startswith("application/x-www-form-urlencoded"):
        try:
            return _scrub_query(body.decode("utf-8"), rules).encode("utf-8")
        except UnicodeDecodeError:
            return body
    if not _may_name_a_field(body, rules):
        return body  # no credential-named key in it: parsing would change nothing
    return _redact_json_body(body, rules)


def _redact_json_body(body: bytes, rules: ScrubRules) -> bytes:
    """Credential fields of a JSON body redacted, by parsing it (any other body as it is).

    JSON that names such a field but cannot be parsed here (a number past Python's
    digit limit, nesting past its recursion limit) is refused, not kept as it came:
    its field would reach the file, and the leak guard knows no value to look for."""
    try:
        value = json.loads(body)
        redacted = _redact_json(value, _field_names(rules.field_names, rules.name_keep), False)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return body  # not JSON: no field to redact
    except (ValueError, RecursionError) as exc:
        reason = (
            "it is nested deeper than Python's recursion limit (sys.setrecursionlimit)"
            if isinstance(exc, RecursionError)
            else str(exc)  # Python's own: "Exceeds the limit (4300 digits) ..., use ..."
        )
        raise ScrubError(
            f"a JSON body that may hold a credential field could not be parsed to redact "
            f"it: {reason}"
        ) from None
    if redacted is value:
        return body  # untouched bodies keep their exact bytes
    text = json.dumps(redacted, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate escape (`"\\ud800"`): written escaped
        return json.dumps(redacted, separators=(",", ":")).encode("ascii")


def _may_name_a_field(body: bytes, rules: ScrubRules) -> bool:
    """Might `body`, parsed as JSON, hold a key `rules` call a credential's? False only
    when it surely does not: then `_redact_json_body` would return it unchanged, and the
    parse (most of a recorded answer's scrubbing) is skipped.

    Sure only for ASCII text without a backslash or a NUL: there each key is its own raw
    text (no escape, no UTF-16 that `json.loads` would detect, no non-ASCII character
    that `str.lower` maps to ASCII), so the bytes lowercased with `-` as `_` hold every
    key as `_normal` sees it, and a key a name pattern matches holds that pattern's
    longest plain run (`name_keep` ignored: it only spares names). A few substring
    searches, a tenth of a parse; a body naming none of them is not parsed.
    `tests/test_scrub_agreement.py` holds it to the parse.
    """
    probes = _field_probes(rules.field_names)
    if probes is None or not body.isascii() or b"\\" in body or b"\0" in body:
        return True
    normal = body.lower().replace(b"-", b"_")
    # No generator frame (`map`): a tenth of the cost. A probe found: the needles decide.
    if not any(map(normal.__contains__, probes)):
        return False
    return any(map(normal.__contains__, _field_needles(rules.field_names) or ()))


@lru_cache(maxsize=64)
def _field_needles(field_names: tuple[str, ...]) -> tuple[bytes, ...] | None:
    """What a key matching one of `field_names` (normalized) surely holds: each pattern's
    longest run without `*` or `?`, none that holds another; None when a pattern has a
    character class, no such run or a non-ASCII character (no shortcut)."""
    runs: set[bytes] = set()
    for name in field_names:
        normal = _normal(name)
        longest = max(normal.replace("?", "*").split("*"), key=len)
        if "[" in normal or not normal.isascii() or not longest:
            return None
        runs.add(longest.encode("ascii"))
    return tuple(sorted(r for r in runs if not any(o != r and o in r for o in runs)))


@lru_cache(maxsize=64)
def _field_probes(field_names: tuple[str, ...]) -> tuple[bytes, ...] | None:
    """Fewer needles than `_field_needles`, each held by one or more of them (`_key` by
    `api_key` and `private_key`): a text holding none of these holds no needle, and each
    search is a pass over the body (seven instead of nine for the default names).
    `tests/test_scrub_agreement.py` holds them to the needles."""
    needles = _field_needles(field_names)
    return None if needles is None else _probes(needles)


def _probes(needles: tuple[bytes, ...]) -> tuple[bytes, ...]:
    """Greedily: the piece (4 bytes or more: a shorter one, `cre`, is in many a body
    that holds no needle, `created_at`) of the first needle left that most needles
    left hold (the longest such); until every needle holds one."""
    left = list(needles)
    out = []
    while left:
        first = left[0]
        pieces = (first[i:j] for i in range(len(first)) for j in range(i + 4, len(first) + 1))
        probe = max(pieces, key=lambda p: (sum(p in n for n in left), len(p)), default=first)
        out.append(probe)
        left = [n for n in left if probe not in n]
    return tuple(out)


class _FieldNames(dict[Any, bool]):
    """Field name → is it a credential's (`ScrubRules.is_secret_field`), each name decided
    once: a recorded body repeats the same few names (a lookup, not a call, per field)."""

    def __init__(self, field_names: tuple[str, ...], name_keep: tuple[str, ...]) -> None:
        super().__init__()
        self.rules = ScrubRules(field_names=field_names, name_keep=name_keep)

    def __missing__(self, name: Any) -> bool:
        if len(self) > 10_000:  # bodies keyed by ids: forget rather than grow
            self.clear()
        secret = self[name] = self.rules.is_secret_field(str(name))
        return secret


@lru_cache(maxsize=64)
def _field_names(field_names: tuple[str, ...], name_keep: tuple[str, ...]) -> _FieldNames:
    return _FieldNames(field_names, name_keep)


def _redact_json(value: Any, secret: _FieldNames, inside: bool) -> Any:
    """Every non-empty string at or below a credential-named field becomes `<REDACTED>`.

    `value` itself when nothing changes (a string already `<REDACTED>` is no change),
    else a copy: only the containers on the way to a change are copied. A scalar outside
    any credential field is left without a call (most of a body is such).
    """
    if isinstance(value, dict):
        changed: dict[Any, Any] | None = None
        for k, v in value.items():
            below = inside or secret[k]
            if not below and not isinstance(v, dict | list):
                continue
            new = _redact_json(v, secret, below)
            if new is not v:
                if changed is None:
                    changed = dict(value)
                changed[k] = new
        return value if changed is None else changed
    if isinstance(value, list):
        items: list[Any] | None = None
        for n, v in enumerate(value):
            if not inside and not isinstance(v, dict | list):
                continue
            new = _redact_json(v, secret, inside)
            if new is not v:
                if items is None:
                    items = list(value)
                items[n] = new
        return value if items is None else items
    if inside and isinstance(value, str) and value and value != REDACTED:
        return REDACTED
    return value


# -- compressed bodies --------------------------------------------------------------


def _load_brotli() -> Any:
    """The optional brotli decoder: not a dependency, used when installed."""
    for module in ("brotli", "brotlicffi"):
        try:
            return importlib.import_module(module)
        except ImportError:
            continue
    return None


_NOT_LOOKED_UP: Any = object()
#: The brotli decoder, or None when neither module is installed: looked up with the
#: first br body, not at import (every process imports this module, a few bodies are br).
_BROTLI: Any = _NOT_LOOKED_UP


def _brotli() -> Any:
    global _BROTLI
    if _BROTLI is _NOT_LOOKED_UP:
        _BROTLI = _load_brotli()
    return _BROTLI


def _decode_by(body: bytes, content_encoding: str) -> bytes:
    if not content_encoding:
        return body  # the usual case: nothing to split
    codings = [c.strip().lower() for c in content_encoding.split(",")]
    for coding in reversed([c for c in codings if c and c != "identity"]):
        body = _decompress(coding, body)
    return body


def _decompress(coding: str, data: bytes) -> bytes:
    if coding == "br" and _brotli() is None:
        raise ScrubError(
            "a br (brotli) encoded body cannot be checked for secrets: install the brotli "
            "package, or have the client send Accept-Encoding: gzip, deflate"
        )
    try:
        if coding in ("gzip", "x-gzip"):
            return gzip.decompress(data)
        if coding == "deflate":
            try:
                return zlib.decompress(data)
            except zlib.error:  # some servers send raw deflate, without the zlib wrapper
                return zlib.decompress(data, -zlib.MAX_WBITS)
        if coding == "br":
            return bytes(_BROTLI.decompress(data))
    except Exception as exc:  # any decoder's failure: the body cannot be checked
        raise ScrubError(f"a {coding} encoded body could not be decoded: {exc}") from None
    raise ScrubError(
        f"a body with Content-Encoding {coding!r} cannot be checked for secrets; "
        "have the client send Accept-Encoding: gzip, deflate"
    )


# -- finding what got through ---------------------------------------------------------


@dataclass(frozen=True)
class Leak:
    """A known secret found in some text. Deliberately without the value."""

    source: str  # e.g. "HUMANLOOP_API_KEY"
    form: str  # "raw", "percent-encoded", "form-encoded", "json-escaped", "base64", ...
    line: int  # 1-based


def find_leaks(data: bytes | str, secrets: Iterable[Secret]) -> list[Leak]:
    """Where any form of any of `secrets` occurs in `data`, by line, one per kind a line.

    First every fixed form (one regex pass); then, for a secret not already found
    on a line, what `hl_testkit.secrets.layers` peels off (percent twice over, `\\u`
    escapes, HTML entities, hex, base64 of base64, wrapped base64, UTF-16,
    quoted-printable, gzip and deflate by their magic bytes), named by its layers
    outermost first: `base64 > gzip`, `percent-encoded > percent-encoded`.
    """
    # Loaded here, not with the module: only a save (the leak guard) and `scan` look for
    # leaks, and every process imports this module for the output guard.
    from hl_testkit.secrets import layers

    raw = data.encode("utf-8") if isinstance(data, str) else data
    secrets = tuple(secrets)
    if not secrets:
        return []
    replacer = _replacer(secrets)
    leaks: dict[Leak, None] = {}
    for position, form, secret in replacer.find(raw):
        leaks[Leak(secret.source, form, raw.count(b"\n", 0, position) + 1)] = None
    # One report a secret and line: a layer spanning lines where the secret was found
    # as it is (a wrapped block, its last line the raw key) adds nothing.
    seen = {(leak.source, leak.line) for leak in leaks}
    shortest = min(len(s.value.encode("utf-8")) for s in secrets)
    for layer in layers.layers(raw, shortest):
        for _, form, secret in replacer.find(layer.data):
            if any((secret.source, line) in seen for line in layer.lines):
                continue
            seen.add((secret.source, layer.line))
            chain = layer.chain if form == "raw" else (*layer.chain, form)
            leaks[Leak(secret.source, " > ".join(chain), layer.line)] = None
    return sorted(leaks, key=lambda leak: leak.line)


@dataclass(frozen=True)
class Finding:
    """A string shaped like a credential. Deliberately without the value."""

    line: int  # 1-based
    kind: str  # "sk- key", "hl_sk_ key", "bearer token", "jwt", "high-entropy value"
    field: str | None = None  # for "high-entropy value": the name it was found under


_KEY_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("sk- key", re.compile(r"(?<![\w-])sk-[A-Za-z0-9_-]{20,}")),
    ("hl_sk_ key", re.compile(r"(?<![\w-])hl_sk_[A-Za-z0-9_-]{16,}")),
    # Our placeholders start with `<`, which the token class excludes.
    ("bearer token", re.compile(r"\bBearer\s+[A-Za-z0-9._~+/-]{20,}")),
    ("jwt", re.compile(r"\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}")),
)
#: `name: value` (YAML), `"name": "value"` (JSON), `name=value` (query strings).
_NAMED_VALUES = (
    re.compile(r"""(?P<name>[\w.-]+)["']?\s*:\s+["']?(?P<value>[^\s"',}\]]+)"""),
    re.compile(r"""(?P<name>[\w.-]+)["']?\s*:\s*["'](?P<value>[^\s"',}\]]+)"""),
    re.compile(r"[?&;](?P<name>[\w.-]+)=(?P<value>[^&#\s\"']+)"),
)
_KEYISH_WORDS = ("key", "token", "secret", "password", "passwd", "auth", "credential")
#: Id prefixes of the sessions API: long and random-looking, but not secrets.
_ID_PREFIXES = ("sesh_", "pr_", "dp_", "log_", "config_", "ev_")
HIGH_ENTROPY_MIN_LENGTH = 24
HIGH_ENTROPY_MIN_BITS = 4.0


def shannon_entropy(text: str) -> float:
    """Bits per character."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def find_key_shaped(text: str) -> list[Finding]:
    """Credential-shaped strings in `text`, whether or not we know the secret.

    Catches keys from an environment the scanner never saw: well-known key
    formats anywhere, and long high-entropy values under key-like names.
    """
    found: dict[Finding, None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        for kind, pattern in _KEY_SHAPES:
            if pattern.search(line):
                found[Finding(number, kind)] = None
        for pattern in _NAMED_VALUES:
            for m in pattern.finditer(line):
                name, value = m.group("name"), m.group("value")
                if _keyish(name) and _random_looking(value):
                    found[Finding(number, "high-entropy value", name)] = None
    return list(found)


def _keyish(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _KEYISH_WORDS)


def _random_looking(value: str) -> bool:
    return (
        len(value) >= HIGH_ENTROPY_MIN_LENGTH
        and not value.startswith("<")  # one of our placeholders
        and not value.startswith(_ID_PREFIXES)
        and shannon_entropy(value) >= HIGH_ENTROPY_MIN_BITS
    )
