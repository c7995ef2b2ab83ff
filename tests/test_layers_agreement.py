"""The optimized `layers()` yields exactly what the straightforward algorithm yields.

`layers.layers` drops, before working out their lines, the decoded regions the
breadth-first queue would drop anyway (shorter than `min_length`, not
compressed), reads only the lines a whole-text encoding can apply to, finds
lines by `bisect`, and does not decode a base64 word whose output would be
dropped. `reference_layers` below is the algorithm as it was before: every
line, every region, a Layer for each, filtered when taken from the queue.
Both must give the same Layers in the same order, on generated texts holding
secrets under every encoding the guard peels off.

`reference_regions` is `layers._regions` as it was before it matched only the base64
words long enough to keep, and read for soft breaks and wrapped base64 only the
lines around those that can be part of one (`layers._stretches`).
"""

from __future__ import annotations

import base64
import gzip
import quopri
import re
import textwrap
import zlib
from collections import deque
from collections.abc import Iterator
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hl_testkit.secrets import layers, runs
from hl_testkit.secrets.layers import Layer


def reference_layers(data: bytes, min_length: int) -> Iterator[Layer]:
    """`layers.layers` before it was optimized (hl-testkit 0.1.0), kept as the oracle."""
    budget = layers._Budget(max(layers.BUDGET_FACTOR * len(data), layers.BUDGET_FLOOR))
    line_starts = [0] + [m.end() for m in re.finditer(rb"\n", data)]
    seeds: list[tuple[str, int, int, bytes]] = []
    for number, start in enumerate(line_starts, start=1):
        end = line_starts[number] if number < len(line_starts) else len(data)
        line = data[start:end].rstrip(b"\r\n")
        seeds += [(name, number, number, out) for name, out in layers._whole(line)]
    for name, (start, end), out in reference_regions(data):
        first, last = _line_at(line_starts, start), _line_at(line_starts, max(start, end - 1))
        seeds.append((name, first, last, out))
    queue = deque(Layer((name,), first, out, last) for name, first, last, out in seeds)
    while queue:
        layer = queue.popleft()
        if len(layer.data) < min_length and not layers._compressed(layer.data):
            continue
        if not budget.admit(layer.data):
            continue
        yield layer
        if len(layer.chain) >= layers.MAX_DEPTH:
            continue
        inner = layers._whole(layer.data) + [
            (name, out) for name, _, out in reference_regions(layer.data)
        ]
        queue.extend(
            Layer((*layer.chain, name), layer.line, out, layer.last_line) for name, out in inner
        )


_B64 = re.compile(rb"[A-Za-z0-9+/_-]{8,}={0,2}")
_B64_LINE = re.compile(rb"[A-Za-z0-9+/]+={0,2}")
_B64_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_Region = tuple[str, tuple[int, int], bytes]


def reference_regions(chunk: bytes) -> Iterator[_Region]:
    """`layers._regions` before it was optimized: every base64 word, every line."""
    yield from layers._binary(chunk)
    for m in layers._HEX.finditer(chunk):
        yield "hex", m.span(), bytes.fromhex(m.group().decode("ascii"))
    for m in _B64.finditer(chunk):
        token = m.group()
        if layers._HEX.fullmatch(token):
            continue
        decoded = layers._base64(token)
        if decoded is not None:
            yield ("base64url" if b"-" in token or b"_" in token else "base64"), m.span(), decoded
    if b"\n" in chunk:
        yield from reference_multiline(chunk)


def reference_multiline(chunk: bytes) -> Iterator[_Region]:
    """`layers._multiline` before it read only the stretches around candidate lines."""
    qp: list[tuple[int, bytes]] = []
    wrapped: list[tuple[int, bytes]] = []
    offset = 0
    for raw in chunk.split(b"\n"):
        line = raw.rstrip(b"\r")
        text = line.lstrip(b" \t") if qp or wrapped else line
        if qp or line.endswith(b"="):
            qp.append((offset, text))
            if not line.endswith(b"="):
                yield layers._qp_group(qp)
                qp = []
        if wrapped and _B64_LINE.fullmatch(text):
            wrapped.append((offset, text))
        else:
            if len(wrapped) > 1:
                yield from layers._wrapped_group(wrapped)
            start = len(line.rstrip(_B64_CHARS))
            wrapped = [(offset + start, line[start:])] if len(line) - start >= 8 else []
        offset += len(raw) + 1
    if len(wrapped) > 1:
        yield from layers._wrapped_group(wrapped)


def _line_at(line_starts: list[int], offset: int) -> int:
    low, high = 0, len(line_starts)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if line_starts[middle] <= offset else (low, middle)
    return low + 1


