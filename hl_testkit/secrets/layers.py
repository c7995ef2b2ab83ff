"""Layered decoding: what a text holds once its encodings are peeled off, to a bounded depth.

The leak guard and `hl-testkit scan` look for known secrets in every fixed form
(`hl_testkit.secrets.scrub.find_leaks`), but a key can hide under encodings no fixed
form covers: fully or doubly percent-encoded, `\\u`-escaped letters, HTML
entities, hex, base64 of base64, base64 wrapped across lines (MIME), UTF-16,
quoted-printable, or compressed with no header saying so. Here every candidate
region is decoded, and what comes out is decoded again, down to `MAX_DEPTH`
layers; compressed data is recognised by its magic bytes, not by headers.

Bounded, because it runs on untrusted bytes: a depth limit, a budget of
decoded bytes per document, a cap on how much one compressed blob may expand,
and each distinct decoded text is expanded once. Pure functions, no I/O; it
runs at write time and in `scan`, never on replay.

Cheap on an ordinary cassette: what would be dropped unread is not decoded, and
the runs worth decoding are found by length in C (`runs`), not word by word.
"""

from __future__ import annotations

import base64
import binascii
import functools
import html
import quopri
import re
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

from hl_testkit.secrets import runs

#: Four encodings from the server, and one more for the escaping a double-quoted YAML
#: string adds (a `text:` body with a CR or a control character is written so).
MAX_DEPTH = 5
#: Decoded bytes one document may produce in all (besides a floor for small ones).
BUDGET_FACTOR = 8
BUDGET_FLOOR = 1 << 20
#: How far one compressed blob may expand: a zip bomb is cut off here.
MAX_INFLATED = 4 << 20

_PERCENT = re.compile(rb"%[0-9A-Fa-f]{2}")
_BACKSLASH = re.compile(r"\\u([0-9A-Fa-f]{4})|\\(.)", re.S)
_ENTITY = re.compile(rb"&(?:#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z]+[0-9]*);")
_QP = re.compile(rb"=[0-9A-F]{2}|=\r?\n")
_HEX = re.compile(rb"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}){6,}(?![0-9A-Fa-f])")
#: A line of wrapped base64, and the base64 that ends a line (`body: QUJD...`).
_B64_LINE = re.compile(rb"[A-Za-z0-9+/]+={0,2}")
#: A character some whole-text encoding starts with (see `_whole`).
_WHOLE_CHARS = (b"%", b"\\", b"&", b"=")
_B64_CHARS = runs.BASE64_ALPHABET
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


@dataclass(frozen=True)
class Layer:
    """Decoded content: the encodings peeled off (outermost first), and the 1-based
    lines its encoded form spans (wrapped base64 and quoted-printable span several)."""

    chain: tuple[str, ...]
    line: int
    data: bytes
    last_line: int = 0

    @property
    def lines(self) -> range:
        return range(self.line, max(self.line, self.last_line) + 1)


@dataclass
class _Budget:
    left: int
    seen: set[bytes] = field(default_factory=set)

    def admit(self, data: bytes) -> bool:
        """Expand `data` once, while the budget lasts."""
        if self.left <= 0 or data in self.seen:
            return False
        self.seen.add(data)
        self.left -= len(data)
        return True


