"""Layered decoding (hl_testkit.secrets.layers) in `hl-testkit scan` and in the leak guard.

Each encoding of the issue is planted in a real cassette body (as the recorder
would store it: text as text, binary as base64): `scan` reports it with exit 1,
the leak guard refuses to write it, and neither prints the value in any form.
The other side: the project's own cassettes and examples stay clean, random
data raises nothing, and a hostile document cannot make decoding unbounded.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import quopri
import textwrap
import time
import tracemalloc
import zlib
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from hl_testkit.cassettes.file import dumps as dump_cassette
from hl_testkit.cassettes.model import CassetteData, Interaction, RecordedRequest, RecordedResponse
from hl_testkit.recording.recorder import LeakError, Recording
from hl_testkit.secrets import layers
from hl_testkit.secrets.scan import run_scan
from hl_testkit.secrets.scrub import Leak, find_leaks, known_secrets, secret_forms

REPO = Path(__file__).resolve().parent.parent
KEY = "hl_sk+Fake/Key=0123456789"  # `+`, `/`, `=`: every URL and MIME encoding touches them
ENV = {"HUMANLOOP_API_KEY": KEY}
SECRETS = known_secrets(ENV)


def b64(data: bytes) -> bytes:
    return base64.b64encode(data)


def every_percent(text: str) -> str:
    return "".join(f"%{byte:02X}" for byte in text.encode("utf-8"))


def u_escaped(text: str) -> str:
    return "".join(f"\\u{ord(char):04x}" for char in text)


#: name → (Content-Type, body, the form `scan` and the guard report)
ENCODED: dict[str, tuple[str, bytes, str]] = {
    "percent, every byte": (
        "text/plain",
        f"next=/v4/x?state={every_percent(KEY)}".encode(),
        "percent-encoded",
    ),
    "percent, twice": (
        "text/plain",
        f"next={quote(quote(KEY, safe=''), safe='')}".encode(),
        "percent-encoded > percent-encoded",
    ),
    "\\u-escaped text": (
        "text/plain",
        f"key: {u_escaped(KEY)}".encode(),
        "\\u-escaped",
    ),
    "\\u-escaped NDJSON": (
        "application/x-ndjson",
        b'{"n": 1}\n{"echo": "' + u_escaped(KEY).encode() + b'"}\n',
        "\\u-escaped",
    ),
    "\\u-escaped SSE": (
        "text/event-stream",
        b'event: echo\ndata: {"key": "' + u_escaped(KEY).encode() + b'"}\n\n',
        "\\u-escaped",
    ),
    "HTML entities": (
        "text/html",
        ("<p>" + "".join(f"&#{ord(c)};" for c in KEY) + "</p>").encode(),
        "html entities",
    ),
    "hex": ("text/plain", f"digest {KEY.encode().hex()}".encode(), "hex"),
    "base64 of base64": ("text/plain", b"token " + b64(b64(KEY.encode())), "base64 > base64"),
    "base64 wrapped (MIME)": (
        "text/plain",
        "\n".join(
            textwrap.wrap(b64(f"{'x' * 90} {KEY} {'y' * 90}".encode()).decode(), 76)
        ).encode(),
        "wrapped base64",
    ),
    "UTF-16": ("text/plain", f"the key is {KEY}".encode("utf-16"), "base64 > utf-16"),
    "quoted-printable": (
        "text/plain",
        quopri.encodestring(f"{'x' * 70} {KEY} done".encode()),
        "quoted-printable",
    ),
    "gzip, no Content-Encoding": (
        "application/json",
        gzip.compress(json.dumps({"echo": KEY}).encode(), mtime=0),
        "base64 > gzip",
    ),
    "deflate, no Content-Encoding": (
        "application/json",
        zlib.compress(json.dumps({"echo": KEY}).encode()),
        "base64 > deflate",
    ),
}


def interaction(
    content_type: str, body: bytes, headers: dict[str, str] | None = None
) -> Interaction:
    return Interaction(
        RecordedRequest("GET", "https://api.humanloop.com/v4/echo"),
        RecordedResponse(200, "OK", {"Content-Type": content_type, **(headers or {})}, body),
    )


def planted(content_type: str, body: bytes) -> str:
    return dump_cassette(CassetteData([interaction(content_type, body)]))


def printed_forms() -> set[str]:
    """What must never be printed: every fixed form and each planted encoding's text."""
    forms = secret_forms(KEY) | {every_percent(KEY), quote(quote(KEY, safe=""), safe="")}
    forms |= {u_escaped(KEY), KEY.encode().hex(), b64(b64(KEY.encode())).decode()}
    forms |= {quote_plus(KEY), base64.urlsafe_b64encode(KEY.encode()).decode()}
    return forms


