"""Replay gives what live gave: a property, over generated answers of a real loopback
server, for both recording paths (the `sessions` client's record adapter, and a requests
client under vcrpy's stubs) and both replay paths (direct, and vcrpy's).

The server answers a generated response: a status the API uses, a reason phrase (the
standard one, another, or none), header names in random case with one name in several
spellings and repeated, values of printable ASCII (empty ones, and ones YAML reads as
something else), Set-Cookie repeated, a JSON body (compact or spaced, chunked or not).
The same request is made live (no cassette), recorded through each path (one cassette
text from both), and replayed from the file with the network closed; the replayed
`requests.Response` must equal the live one in all a test can see, but for what the
cassette drops or rewrites on purpose (`_DROPPED` and `_visible` say which and why).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from hl_testkit.cassettes import canonical
from hl_testkit.recording import requests_replay
from hl_testkit.recording.network import NetworkGuard
from hl_testkit.recording.recorder import Recording, activated
from hl_testkit.secrets.scrub import REDACTED
from tests.json_api import Reply, reply_api
from tests.test_record_adapter import _record
from tests.test_sessions_replay import API

#: The statuses the sessions API answers with (the stand-in's, and its faults').
STATUSES = (200, 201, 401, 404, 405, 413, 422, 429, 500, 502, 503)
#: Names scrubbing leaves alone (no `*key*`, `*token*`, ...) and no volatile one.
NAMES = ("X-Echo", "Vary", "Link", "Cache-Control", "Content-Language", "Warning", "X-Limit")
_PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
#: Values a YAML emitter must quote to read them back as the same string.
_YAML_WORDS = ["", " ", "null", "~", "true", "no", "1", "0x1F", "1e3", ".inf", "- a", "a: b",
               "#c", "'q'", '"d"', "[1]", "{a}", "*x", "&y", "!t", "|", ">", "%p", "@", "`",
               "2026-01-01", "a, b", "a  "]  # fmt: skip
VALUES = st.one_of(st.text(_PRINTABLE, max_size=12), st.sampled_from(_YAML_WORDS))
_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
)
_JSON = st.recursive(
    _SCALARS | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)

#: Never in a cassette: volatile headers (dates, the server, hop-by-hop; Transfer-Encoding
#: since the stored body is whole), so a re-record does not churn. Content-Length is
#: recomputed from the stored body on replay: compared whenever that body is the live one.
_DROPPED = canonical.VOLATILE_RESPONSE_HEADERS - {"content-length"}


def _spelt(name: str) -> st.SearchStrategy[str]:
    """`name` in random case, a letter at a time."""
    ups = st.lists(st.booleans(), min_size=len(name), max_size=len(name))
    return ups.map(lambda flags: "".join(map(_cased, name, flags)))


def _cased(letter: str, up: bool) -> str:
    return letter.upper() if up else letter.lower()


@st.composite
def replies(draw: st.DrawFn) -> tuple[Reply, bool]:
    """A server's answer, its JSON body compact (kept as data) or spaced and escaped
    (kept as text); whether it came in chunks (replayed whole, with a Content-Length)."""
    twice = draw(st.sampled_from(NAMES))  # one name in several spellings, repeated
    lines = [(draw(_spelt(twice)), draw(VALUES)) for _ in range(draw(st.integers(2, 4)))]
    others = st.tuples(st.sampled_from(NAMES).flatmap(_spelt), VALUES)
    lines += draw(st.lists(others, max_size=5))
    cookie = st.text(st.characters(codec="ascii", categories=["L", "N"]), max_size=8)
    for n in range(draw(st.integers(0, 3))):
        lines.append((draw(_spelt("Set-Cookie")), f"c{n}={draw(cookie)}; Path=/"))
    lines = draw(st.permutations(lines))
    compact = draw(st.booleans())
    body = json.dumps(
        draw(st.dictionaries(st.text(max_size=5), _JSON, max_size=4)),
        separators=(",", ":") if compact else None,
        ensure_ascii=not compact,
    ).encode()
    lines.append((draw(_spelt("Content-Type")), "application/json"))
    chunked = draw(st.booleans())
    if chunked:
        lines.append(("Transfer-Encoding", "chunked"))
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    else:
        lines.append(("Content-Length", str(len(body))))
    reason = draw(st.none() | st.text(_PRINTABLE, max_size=16))
    return Reply(draw(st.sampled_from(STATUSES)), reason, lines, body), chunked


#: The answer the server gives now (one example at a time).
_NOW: list[Reply] = []


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """One loopback server for every example (a server's shutdown waits for its poll)."""
    with reply_api(lambda request: _NOW[-1]) as base_url:
        yield base_url


def _visible(response: requests.Response, chunked: bool) -> dict[str, Any]:
    """What a test can see of `response`, but for what a cassette leaves out: `_DROPPED`
    headers; Set-Cookie's values (scrubbed to `<REDACTED>` by default: their number is
    compared, and so are cookie jars of nothing); the order of distinct names (a cassette
    writes them sorted, so that re-records do not churn: every file would change); the
    length of a chunked body (sent whole on replay, its Content-Length added:
    Transfer-Encoding is dropped). The body's bytes are compared, whatever its form."""
    raw = response.raw.headers
    dropped = _DROPPED | {"content-length"} if chunked else _DROPPED
    names = sorted({name.lower() for name in raw} - dropped)
    multi = {name: raw.getlist(name) for name in names}
    if "set-cookie" in multi:
        multi["set-cookie"] = [REDACTED] * len(multi["set-cookie"])
    spelt = {name.lower(): name for name in response.headers}
    return {
        "status": response.status_code,
        "reason": response.reason,
        "headers": {spelt[name]: ", ".join(values) for name, values in multi.items()},
        "joined": [response.headers[name] for name in names if name != "set-cookie"],
        "multi": multi,
        "json": json.loads(response.content),
        "content": response.content,
        "encoding": response.encoding,
    }


def _replay(path: Path, direct: bool) -> requests.Response:
    """The recorded answer from `path`, as a test's own requests client gets it in
    replay, the network closed: answered directly, or through vcrpy's stubs."""
    recording = Recording(path=path, record_mode="none", base_url=API, nodeid="t.py::t")
    recording.load()
    guard = NetworkGuard()
    guard.install()
    saved = requests_replay.enabled
    requests_replay.enabled = direct and saved
    try:
        hint = "replay reaches no network"
        with guard.scoped("closed", context="fidelity", hint=hint), activated(recording, {}):
            response = requests.get(API + "/sessions/sesh_f")
    finally:
        requests_replay.enabled = saved
        guard.uninstall()
    assert guard.blocked == []
    assert len(recording.played_positions()) == 1  # the recorded answer, played
    return response


def _recorded(base_url: str, direct: bool, kept: list[requests.Response]) -> bytes:
    """The cassette text one recording path writes for the answer (`_record`'s: the
    `sessions` client's own requests session, through the adapter or vcrpy's stubs)."""

    def call(client: Any) -> requests.Response:
        kept.append(client.http.get(client.base_url + "/sessions/sesh_f"))
        return kept[-1]

    with tempfile.TemporaryDirectory() as tmp:
        outcome = _record(Path(tmp) / "c.yaml", "once", base_url, direct, [call])
    assert outcome["result"] == ("written", 1)
    file: bytes = outcome["file"]
    return file


@settings(max_examples=40, deadline=None)
@given(reply=replies())
def test_replay_gives_what_live_gave(server: str, reply: tuple[Reply, bool]) -> None:
    _NOW.append(reply[0])
    chunked = reply[1]
    live = requests.get(server + "/sessions/sesh_f")  # no cassette: the truth
    expected = _visible(live, chunked)
    kept: list[requests.Response] = []
    by_vcrpy = _recorded(server, False, kept)
    by_adapter = _recorded(server, True, kept)
    assert by_adapter == by_vcrpy  # one cassette text from both recording paths
    for recording_time in kept:  # what the test saw while recording
        assert _visible(recording_time, chunked) == expected
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.yaml"
        path.write_bytes(by_adapter)
        for direct in (True, False):
            replayed = _visible(_replay(path, direct), chunked)
            assert replayed == expected, f"direct={direct}"


# -- the plugin: both fixtures record a name in two spellings once, replay it as live ------

PLUGIN_TEST = """
import pytest
import requests

@pytest.mark.hl_cassette(schema=False)  # the body is beside the point
def test_echo(sessions):
    url = sessions.base_url + "/sessions/sesh_1"
    for response in (sessions.http.get(url), requests.get(url)):  # adapter, vcrpy's stubs
        print("ECHO", repr(response.headers["X-Echo"]), response.raw.headers.getlist("x-echo"))
"""


def _two_spellings(request: Any) -> Reply:
    body = b'{"id":"sesh_1"}'
    headers = [("X-Echo", "a"), ("Content-Type", "application/json"), ("x-echo", "b")]
    return Reply(200, None, [*headers, ("Content-Length", str(len(body)))], body)


def test_the_fixtures_record_and_replay_what_live_gave(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_echo=PLUGIN_TEST)
    monkeypatch.setenv("HUMANLOOP_API_KEY", "a-test-key-123")
    with reply_api(_two_spellings) as base_url:
        monkeypatch.setenv("HUMANLOOP_BASE_URL", base_url)
        recorded = pytester.runpytest("-s", "--hl-record-mode=once")
    recorded.assert_outcomes(passed=1)
    replayed = pytester.runpytest("-s")  # the server is gone: replay reaches no network
    replayed.assert_outcomes(passed=1)
    for result in (recorded, replayed):
        assert sum(line.endswith("ECHO 'a, b' ['a', 'b']") for line in result.stdout.lines) == 2
    text = (pytester.path / "cassettes" / "test_echo" / "test_echo.yaml").read_text()
    assert "x-echo" not in text  # one spelling, the first, with both values
    assert text.count("      X-Echo:\n      - a\n      - b\n") == 2  # both fixtures' calls
