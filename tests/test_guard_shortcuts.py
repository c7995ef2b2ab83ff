"""The leak guard's shortcuts lose no finding: attacks on `secrets/runs.py`.

`layers` decodes a base64 word only if it is long enough to decode to the
shortest secret or starts as a gzip or zlib stream's base64 does, and finds
runs by `bytes.find` instead of a regex. Each shortcut is attacked here: runs
straight against the regexes they replace, secrets of the minimum length
nested up to `MAX_DEPTH` encodings deep among decoys, short compressed streams,
and words that straddle the encoded text. The oracle is the guard before the
shortcuts (`reference_layers`, `find_leaks` running on it), and the invariant:
every secret the oracle finds is found, under the same name and line.
"""

from __future__ import annotations

import base64
import gzip
import quopri
import re
import zlib
from collections.abc import Callable
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hl_testkit.secrets import layers, runs, scrub
from hl_testkit.secrets.scrub import (
    MIN_SECRET_LENGTH,
    Leak,
    Secret,
    _Replacer,
    find_leaks,
    secret_forms,
)
from tests.test_layers_agreement import as_tuples, reference_layers

_B64_WORD = re.compile(rb"[A-Za-z0-9+/_-]{8,}={0,2}")
_HEX_RUN = re.compile(rb"[0-9A-Fa-f]{12,}")


def regex_words(chunk: bytes, size: int) -> list[tuple[int, int]]:
    """`runs.base64_words` as the regex and the compressed-start rule say it."""
    found = []
    for m in _B64_WORD.finditer(chunk):
        run = len(m.group().rstrip(b"="))
        head = m.group()
        if (
            run >= size
            or head.startswith(runs.GZIP_START)
            or (head[:1] == b"e" and head[1:2] != b"" and head[1] in runs.ZLIB_SECOND)
        ):
            found.append(m.span())
    return found


#: Pieces at every kind of boundary: the alphabet, `=`, hex, other bytes, and each start
#: of a compressed stream's base64 (and near misses) with and without more after it.
_PIECES = [b"a", b"Z", b"0", b"f", b"+", b"/", b"-", b"_", b"=", b" ", b"\n", b".", b"e"]
_PIECES += [b"\x00", b"\xff", b"H4sI", b"H4s", b"eB", b"eZ", b"abcdefgh"]
_PIECES += [b"e" + bytes([c]) for c in runs.ZLIB_SECOND]
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=60).map(b"".join)


@settings(max_examples=500, deadline=None)
@given(_TEXT, st.integers(min_value=runs.MIN_WORD, max_value=40))
def test_runs_are_the_regexes_runs(text: bytes, size: int) -> None:
    assert runs.base64_words(text, size) == regex_words(text, size)
    assert list(runs.hex_runs(text)) == [m.span() for m in _HEX_RUN.finditer(text)]


def test_the_compressed_starts_are_every_zlib_and_gzip_header() -> None:
    """Every two bytes that `layers._compressed` calls zlib, and gzip's three, start
    with a word the shortcut decodes; and no other first two characters do."""
    for second in range(256):
        head = bytes([0x78, second, 0])
        word = base64.b64encode(head + b"\0" * 6)
        if layers._compressed(head):
            assert word[:1] == b"e"
            assert word[1] in runs.ZLIB_SECOND
    assert {
        base64.b64encode(bytes([0x78, b, 0]))[1]
        for b in range(256)
        if layers._compressed(bytes([0x78, b, 0]))
    } == set(runs.ZLIB_SECOND)
    assert base64.b64encode(gzip.compress(b"x"))[:4] == runs.GZIP_START


# -- secrets nested under encodings, among decoys -----------------------------------------

Encoder = Callable[[bytes], bytes]
#: Encodings that take any bytes (binary ones, a compressed stream, included).
_BINARY: dict[str, Encoder] = {
    "base64": base64.b64encode,
    "base64url": base64.urlsafe_b64encode,
    "base64, no padding": lambda b: base64.b64encode(b).rstrip(b"="),
    "hex": lambda b: b.hex().encode(),
    "percent": lambda b: quote_from_bytes(b, safe=b"").encode(),
    "quoted-printable": quopri.encodestring,
    "gzip": lambda b: gzip.compress(b, mtime=0),
    "zlib": zlib.compress,
    "zlib, fastest": lambda b: zlib.compress(b, 1),
    "zlib, level 3": lambda b: zlib.compress(b, 3),
    "wrapped base64": lambda b: b"\n".join(
        base64.b64encode(b)[i : i + 76] for i in range(0, len(base64.b64encode(b)), 76)
    ),
}
#: Encodings of text (applied to the secret, or to what an ASCII encoding gave).
_TEXTUAL: dict[str, Encoder] = {
    "\\u": lambda b: "".join(f"\\u{ord(c):04x}" for c in b.decode("latin-1")).encode(),
    "entities": lambda b: "".join(f"&#{ord(c)};" for c in b.decode("latin-1")).encode(),
    "utf-16": lambda b: b.decode("latin-1").encode("utf-16"),
}
_ASCII_OUT = {"base64", "base64url", "base64, no padding", "hex", "percent", "quoted-printable"}


