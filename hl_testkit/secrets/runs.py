"""Where a text's base64 and hex runs are: found by `bytes.find`, not a regex walk.

A cassette is mostly YAML keys, ids and English: tens of thousands of words in
base64's alphabet, nearly all too short to decode to a secret. A regex visits
every one of them (a match object each, then Python to drop it). Here the text
is first mapped to two bytes, in the alphabet or not (`bytes.translate`), and a
run is found by `find`ing as many in-alphabet marks as the shortest run worth
decoding: the search skips over the short runs in C. The runs found are the
regex's (`[A-Za-z0-9+/_-]{8,}={0,2}`, `[0-9A-Fa-f]{12,}`) less those that
`layers` would drop unread; `tests/test_layers_agreement.py` holds them to it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

_IN, _OUT = b"a", b" "
BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
#: What `_B64` matched, both alphabets (`-_` are base64url's `+/`).
_WORD_CHARS = BASE64_ALPHABET + b"-_"
_HEX_CHARS = b"0123456789ABCDEFabcdef"
#: The shortest base64 word `layers` decodes at all, and the shortest hex run.
MIN_WORD = 8
MIN_HEX = 12

#: The base64 a gzip stream starts with (1f 8b 08: three bytes, four characters).
GZIP_START = base64.b64encode(b"\x1f\x8b\x08")
#: A zlib stream starts 0x78 (base64 `e`) and a byte making the pair a multiple of 31:
#: its top four bits give the second character.
ZLIB_SECOND = bytes(sorted({BASE64_ALPHABET[b >> 4] for b in range(256) if (0x7800 + b) % 31 == 0}))


def _marks(chars: bytes) -> bytes:
    """A `bytes.translate` table: `chars` to `_IN`, the rest to `_OUT`."""
    return bytes(_IN[0] if i in chars else _OUT[0] for i in range(256))


_WORD_MARKS = _marks(_WORD_CHARS)
_HEX_MARKS = _marks(_HEX_CHARS)
#: Where a zlib stream's base64 may start: a regex with a literal first character is
#: scanned for by it (a `translate` to find it by would cost twice as much).
_ZLIB_START = re.compile(b"e[" + ZLIB_SECOND + b"]")


def runs(marked: bytes, size: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each longest run of `_IN` in `marked` at least `size` long.

    The search for the next run starts where the last one ended, past a mark that is
    not `_IN`, so a run is found from its first character, never from its middle."""
    needle = _IN * size
    at = marked.find(needle)
    while at >= 0:
        end = _run_end(marked, at + size)
        yield at, end
        at = marked.find(needle, end)


def hex_runs(chunk: bytes) -> Iterator[tuple[int, int]]:
    """Each longest run of hex digits at least `MIN_HEX` long (of any length)."""
    return runs(chunk.translate(_HEX_MARKS), MIN_HEX)


def word_marks(chunk: bytes) -> bytes:
    """`chunk` with each character of either base64 alphabet `_IN`, the rest `_OUT`."""
    return chunk.translate(_WORD_MARKS)


def has_word(marked: bytes) -> bool:
    """Does `marked` (`word_marks`) hold a run of `MIN_WORD` or more? Every hex run,
    base64 word and wrapped base64 line `layers` reads is one (hex digits are letters
    and digits of base64's alphabet)."""
    return _IN * MIN_WORD in marked


def base64_words(chunk: bytes, size: int, marked: bytes | None = None) -> list[tuple[int, int]]:
    """(start, end) of the base64 words worth decoding, in order: a longest run of the
    alphabet with up to two `=` after it, if its run is at least `size` long (`size` >=
    `MIN_WORD`), or at least `MIN_WORD` long and starting as gzip's or zlib's base64
    does (a short stream may inflate to a secret). `marked`: `word_marks(chunk)`, if
    the caller has it already."""
    marked = word_marks(chunk) if marked is None else marked
    found = list(runs(marked, size))
    short = [
        (start, end)
        for start in _compressed_starts(chunk)
        if (start == 0 or marked[start - 1] != _IN[0])  # a word starts there
        and MIN_WORD <= (end := _run_end(marked, start)) - start < size  # the long ones: found
    ]
    if short:
        found = sorted(found + short)
    return [(start, end + _equals(chunk, end)) for start, end in found]


def _compressed_starts(chunk: bytes) -> Iterator[int]:
    """Where `GZIP_START` or an `e` and one of `ZLIB_SECOND` occur, anywhere."""
    yield from _finds(chunk, GZIP_START)
    yield from (m.start() for m in _ZLIB_START.finditer(chunk))


def _finds(text: bytes, needle: bytes) -> Iterator[int]:
    at = text.find(needle)
    while at >= 0:
        yield at
        at = text.find(needle, at + 1)


def _run_end(marked: bytes, start: int) -> int:
    """Where the run of `_IN` that `start` is in (or just past) ends."""
    end = marked.find(_OUT, start)
    return len(marked) if end < 0 else end


def _equals(chunk: bytes, end: int) -> int:
    """How many of the (at most two) characters after `end` are `=`."""
    tail = chunk[end : end + 2]
    return len(tail) - len(tail.lstrip(b"="))