def encodings(secret: bytes) -> list[bytes]:
    """`secret` under each encoding the guard decodes, alone and nested."""
    b64 = base64.b64encode
    text = secret.decode("utf-8", "replace")
    return [
        secret,
        b64(secret),
        base64.urlsafe_b64encode(secret),
        b64(b64(secret)),
        secret.hex().encode(),
        quote(text, safe="").encode(),
        quote(quote(text, safe=""), safe="").encode(),
        "".join(f"\\u{ord(c):04x}" for c in text).encode(),
        "".join(f"&#{ord(c)};" for c in text).encode(),
        quopri.encodestring(b"x" * 70 + b" " + secret + b" done"),
        b64(gzip.compress(secret, mtime=0)),
        b64(zlib.compress(secret)),
        gzip.compress(secret, mtime=0),
        b64(text.encode("utf-16")),
        "\n".join(textwrap.wrap(b64(b"x" * 60 + secret + b"y" * 60).decode(), 76)).encode(),
        # Short compressed streams (a repeated secret inflates from a few bytes): each
        # zlib header (levels 1, 2-5, 6, 7-9 set 78 01, 5E, 9C, DA) and gzip, as base64
        # words shorter than any base64 of the secret itself.
        *(b64(zlib.compress(secret * 8, level)) for level in (1, 3, 6, 9)),
        base64.urlsafe_b64encode(gzip.compress(secret * 8, mtime=0)),
        secret.hex().encode() + b"=",
        b64(secret)[:-2] + b"==",  # cut short: padding after a run one short of the secret
    ]


#: Noise a cassette is made of: YAML keys, ids, short base64-looking words, and
#: the characters the whole-text encodings start with.
_NOISE = st.sampled_from(
    [
        b"interactions:",
        b"  - request:",
        b"      uri: https://api.humanloop.com/v4/sessions/sesh_0123456789abcdef?page=2&size=10",
        b'      body: \'{"id":"sesh_abc","created_at":"2024-01-01T00:00:00Z"}\'',
        b"Hxyzabcd",
        b"eJzLSM3JyVcozy/KSQEAGgQEXQ==",
        b"abcdefgh==",
        b"deadbeefcafe",
        b"0123456789abcdef0",  # odd: no hex
        b"DEADBEEFCAFE1234",
        b"a=b",
        b"%41%42",
        b"\\n\\u0041",
        b"&amp;&#65;",
        b"=\r",
        b"  ",
        b"\t",
        # Decoys for the shortcuts (`secrets/runs.py`): a compressed stream's start in the
        # middle of a word, after `=`, or too short; ids just under and over the length
        # that is decoded; runs that are hex and base64 at once.
        b"xH4sIAAAAAAAAA",
        b"=H4sIAAAAAAAAA",
        b"H4sIAAA",
        b"seeJzLSM3JyVcozy",
        b"eAEBAAAAAA",
        b"eFAAAAAAAA",
        b"eZAAAAAAAA",
        b"sesh_bench000001",
        b"com/v4/sessions/sesh_bench000001",
        b"conversation-0",
        b"abcdefabcdef",
        b"0123456789abcdef012345678",
    ]
)
_SEPARATORS = st.sampled_from([b"\n", b"\r\n", b" ", b"", b"=\n", b"\n  "])


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    secret = draw(
        st.binary(min_size=1, max_size=40)
        | st.text("abcdefghijklmnopqrstuvwxyz0123456789+/=_-", min_size=8, max_size=40).map(
            str.encode
        )
    )
    pieces = draw(
        st.lists(
            _NOISE | st.sampled_from(encodings(secret)) | st.binary(max_size=30),
            min_size=1,
            max_size=12,
        )
    )
    out = b""
    for piece in pieces:
        out += piece + draw(_SEPARATORS)
    return out


def as_tuples(found: Iterator[Layer]) -> list[tuple[tuple[str, ...], int, int, bytes]]:
    return [(layer.chain, layer.line, layer.last_line, layer.data) for layer in found]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.integers(min_value=0, max_value=48))
def test_optimized_layers_yield_what_the_reference_yields(data: bytes, min_length: int) -> None:
    assert as_tuples(layers.layers(data, min_length)) == as_tuples(
        reference_layers(data, min_length)
    )