def layers(data: bytes, min_length: int) -> Iterator[Layer]:
    """Every decodable region of `data`, decoded, and what those hold, to `MAX_DEPTH`.

    A decoded text shorter than `min_length` is dropped: decoding only shrinks
    (decompression aside), so it could never hold a secret that long.
    """
    budget = _Budget(max(BUDGET_FACTOR * len(data), BUDGET_FLOOR))
    line_of = _LineCounter(data)
    # What the queue below would drop unread is dropped here, before its lines are
    # worked out: most base64-looking words of a cassette decode to a few bytes.
    seeds: list[tuple[str, int, int, bytes]] = []
    for start, whole_line in _whole_lines(data):  # only a line holding `%`, `\`, `&` or `=`
        number = line_of(start)
        line = whole_line.rstrip(b"\r")  # a line end is no soft break
        seeds += [
            (name, number, number, out) for name, out in _whole(line) if _kept(out, min_length)
        ]
    for name, (start, end), out in _regions(data, min_length):
        if _kept(out, min_length):
            first = line_of(start)
            last = line_of(max(start, end - 1))
            seeds.append((name, first, last, out))
    # Breadth first: a secret is reported under its shortest chain of encodings.
    queue = deque(Layer((name,), first, out, last) for name, first, last, out in seeds)
    while queue:
        layer = queue.popleft()
        if not _kept(layer.data, min_length):
            continue
        if not budget.admit(layer.data):
            continue
        yield layer
        if len(layer.chain) >= MAX_DEPTH:
            continue
        inner = _whole(layer.data) + [
            (name, out) for name, _, out in _regions(layer.data, min_length)
        ]
        queue.extend(
            Layer((*layer.chain, name), layer.line, out, layer.last_line) for name, out in inner
        )


class _LineCounter:
    """The 1-based line of an offset, counted from the last one asked for: the offsets
    come nearly in order, so each newline is counted about once (no table of every
    line's start: a cassette has tens of thousands, and few seeds)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at, self.line = data, 0, 1

    def __call__(self, offset: int) -> int:
        if offset >= self.at:
            self.line += self.data.count(b"\n", self.at, offset)
        else:
            self.line -= self.data.count(b"\n", offset, self.at)
        self.at = offset
        return self.line


def _whole_lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(offset, text) of each line holding a character some whole-text encoding starts
    with (`%`, `\\`, `&`, `=`): found by the character, which is rare, not by matching a
    line at each offset; each character by `find` (memchr), not by a regex's class
    test at every byte."""
    ahead = {char: data.find(char) for char in _WHOLE_CHARS}  # each one's next offset
    at = 0
    while True:
        for char, offset in ahead.items():
            if 0 <= offset < at:  # on a line already read: look further
                ahead[char] = data.find(char, at)
        hit = min((offset for offset in ahead.values() if offset >= 0), default=-1)
        if hit < 0:
            return
        start = data.rfind(b"\n", 0, hit) + 1
        end = data.find(b"\n", hit)
        end = len(data) if end < 0 else end
        yield start, data[start:end]
        at = end + 1


def _kept(data: bytes, min_length: int) -> bool:
    """Could `data` hold a secret of `min_length` bytes? Decoding only shrinks, but for
    decompression."""
    return len(data) >= min_length or _compressed(data)


def _whole(chunk: bytes) -> list[tuple[str, bytes]]:
    """Encodings that apply to a whole text: each decoding that changes it."""
    found: list[tuple[str, bytes]] = []
    if b"%" in chunk and _PERCENT.search(chunk):
        found.append(("percent-encoded", unquote_to_bytes(chunk)))
    if b"\\" in chunk:
        text = chunk.decode("utf-8", "surrogateescape")
        found.append(("\\u-escaped", _unbackslash(text).encode("utf-8", "surrogateescape")))
    if b"&" in chunk and _ENTITY.search(chunk):
        text = chunk.decode("utf-8", "surrogateescape")
        found.append(("html entities", html.unescape(text).encode("utf-8", "surrogateescape")))
    if b"=" in chunk and _QP.search(chunk):
        found.append(("quoted-printable", quopri.decodestring(chunk)))
    return [(name, out) for name, out in found if out != chunk]