@st.composite
def nested(draw: st.DrawFn, secret: bytes) -> bytes:
    """`secret` under 1 to `MAX_DEPTH` encodings, innermost first; text encodings only
    where their input is text."""
    data, is_text = secret, True
    for _ in range(draw(st.integers(1, layers.MAX_DEPTH))):
        names = sorted(_BINARY) + (sorted(_TEXTUAL) if is_text else [])
        name = draw(st.sampled_from(names))
        data = (_BINARY | _TEXTUAL)[name](data)
        is_text = name in _ASCII_OUT or name in {"\\u", "entities"}
    return data


_DECOYS = [
    b"  uri: https://api.humanloop.com/v4/sessions/sesh_bench000001?page=2&size=10",
    b"        id: sesh_bench000001",
    b"        reference_id: conversation-0",
    b"xH4sIAAAAAAAAAA eAEBAAAAAAA eJzLSM3JyVcozy eNqrVgAAAAA =H4sIAAAAAAAAA",
    b"deadbeefcafe0123 QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo= abc=",
    b"      last_output: Like this.",
]
#: What the encoded text is put between: its own line, a YAML value, or glued to
#: alphabet characters so that the run it is in starts or ends elsewhere.
_FRAMES = [
    (b"\n", b"\n"),
    (b"\n    body: ", b"\n"),
    (b" sesh_", b"_x "),
    (b"\nab", b"="),
    (b"", b""),
]


@st.composite
def cassettes(draw: st.DrawFn) -> tuple[bytes, bytes]:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+/=%&"
    secret = draw(st.text(alphabet, min_size=MIN_SECRET_LENGTH, max_size=24)).encode()
    if draw(st.booleans()):  # repetitive: a compressed form is far shorter than the key
        secret = (secret[:2] or b"ab") * 12
    before, after = draw(st.sampled_from(_FRAMES))
    decoys = draw(st.lists(st.sampled_from(_DECOYS), max_size=6))
    at = draw(st.integers(0, len(decoys)))
    body = before + draw(nested(secret)) + after
    return secret, b"\n".join([*decoys[:at], body, *decoys[at:]])


def reference_find_leaks(text: bytes, secrets: list[Secret]) -> list[Leak]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(layers, "layers", reference_layers)
        return find_leaks(text, secrets)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cassettes())
def test_every_finding_of_the_guard_before_the_shortcuts_is_made(case: tuple[bytes, bytes]) -> None:
    secret, text = case
    secrets = [Secret("HUMANLOOP_API_KEY", secret.decode())]
    assert as_tuples(layers.layers(text, len(secret))) == as_tuples(
        reference_layers(text, len(secret))
    )
    assert find_leaks(text, secrets) == reference_find_leaks(text, secrets)


@pytest.mark.parametrize("level", [1, 3, 6, 9])  # zlib headers 78 01, 5E, 9C, DA
@pytest.mark.parametrize("frame", [(b"", b""), (b"body: ", b"\n"), (b"x: 1\n", b"==\n")])
def test_a_short_compressed_stream_of_a_long_key_is_found(
    level: int, frame: tuple[bytes, bytes]
) -> None:
    """A repeated key compresses to a base64 word far shorter than the key's own base64:
    decoded for its first characters alone, whatever the zlib header or gzip."""
    key = "hl_sk_" + "ab" * 20
    secrets = [Secret("HUMANLOOP_API_KEY", key)]
    for name, stream in (
        ("deflate", zlib.compress(key.encode() * 4, level)),
        ("gzip", gzip.compress(key.encode() * 4, level, mtime=0)),
    ):
        word = base64.b64encode(stream)
        assert len(word) < layers._shortest_kept(len(key))  # the shortcut is what finds it
        text = frame[0] + word + frame[1]
        found = find_leaks(text, secrets)
        assert [leak.form for leak in found] == [f"base64 > {name}"]
        assert found == reference_find_leaks(text, secrets)


def test_a_minimum_length_key_at_every_layer_is_found() -> None:
    """The shortest key kept, `MAX_DEPTH` encodings deep (its base64 run exactly as long
    as the shortest decoded), among decoys: found, named as the guard before named it."""
    key = "k3y-" + "x" * (MIN_SECRET_LENGTH - 4)
    secrets = [Secret("HUMANLOOP_API_KEY", key)]
    data = key.encode()
    chain = []
    for name in ("base64", "hex", "gzip"):  # and base64 outside: `MAX_DEPTH` layers
        data = _BINARY[name](data)
        chain.append(name)
    text = b"sesh_bench000001 eJzz H4sIAAA\n  body: " + base64.b64encode(data) + b"\n"
    found = find_leaks(text, secrets)
    assert found == reference_find_leaks(text, secrets)
    assert found == [Leak("HUMANLOOP_API_KEY", "base64 > gzip > hex > base64", 2)]