def test_the_agreement_test_sees_layers_and_drops() -> None:
    """The generated kind of text does produce layers, and does drop short ones: the
    property above compares something."""
    secret = b"hl_sk_agreement_0123456789"
    text = b"\n".join([*encodings(secret), b"abcdefgh Hxyzabcd eJzLSM3JyVcozy/KSQEAGgQEXQ=="])
    found = as_tuples(layers.layers(text, len(secret)))
    assert found == as_tuples(reference_layers(text, len(secret)))
    assert any(data == secret for _, _, _, data in found)
    assert len(found) < len(as_tuples(reference_layers(text, 0)))


#: Lines that start, continue or end soft breaks and wrapped base64, and lines that do not.
_LINES = st.sampled_from(
    [
        b"",
        b"x",
        b"  body: QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=",
        b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo",
        b"  QUJDREVGR0g=",
        b"\tQUJD==",
        b"abc=",
        b"abc=\r",
        b"=",
        b"=\r\r",
        b"  uri: https://api.humanloop.com/v4/sessions/sesh_0123456789",
        b"    method: GET",
        b"plain text here",
        b"aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ",
        b"aGVsbG8=\rx",
        b"\r",
    ]
)


@settings(max_examples=600, deadline=None)
@given(st.lists(_LINES | st.binary(max_size=12), max_size=14), st.booleans())
def test_multiline_reads_the_stretches_as_the_reference_reads_every_line(
    lines: list[bytes], newline_at_end: bool
) -> None:
    text = b"\n".join(lines) + (b"\n" if newline_at_end else b"")
    assert list(layers._multiline(text)) == list(reference_multiline(text))


@settings(max_examples=400, deadline=None)
@given(documents(), st.integers(min_value=0, max_value=48))
def test_regions_keep_what_the_reference_keeps(data: bytes, min_length: int) -> None:
    def kept(found: Iterator[_Region]) -> list[_Region]:
        return [r for r in found if layers._kept(r[2], min_length)]

    assert kept(layers._regions(data, min_length)) == kept(reference_regions(data))


def test_the_stretches_hold_groups_and_leave_out_other_lines() -> None:
    """A cassette-like text: the soft break and the wrapped base64 are found, and most
    lines are not read (the property above compares something)."""
    wrapped = textwrap.wrap(base64.b64encode(b"k" * 120).decode(), 76)
    lines = [b"    method: GET"] * 50 + [b"  x: abc=", b"def"] + [b"  body: |"]
    lines += [f"    {w}".encode() for w in wrapped] + [b"    method: GET"] * 50
    text = b"\n".join(lines)
    found = list(layers._multiline(text))
    assert found == list(reference_multiline(text))
    assert [name for name, _, _ in found] == ["quoted-printable", "wrapped base64"]
    assert sum(end - start for start, end in layers._stretches(text)) < len(text) // 4


#: Pieces of a decoded layer around `_regions`' early stop: runs of the alphabets one
#: short of `runs.MIN_WORD` and just long enough, soft breaks, and bytes of no alphabet.
_LAYER_PIECES = st.sampled_from(
    [
        *(b"Hxyzabc", b"Hxyzabcd", b"deadbeefcafe", b"H4sIAAA", b"H4sIAAAA", b"eJzLSM3J"),
        *(b"a-b_c+d/", b"=", b"\n", b"=\n", b"abc=\r\n", b"\x00", b"\xff\xfe", b"\x1f\x8b\x08"),
        b"x\x9c",
    ]
) | st.binary(max_size=10)


@settings(max_examples=600, deadline=None)
@given(st.lists(_LAYER_PIECES, max_size=8), st.integers(min_value=0, max_value=30))
def test_a_short_layer_stops_early_only_when_the_reference_finds_nothing_more(
    pieces: list[bytes], min_length: int
) -> None:
    """`_regions` stops after `_binary` when no run of the alphabets is `MIN_WORD` long
    and no line ends in `=`: on bytes like a decoded base64 word's, it yields what the
    reference yields, kept or not."""
    chunk = b"".join(pieces)
    assert list(layers._regions(chunk, 0)) == list(reference_regions(chunk))
    found = [r for r in layers._regions(chunk, min_length) if layers._kept(r[2], min_length)]
    assert found == [r for r in reference_regions(chunk) if layers._kept(r[2], min_length)]


def test_random_bytes_stop_early_and_words_do_not() -> None:
    """The early stop is taken (the property above compares something on both sides)."""
    assert not runs.has_word(runs.word_marks(b"\x89\xbf7abcdef\xec"))  # 7: one short
    assert runs.has_word(runs.word_marks(b"\x89\xbfHxyzabcd\xec"))
    assert list(layers._regions(b"\x89x%zz" * 5, 0)) == []
    assert [name for name, _, _ in layers._regions(b"\x89" + b"QUJDREVGR0g=" + b"\x89", 0)] == [
        "base64"
    ]