def _unbackslash(text: str) -> str:
    """JSON and JavaScript string escapes (`\\u0068`, `\\/`, `\\n`, ...), surrogate pairs joined."""

    def one(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return chr(int(m.group(1), 16))
        return _ESCAPES.get(m.group(2), m.group(2))

    joined = _BACKSLASH.sub(one, text)
    return joined.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _regions(chunk: bytes, min_length: int = 0) -> Iterator[tuple[str, tuple[int, int], bytes]]:
    """Encoded stretches inside a text (hex, base64, wrapped base64), and binary
    encodings of the whole (compressed, UTF-16): (name, (start, end), decoded).
    A base64 word is not decoded if what it gives would be dropped (`_kept`): the
    runs are found by length (`runs`), most words of a cassette never reach Python."""
    yield from _binary(chunk)
    marked = runs.word_marks(chunk)
    if not runs.has_word(marked) and not (b"=" in chunk and b"\n" in chunk):
        # Nothing below can start: hex, base64 and wrapped base64 each need a run of
        # `MIN_WORD` of the alphabet, quoted-printable a `=` ending a line. Most decoded
        # layers (a base64 word's random-looking bytes) are so, and stop here.
        return
    for start, end in runs.hex_runs(chunk):
        if (end - start) % 2 == 0:  # `_HEX`: whole runs of an even length
            yield "hex", (start, end), bytes.fromhex(chunk[start:end].decode("ascii"))
    for start, end in runs.base64_words(chunk, _shortest_kept(min_length), marked):
        token = chunk[start:end]
        if _HEX.fullmatch(token):
            continue  # read as hex above; as base64 it is noise
        decoded = _base64(token)
        if decoded is not None:
            yield (
                ("base64url" if b"-" in token or b"_" in token else "base64"),
                (start, end),
                decoded,
            )
    if b"\n" in chunk:
        yield from _multiline(chunk)


@functools.lru_cache(maxsize=64)
def _shortest_kept(min_length: int) -> int:
    """The fewest characters (`=` aside) a base64 word needs to decode to `min_length`
    bytes (a stray last character, length % 4 == 1, adds none)."""
    size = runs.MIN_WORD
    while size // 4 * 3 + size % 4 * 3 // 4 < min_length:
        size += 1
    return size


def _multiline(chunk: bytes) -> Iterator[tuple[str, tuple[int, int], bytes]]:
    """Quoted-printable lines joined by soft breaks (a `=` at the end of a line), and
    base64 wrapped across lines (MIME wraps at 76). Line by line, not by regex: a
    pattern spanning lines backtracks quadratically on a long line.

    Only the stretches around lines that end in `=` or are all base64 (`_stretches`):
    the rest of a text, nearly all of a cassette, can start or end no group."""
    for start, end in _stretches(chunk):
        yield from _multiline_lines(chunk[start:end], start)


#: A line that a soft break ends, and one that could continue wrapped base64.
_SOFT_BREAK = re.compile(rb"=\r*$", re.M)
_BASE64_ONLY = re.compile(rb"^[ \t]*[A-Za-z0-9+/]+={0,2}\r*$", re.M)
_LINE_CHARS = b" \t\r=" + _B64_CHARS


def _stretches(chunk: bytes) -> list[tuple[int, int]]:
    """(start, end) of the lines around each line `_multiline_lines` could group: it,
    the line before and the line after, overlapping stretches merged.

    Exact: a group starts on such a line or the one before it, and ends on one or the
    one after it; the line before a stretch is none of these (or the stretches would
    have merged), so the state it leaves is the one a fresh start has for the next."""
    found = [m.start() for m in _SOFT_BREAK.finditer(chunk)]
    # A line all base64 is a line of nothing once these are deleted (it takes a fraction
    # of the regex's time): none such, no need to look for one.
    if b"\n\n" in b"\n" + chunk.rstrip(b"\n").translate(None, _LINE_CHARS) + b"\n":
        found = sorted(found + [m.start() for m in _BASE64_ONLY.finditer(chunk)])
    out: list[tuple[int, int]] = []
    for at in found:
        line_start = chunk.rfind(b"\n", 0, at) + 1
        start = chunk.rfind(b"\n", 0, max(line_start - 1, 0)) + 1 if line_start else 0
        line_end = chunk.find(b"\n", at)
        end = -1 if line_end < 0 else chunk.find(b"\n", line_end + 1)
        end = len(chunk) if end < 0 else end
        if out and start <= out[-1][1] + 1:  # overlapping or next to the last one
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def _multiline_lines(chunk: bytes, offset: int = 0) -> Iterator[tuple[str, tuple[int, int], bytes]]:
    """`_multiline` on every line of `chunk`, which starts at `offset` of the text."""
    qp: list[tuple[int, bytes]] = []  # (offset, line) of the current group
    wrapped: list[tuple[int, bytes]] = []
    for raw in chunk.split(b"\n"):
        line = raw.rstrip(b"\r")
        # Indentation after a break is the container's (a YAML block), not the text's.
        text = line.lstrip(b" \t") if qp or wrapped else line
        if qp or line.endswith(b"="):
            qp.append((offset, text))
            if not line.endswith(b"="):
                yield _qp_group(qp)
                qp = []
        if wrapped and _B64_LINE.fullmatch(text):
            wrapped.append((offset, text))
        else:
            if len(wrapped) > 1:
                yield from _wrapped_group(wrapped)
            start = len(line.rstrip(_B64_CHARS))  # not a regex: `[..]{8,}$` is quadratic
            wrapped = [(offset + start, line[start:])] if len(line) - start >= 8 else []
        offset += len(raw) + 1
    if len(wrapped) > 1:
        yield from _wrapped_group(wrapped)


def _qp_group(group: list[tuple[int, bytes]]) -> tuple[str, tuple[int, int], bytes]:
    joined = b"".join(line[:-1] if line.endswith(b"=") else line for _, line in group)
    end = group[-1][0] + len(group[-1][1])
    return "quoted-printable", (group[0][0], end), quopri.decodestring(joined)


def _wrapped_group(group: list[tuple[int, bytes]]) -> Iterator[tuple[str, tuple[int, int], bytes]]:
    decoded = _base64(b"".join(line for _, line in group))
    if decoded is not None:
        yield "wrapped base64", (group[0][0], group[-1][0] + len(group[-1][1])), decoded


def _base64(token: bytes) -> bytes | None:
    token = token.rstrip(b"=")
    if len(token) % 4 == 1:
        token = token[:-1]  # a stray character after the last whole group
    padded = token + b"=" * (-len(token) % 4)
    try:
        if b"-" in token or b"_" in token:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


def _compressed(data: bytes) -> bool:
    if data[:3] == b"\x1f\x8b\x08":
        return True
    return len(data) > 2 and data[0] == 0x78 and int.from_bytes(data[:2], "big") % 31 == 0


def _binary(chunk: bytes) -> Iterator[tuple[str, tuple[int, int], bytes]]:
    """gzip and zlib by their magic bytes, whatever any header said; UTF-16 by its zeros."""
    if chunk[:3] == b"\x1f\x8b\x08":
        inflated = _inflate(chunk, 16 + zlib.MAX_WBITS)
        if inflated:
            yield "gzip", (0, len(chunk)), inflated
    elif _compressed(chunk):
        inflated = _inflate(chunk, zlib.MAX_WBITS)
        if inflated:
            yield "deflate", (0, len(chunk)), inflated
    utf16 = _utf16(chunk)
    if utf16 is not None:
        yield "utf-16", (0, len(chunk)), utf16


def _inflate(data: bytes, wbits: int) -> bytes:
    try:
        return zlib.decompressobj(wbits).decompress(data, MAX_INFLATED)
    except zlib.error:
        return b""


def _utf16(chunk: bytes) -> bytes | None:
    """UTF-16 text as UTF-8, if `chunk` looks like UTF-16 (a BOM, or a zero every other byte)."""
    if len(chunk) < 4:
        return None
    if chunk[:2] in (b"\xff\xfe", b"\xfe\xff"):
        codec = "utf-16"
    elif b"\0" not in chunk:  # no zeros to count: a scan, not two copies of half of it
        return None
    elif chunk[1::2].count(0) * 2 >= len(chunk) // 2:
        codec = "utf-16-le"
    elif chunk[0::2].count(0) * 2 >= len(chunk) // 2:
        codec = "utf-16-be"
    else:
        return None
    even = chunk[: len(chunk) - len(chunk) % 2]
    return even.decode(codec, "replace").encode("utf-8")