def reference_utf16(chunk: bytes) -> bytes | None:
    """`layers._utf16` before it looked for a zero byte before counting them."""
    if len(chunk) < 4:
        return None
    if chunk[:2] in (b"\xff\xfe", b"\xfe\xff"):
        codec = "utf-16"
    elif chunk[1::2].count(0) * 2 >= len(chunk) // 2:
        codec = "utf-16-le"
    elif chunk[0::2].count(0) * 2 >= len(chunk) // 2:
        codec = "utf-16-be"
    else:
        return None
    even = chunk[: len(chunk) - len(chunk) % 2]
    return even.decode(codec, "replace").encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=16) | st.text(max_size=8).map(lambda t: t.encode("utf-16-le")))
def test_utf16_is_read_as_before(chunk: bytes) -> None:
    assert layers._utf16(chunk) == reference_utf16(chunk)


# -- the fixed forms: the regex runs only where a match could be ---------------------------


def reference_find(replacer: _Replacer, data: bytes) -> list[tuple[int, str, Secret]]:
    """`_Replacer.find` before it looked for each form's letters and digits first."""
    assert replacer.bytes_re is not None
    found = []
    for m in replacer.bytes_re.finditer(data):
        name, secret = replacer._identify(m.group().decode("utf-8"))
        found.append((m.start(), name, secret))
    return found


_KEY_CHARS = "ab0Z_-+/= %é\\\"'"


@st.composite
def texts_with_forms(draw: st.DrawFn) -> tuple[list[Secret], bytes]:
    values = draw(st.lists(st.text(_KEY_CHARS, min_size=6, max_size=14), min_size=1, max_size=2))
    secrets = [Secret(f"KEY_{i}", value) for i, value in enumerate(values)]
    forms = sorted(form.encode() for value in values for form in secret_forms(value))
    pieces = st.sampled_from(forms) | st.text(_KEY_CHARS, max_size=10).map(str.encode)
    # A form cut short or with a character dropped: its runs are there, the match is not.
    cut = st.sampled_from(forms).flatmap(
        lambda f: st.integers(0, max(len(f) - 1, 0)).map(lambda i: f[:i] + f[i + 1 :])
    )
    return secrets, b" ".join(draw(st.lists(pieces | cut, max_size=6)))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts_with_forms())
def test_the_fixed_forms_are_found_as_the_regex_alone_finds_them(
    case: tuple[list[Secret], bytes],
) -> None:
    secrets, data = case
    replacer = _Replacer(tuple(secrets))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scrub, "_LOOK_FIRST", 0)  # look first on texts this short too
        assert list(replacer.find(data)) == reference_find(replacer, data)


def test_the_fixed_forms_skip_a_text_missing_their_letters_and_finds_every_escaping() -> None:
    """The property above compares something: a cassette without the key's letters is
    not searched by the regex, and a half-escaped key (no fixed form) is still found."""
    replacer = _Replacer((Secret("HUMANLOOP_API_KEY", "hl_sk+Fake/Key=0123456789"),))
    assert replacer.needed is not None
    assert not replacer._possible(b"interactions:\n- request: {uri: /v4/sessions/sesh_x}\n")
    half = b"key=hl_sk%2BFake\\u002FKey%3D0123456789&x=1"
    assert [name for _, name, _ in replacer.find(half)] == ["percent-encoded"]
    assert list(replacer.find(half)) == reference_find(replacer, half)
    assert _Replacer((Secret("SYMBOLS", "+/=+/=+/"),)).needed is None  # nothing to look for
    cassette = b"    method: GET\n" * 500 + half  # long enough to be looked at first
    assert len(cassette) >= scrub._LOOK_FIRST
    assert list(replacer.find(cassette)) == reference_find(replacer, cassette) != []


_SHORT: dict[str, Encoder] = {  # a repeated key's zlib stream: a word shorter than its base64
    "base64 of zlib": lambda b: base64.b64encode(zlib.compress(b * 8, 9)),
}


@pytest.mark.parametrize("name", sorted(_BINARY | _TEXTUAL | _SHORT))
def test_a_key_encoded_among_binary_bytes_inside_base64_is_found(name: str) -> None:
    """A decoded base64 word is mostly bytes of no alphabet, and `_regions` stops early on
    such a layer unless it holds a run of the alphabet or a soft break: a key under each
    encoding, between binary bytes, inside base64, is still found as before."""
    key = "hl_sk_" + "q7" * 9
    secrets = [Secret("HUMANLOOP_API_KEY", key)]
    encoded = (_BINARY | _TEXTUAL | _SHORT)[name](key.encode())
    if name in ("gzip", "zlib", "zlib, fastest", "zlib, level 3", "utf-16"):
        inner = encoded + b"\x89\xbf\xec"  # read by its first bytes: the junk goes after
    else:
        inner = b"\x89\xbf\xec\n" + encoded + b"\n\xfe\x8f\xb1"
    text = b"  uri: https://api.humanloop.com/v4/sessions/sesh_bench000001\n"
    text += b"    body: " + base64.urlsafe_b64encode(inner) + b"\n"
    found = find_leaks(text, secrets)
    assert found == reference_find_leaks(text, secrets)
    assert [leak.line for leak in found] == [2]