def assert_nothing_printed(text: str) -> None:
    shown = [form for form in printed_forms() if form in text]
    assert shown == [], "a form of the key was printed"


@pytest.mark.parametrize(("content_type", "body", "form"), ENCODED.values(), ids=list(ENCODED))
def test_scan_finds_each_encoding_exits_1_and_prints_no_value(
    tmp_path: Path, content_type: str, body: bytes, form: str
) -> None:
    text = planted(content_type, body)
    assert not any(f in text for f in secret_forms(KEY))  # no fixed form: only layers see it
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()

    assert run_scan([str(path)], ENV, out, err) == 1
    assert f": secret, {form} (HUMANLOOP_API_KEY)\n" in out.getvalue()
    assert_nothing_printed(out.getvalue() + err.getvalue())


@pytest.mark.parametrize(("content_type", "body", "form"), ENCODED.values(), ids=list(ENCODED))
def test_the_leak_guard_refuses_each_encoding_writes_nothing_and_prints_no_value(
    tmp_path: Path, content_type: str, body: bytes, form: str
) -> None:
    path = tmp_path / "cassettes" / "t" / "test_x.yaml"
    recording = Recording(path, "once", "https://api.humanloop.com/v4", "t.py::test_x")
    recording.secrets = SECRETS
    # What a missing rule amounts to: the stored interaction still holds the encoded key.
    recording.recorded = [interaction(content_type, body)]

    with pytest.raises(LeakError) as refused:
        recording.finish(test_failed=False)

    message = str(refused.value)
    assert f"it would hold HUMANLOOP_API_KEY ({form}) at line " in message
    assert_nothing_printed(message + repr(refused.value))
    assert not path.parent.exists() or list(path.parent.iterdir()) == []


def test_line_numbers_point_at_the_encoded_text() -> None:
    text = "a: 1\nb: 2\n" + "c: " + b64(b64(KEY.encode())).decode() + "\nd: 4\n"
    wrapped = "\n".join(textwrap.wrap(b64(f"{'x' * 90}{KEY}".encode()).decode(), 20))
    assert find_leaks(text, SECRETS) == [Leak("HUMANLOOP_API_KEY", "base64 > base64", 3)]
    assert find_leaks(f"x\n{wrapped}\n", SECRETS) == [
        Leak("HUMANLOOP_API_KEY", "wrapped base64", 2)
    ]


def test_a_raw_gzip_or_utf16_file_is_seen_through_too(tmp_path: Path) -> None:
    """`scan` of a file named explicitly: the magic bytes, not the name, say gzip."""
    zipped = tmp_path / "body.bin"
    zipped.write_bytes(gzip.compress(f"key={KEY}".encode()))
    wide = tmp_path / "body.txt"
    wide.write_bytes(f"a\nkey={KEY}\n".encode("utf-16-le"))
    out, err = io.StringIO(), io.StringIO()
    assert run_scan([str(zipped), str(wide)], ENV, out, err) == 1
    assert f"{zipped}:1: secret, gzip (HUMANLOOP_API_KEY)" in out.getvalue()
    assert f"{wide}:1: secret, utf-16 (HUMANLOOP_API_KEY)" in out.getvalue()
    assert_nothing_printed(out.getvalue() + err.getvalue())


# -- the false-positive side -------------------------------------------------------------


@pytest.mark.parametrize("where", ["cassettes", "examples"])
def test_the_projects_own_cassettes_and_examples_stay_clean(where: str) -> None:
    """With a key set (as in a re-record job), the layers find nothing in our own files."""
    env = {**ENV, "OPENAI_API_KEY": "sk-fake-openai-0123456789abcdef"}
    out, err = io.StringIO(), io.StringIO()
    assert run_scan([str(REPO / where)], env, out, err) == 0, out.getvalue()
    assert "file(s) clean" in out.getvalue()


def test_random_and_encoded_data_without_the_key_is_clean() -> None:
    noise = os.urandom(64 * 1024)
    document = b"\n".join(
        [
            b"raw: " + b64(noise),
            b"hex: " + noise[:4096].hex().encode(),
            b"gz: " + b64(gzip.compress(noise[:8192])),
            b"pct: " + quote(b64(noise[:2048]).decode(), safe="").encode(),
            b"other: " + b64(b64(b"hl_sk+Real/Key=9876543210")),  # another key is no hit
            b"near: " + b64(KEY[:-1].encode()),  # nor most of this one
        ]
    )
    assert find_leaks(document, SECRETS) == []


def test_decoding_is_bounded_in_depth_and_in_work() -> None:
    nested = KEY.encode()
    for _ in range(layers.MAX_DEPTH):
        nested = b64(nested)
    assert find_leaks(b"x: " + nested, SECRETS) == [
        Leak("HUMANLOOP_API_KEY", " > ".join(["base64"] * (layers.MAX_DEPTH - 1) + ["base64"]), 1)
    ]
    # One more layer is still found (the last decoded layer is searched, not expanded);
    # two more are out of reach.
    assert find_leaks(b"x: " + b64(nested), SECRETS) != []
    assert find_leaks(b"x: " + b64(b64(nested)), SECRETS) == []

    # 200 MiB of zeros, gzipped: cut at MAX_INFLATED, never inflated whole (measured in
    # memory, not in time: a loaded machine must not fail it, a whole inflate must).
    bomb = b64(gzip.compress(b"\0" * (200 << 20)))
    tracemalloc.start()
    try:
        assert find_leaks(b"x: " + bomb + b"\n" + b"y: " + b64(b64(bomb)), SECRETS) == []
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * layers.MAX_INFLATED < (200 << 20)

    # Long lines that end in something else: no pattern may backtrack over them (a
    # quadratic scan of these 3 MiB would take hours, not the generous minute allowed).
    lines = b'x: "' + b"A" * (1 << 20) + b'"\n' + b"B=" * (1 << 19) + b"=\n" + b"C" * (1 << 20)
    started = time.perf_counter()
    assert find_leaks(lines, SECRETS) == []
    assert time.perf_counter() - started < 60


def test_a_body_gzipped_under_transfer_encoding_is_refused_not_written(tmp_path: Path) -> None:
    """The scrubber decodes what Content-Encoding names; `Transfer-Encoding: gzip` (which
    HTTP clients leave compressed) keeps the key out of its reach, so the guard refuses."""
    path = tmp_path / "test_x.yaml"
    recording = Recording(path, "once", "https://api.humanloop.com/v4", "t.py::test_x")
    recording.secrets = SECRETS
    body = gzip.compress(json.dumps({"echo": KEY}).encode())
    zipped = interaction("application/json", body, {"Transfer-Encoding": "gzip"})
    recording.recorded = [recording.clean(zipped)]  # as the recorder keeps it
    assert recording.recorded[0].response.body == body  # the scrubber could not look inside

    with pytest.raises(LeakError, match=r"HUMANLOOP_API_KEY \(base64 > gzip\) at line"):
        recording.finish(test_failed=False)
    assert not path.exists()


def _clean_exchanges(n: int) -> list[Interaction]:
    """Cassette-like exchanges without the key: ids, hex digests, base64 words, query
    strings, a soft break and wrapped base64 of other bytes (what the guard reads)."""
    wrapped = "\n".join(textwrap.wrap(b64(b"z" * 200).decode(), 76))
    return [
        Interaction(
            RecordedRequest("GET", f"https://api.humanloop.com/v4/sessions/sesh_{k:012d}?page=2"),
            RecordedResponse(
                200,
                "OK",
                {"Content-Type": "text/plain"},
                f"id sesh_{k:012d} digest {os.urandom(16).hex()} b64 {b64(os.urandom(24)).decode()}"
                f"\nsoft=\nbreak\n{wrapped}\n".encode(),
            ),
        )
        for k in range(n)
    ]


@pytest.mark.parametrize("at", [0, 150, 299])
@pytest.mark.parametrize(("content_type", "body", "form"), ENCODED.values(), ids=list(ENCODED))
def test_one_encoded_key_among_many_clean_exchanges_is_refused(
    tmp_path: Path, content_type: str, body: bytes, form: str, at: int
) -> None:
    # The guard reads only the stretches and words that can hold a key: a key planted
    # anywhere in a large save, among look-alikes, must still stop it.
    path = tmp_path / "test_x.yaml"
    recording = Recording(path, "once", "https://api.humanloop.com/v4", "t.py::test_x")
    recording.secrets = SECRETS
    recording.recorded = _clean_exchanges(300)
    recording.recorded[at] = interaction(content_type, body)

    with pytest.raises(LeakError) as refused:
        recording.finish(test_failed=False)

    assert f"HUMANLOOP_API_KEY ({form})" in str(refused.value)
    assert not path.exists()


def test_a_large_clean_save_keeps_every_exchange_in_order(tmp_path: Path) -> None:
    path = tmp_path / "test_x.yaml"
    recording = Recording(path, "once", "https://api.humanloop.com/v4", "t.py::test_x")
    recording.secrets = SECRETS
    recording.recorded = _clean_exchanges(300)

    assert recording.finish(test_failed=False).action == "written"

    again = Recording(path, "once", "https://api.humanloop.com/v4", "t.py::test_x")
    again.load()
    assert [(i.request, i.response) for i in again.loaded] == [
        (i.request, i.response) for i in recording.recorded
    ]
