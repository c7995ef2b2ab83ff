"""The `sessions` fixture's direct recording (`hl_testkit.recording.record_adapter`) agrees
with vcrpy's path: byte-identical cassettes, the same responses (status, reason,
headers in order, body, cookies), the same misses and refusals, the same leak
refusal and unreachable host, and in pytest the same summary lines and failures.

Each case runs one sequence of calls twice, against the same deterministic loopback
server (or the stand-in): once through vcrpy's stubs (the adapter not mounted),
once through the adapter, and compares everything a test or the plugin can see.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import re
import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
import trustme
import vcr.stubs as vcr_stubs
from hypothesis import given
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict
from urllib3._collections import HTTPHeaderDict

from hl_testkit.client import SessionsClient
from hl_testkit.errors import ApiBoundaryError, ApiException
from hl_testkit.recording import unreachable, vcr_cassette
from hl_testkit.recording.record_adapter import (
    RecordAdapter,
    _split_stub_uri,
    case_insensitive,
    header_dict,
    plain_headers,
    recorded_headers,
    stub_origin,
    stub_uri,
)
from hl_testkit.recording.recorder import CassetteMissError, LeakError, Recording, activated
from hl_testkit.secrets import scrub
from hl_testkit.standin import DEMO_PROJECT_ID, StandinServer
from tests.test_matching import header_pairs
from tests.test_sessions_replay import _failures, _summary
from tests.varied_api import varied_api

KEY = "hl_sk_record_adapter_0123456789"

Call = Callable[[SessionsClient], Any]
CALLS: list[Call] = [
    lambda s: s.create(),
    lambda s: s.create(),  # the same request again: recorded twice
    lambda s: s.get(id="sesh_1"),
    lambda s: s.list(project_id="pr_1", page=1, size=2),
    lambda s: s.get(id="sesh_gzip"),
    lambda s: s.get(id="sesh_chunked"),
    lambda s: s.get(id="sesh_cookie"),
    lambda s: s.get(id="sesh_404"),
    lambda s: s.get(id="sesh_500"),
    lambda s: s.get(id="sesh_old"),  # a redirect, followed by requests: two exchanges
    lambda s: s.http.post(s.base_url + "/sessions", data="name=x&n=1"),  # a str body
    lambda s: s.http.post(s.base_url + "/sessions", json={"token": KEY}),  # scrubbed
    lambda s: s.http.post(s.base_url + "/sessions", data=iter([b"a", b"b"])),  # streamed
    lambda s: s.http.head(s.base_url + "/sessions/sesh_1"),
    lambda s: s.http.get(s.base_url + "/sessions/../../escape"),  # outside the base path
]


def _headers(headers: Any) -> list[tuple[str, str]]:
    # The stand-in's clock and its random request id differ from run to run.
    return [(k, v) for k, v in headers.items() if k not in ("Date", "X-Request-Id")]


def _seen(outcome: Any) -> Any:
    """What a test can see of one call's result or error (not its timing)."""
    if isinstance(outcome, requests.Response):
        cookies = sorted(outcome.cookies.get_dict().items())  # type: ignore[no-untyped-call]
        return ("response", outcome.status_code, outcome.reason, _headers(outcome.headers),
                outcome.content, outcome.encoding, outcome.url, cookies)  # fmt: skip
    if isinstance(outcome, ApiException):
        return ("api", outcome.status, outcome.reason, outcome.body, _headers(outcome.headers),
                outcome.text, str(outcome))  # fmt: skip
    if isinstance(outcome, requests.ConnectionError):
        return ("unreachable", unreachable.unreachable(outcome, ""))
    if isinstance(outcome, Exception):
        return (type(outcome).__name__, str(outcome))
    return ("ok", outcome.status, outcome.body, _headers(outcome.headers))


def _record(
    path: Path, mode: str, base_url: str, direct: bool, calls: list[Call] = CALLS
) -> dict[str, Any]:
    """Run `calls` recording into `path` in `mode`; everything a test and the plugin see."""
    recording = Recording(
        path=path,
        record_mode=mode,
        base_url=base_url,
        nodeid="t.py::t",
        api_key=KEY,
        recorded_against="stand-in",
        secrets=scrub.known_secrets({}, extra={"HUMANLOOP_API_KEY": KEY}),
    )
    recording.load()
    seen: list[Any] = []
    with activated(recording, {}), SessionsClient(KEY, base_url=base_url) as client:
        assert recording.direct_record
        if direct:
            fallback = client.http.get_adapter(client.base_url)
            client.http.mount(client.base_url, RecordAdapter(recording, fallback))
        for call in calls:
            try:
                seen.append(_seen(call(client)))
            except (ApiException, CassetteMissError, ApiBoundaryError, OSError) as exc:
                seen.append(_seen(exc))
        seen.append(sorted(client.http.cookies.get_dict().items()))  # type: ignore[no-untyped-call]
    try:
        result: Any = recording.finish(test_failed=False)
        result = (result.action, result.interactions)
    except LeakError as exc:
        result = ("LeakError", str(exc))
    return {
        "seen": seen,
        "misses": recording.misses,
        "played": recording.played_positions(),
        "result": result,
        "file": path.read_bytes() if path.exists() else None,
    }


def _agree(tmp_path: Path, mode: str, base_url: str, calls: list[Call] = CALLS,
           start: bytes | None = None) -> dict[str, Any]:  # fmt: skip
    """Both paths from the same starting file; asserts they agree; returns vcrpy's."""
    outcomes = []
    path = tmp_path / "c.yaml"  # one path: messages name it
    for direct in (False, True):
        path.unlink(missing_ok=True)
        if start is not None:
            path.write_bytes(start)
        outcomes.append(_record(path, mode, base_url, direct, calls))
    slow, fast = outcomes
    for n, (a, b) in enumerate(zip(slow["seen"], fast["seen"], strict=True)):
        assert a == b, f"call {n}"
    assert slow == fast
    return slow


_NAMES = st.sampled_from(
    ["Accept", "accept", "ACCEPT", "Content-Type", "content-type", "X-Api-Key", "x-api-key",
     "Content-Encoding", "ünï"]
)  # fmt: skip
_OPS = st.lists(st.tuples(st.booleans(), _NAMES, st.text(max_size=5)), max_size=12)


@given(_OPS)
def test_plain_headers_are_what_dict_makes_of_them(ops: list[tuple[bool, str, str]]) -> None:
    # The shortcut through requests' store gives dict()'s names (as last spelt), values
    # and order, whatever was set, overwritten in another case and deleted before.
    headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
    for delete, name, value in ops:
        if delete:
            headers.pop(name, None)
        else:
            headers[name] = value
    made = plain_headers(headers)
    assert list(made.items()) == list(dict(headers).items())
    assert list(plain_headers(dict(headers)).items()) == list(made.items())


class _Bytes:
    """A socket that holds one answer: `http.client` reads it through `makefile`."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(io.BytesIO(self.data))


def _answer(headers: list[tuple[str, str]]) -> http.client.HTTPResponse:
    """A real `http.client` response with these header lines, in this order."""
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers)
    raw = f"HTTP/1.1 200 OK\r\n{lines}Content-Length: 0\r\n\r\n".encode("latin-1")
    response = http.client.HTTPResponse(_Bytes(raw))  # type: ignore[arg-type]
    response.begin()
    return response


_HEADER_NAMES = st.sampled_from(
    ["Content-Type", "content-type", "Set-Cookie", "set-cookie", "SET-COOKIE", "X-A", "x-a",
     "Transfer-Encoding", "Vary", "X-\u00e9"]
)  # fmt: skip
_HEADER_VALUES = st.text(alphabet="abc ,;=\u00e9\u00ff", max_size=6).map(str.strip)


@given(st.lists(st.tuples(_HEADER_NAMES, _HEADER_VALUES), max_size=10))
def test_serialize_headers_is_what_urllib3_reads_live(headers: list[tuple[str, str]]) -> None:
    # Each name once, as first spelt, with every value it had in any case, in order, from
    # one read: what urllib3 makes of the live message (so requests shows what it showed
    # live; Transfer-Encoding aside, which vcrpy's answer drops as the body is whole).
    # Until test_fidelity.py, vcrpy's own was the oracle here, down to its bug: every
    # spelling of a name got every value of the name (`X-A: 1`, `x-a: 2` replayed as
    # `1, 2, 1, 2`). It still is where no name comes in two spellings.
    response = _answer(headers)
    mine = vcr_cassette.serialize_headers(response)
    live = HTTPHeaderDict(response.msg.items())  # urllib3's reading, 1 and 2 alike
    # The adapter reads them off urllib3's reading rather than the message again.
    assert list(recorded_headers(live).items()) == list(mine.items())
    made = header_dict(mine)
    kept = [(k, v) for k, v in live.items() if k.lower() != "transfer-encoding"]  # type: ignore[no-untyped-call]
    assert list(made.items()) == kept  # type: ignore[no-untyped-call]
    container: dict[str, list[str]] = live._container  # type: ignore[attr-defined]
    container.pop("transfer-encoding", None)  # mutates `live`: read no more of it
    assert made._container == container  # type: ignore[attr-defined]
    assert len({name.lower() for name in mine}) == len(mine)
    names = [name for name, _ in headers]
    if len({name.lower() for name in names}) == len(set(names)):  # the usual case
        assert mine == vcr_stubs.serialize_headers(response)


@given(st.lists(st.tuples(_HEADER_NAMES, st.lists(_HEADER_VALUES, max_size=3)), max_size=8))
def test_header_dict_is_what_urllib3_makes_of_the_pairs(
    headers: list[tuple[str, list[str]]],
) -> None:
    # Filled a name at a time: urllib3's own dict of the pairs, down to its container.
    answer = dict(headers)
    mine = header_dict(answer)
    theirs = HTTPHeaderDict(header_pairs(answer))
    assert mine._container == theirs._container  # type: ignore[attr-defined]
    assert list(mine.items()) == list(theirs.items())  # type: ignore[no-untyped-call]
    assert list(mine.iteritems()) == list(theirs.iteritems())  # type: ignore[no-untyped-call]
    # And what requests makes of it (`build_response`), down to its store.
    made = case_insensitive(mine)
    expected = CaseInsensitiveDict(theirs)
    assert type(made._store) is type(expected._store)  # type: ignore[attr-defined]
    assert list(made._store.items()) == list(expected._store.items())  # type: ignore[attr-defined]
    assert list(made.items()) == list(expected.items())


_ORIGINS = st.sampled_from(
    ["http://127.0.0.1:8123/v4", "https://api.humanloop.com/v4", "http://localhost:80/v4",
     "HTTP://LocalHost:5/v4", "http://user:pw@127.0.0.1:9/v4", "http://[::1]:7/v4",
     "https://api.humanloop.com:443", "http://x:99999/v4"]
)  # fmt: skip
_URL_TAILS = st.text(alphabet="/?#&=%+ \t\n@:[]._-aZ09\u00e9~;", max_size=20)


@given(_ORIGINS, _URL_TAILS)
def test_stub_uri_without_the_split_is_the_split(base_url: str, tail: str) -> None:
    # A URL taken as it is (its origin's own, a path after it) is what the split makes;
    # origins not in that form (a default port, capitals, userinfo, brackets) take none.
    origin = stub_origin(base_url)
    request = requests.PreparedRequest()
    for url in (base_url + tail, base_url + "/" + tail, base_url.partition("/v4")[0] + tail):
        request.url = url
        try:
            slow = _split_stub_uri(url)
        except ValueError as exc:  # a bad port or bracket: the split fails on both paths
            with pytest.raises(ValueError, match=re.escape(str(exc))):
                stub_uri(request, origin)
            continue
        assert stub_uri(request, origin) == slow


def test_stub_uri_takes_the_shortcut_for_its_origin() -> None:
    assert stub_origin("http://127.0.0.1:8123/v4") == "http://127.0.0.1:8123"
    assert stub_origin("http://localhost:80/v4") == ""  # the split drops the default port
    assert stub_origin("http://user:pw@127.0.0.1:9/v4") == ""
    request = requests.PreparedRequest()
    request.url = "http://127.0.0.1:8123/v4/sessions?page=1"
    assert stub_uri(request, "http://127.0.0.1:8123") is request.url


_KEY_CALLS: list[Call] = [
    lambda s: s.http.get(s.base_url + "/sessions/sesh_1", params={"state": KEY, "api_key": KEY}),
    lambda s: s.http.get(s.base_url + "/sessions/sesh_1?q=" + quote(KEY, safe="")),
    lambda s: s.http.get(
        s.base_url + "/sessions/sesh_1",
        params={"b": base64.b64encode(KEY.encode()).decode(), "x": "k " + KEY},
    ),
    lambda s: s.http.get(s.base_url + "/sessions/sesh_1", headers={"X-Other": f"Bearer {KEY}"}),
    lambda s: s.http.post(s.base_url + "/sessions", json={"name": KEY, "token": "t" * 8}),
    lambda s: s.http.post(s.base_url + "/sessions", data={"note": KEY, "password": "p" * 8}),
    lambda s: s.http.post(
        s.base_url + "/sessions",
        data=json.dumps({"n": KEY}, ensure_ascii=True).replace("_", "\\u005f"),
        headers={"Content-Type": "application/json"},
    ),
]


def test_a_key_in_every_part_of_a_request_is_scrubbed_alike(tmp_path: Path) -> None:
    """The shortcuts (the stub URI unsplit, the stored URI passed on from the key, a body
    not parsed for fields it cannot name) leave no way through: the key in a query (raw,
    percent-encoded, base64, under a credential name), in a header, in JSON and form
    bodies (plain, escaped), and credential-named fields holding other values, record
    the same cassette on both paths, with no form of the key and no such value in it."""
    with varied_api() as base_url:
        slow = _agree(tmp_path, "once", base_url, _KEY_CALLS)
    assert slow["result"] == ("written", len(_KEY_CALLS))
    text = slow["file"].decode()
    assert scrub.find_leaks(text, scrub.known_secrets({}, extra={"K": KEY})) == []
    assert "t" * 8 not in text  # redacted by name
    assert "p" * 8 not in text
    assert text.count("<HUMANLOOP_API_KEY>") >= 5  # replaced by value, not dropped


def test_a_new_cassette_is_byte_identical(tmp_path: Path) -> None:
    with varied_api() as base_url:
        slow = _agree(tmp_path, "once", base_url)
    # The cases are what they claim to be (a comparison of two empty lists proves nothing).
    assert slow["result"] == ("written", 15)  # 14 sent (one refused, a redirect is two)
    kinds = [s[0] for s in slow["seen"][:-1]]
    assert kinds.count("api") == 2
    assert kinds[-1] == "ApiBoundaryError"
    assert slow["seen"][4][:3] == ("ok", 200, {**_session("sesh_gzip")})
    assert slow["seen"][9][:3] == ("ok", 200, {**_session("sesh_1")})  # redirect followed
    assert slow["seen"][-1] == [("a", "1"), ("b", "2")]  # the session's jar got the cookies
    text = slow["file"].decode()
    assert KEY not in text
    assert "token: <REDACTED>" in text


def test_headers_spelt_anew_record_alike_and_scrubbed(tmp_path: Path) -> None:
    # The adapter reads the request's headers off requests' store (`plain_headers`), and
    # hands them to the key only with a body: kept headers spelt anew over the session's,
    # the key in headers of either case and in a JSON body.
    calls: list[Call] = [
        lambda s: s.http.get(
            s.base_url + "/sessions/sesh_1",
            headers={"accept": "application/json", "x-api-key": KEY, "Authorization": KEY},
        ),
        lambda s: s.http.post(
            s.base_url + "/sessions",
            json={"token": KEY},
            headers={"content-type": "application/json", "X-Api-Key": KEY},
        ),
    ]
    with varied_api() as base_url:
        slow = _agree(tmp_path, "once", base_url, calls)
    assert slow["result"] == ("written", 2)
    text = slow["file"].decode()
    assert KEY not in text
    assert "accept: application/json" in text  # as the test spelt it, not the session
    assert "content-type: application/json" in text


def _session(id_: str) -> dict[str, Any]:
    from tests.varied_api import SESSION

    return {**SESSION, "id": id_}


@pytest.mark.parametrize("mode", ["new_episodes", "all", "rewrite", "once"])
def test_modes_over_an_existing_cassette(tmp_path: Path, mode: str) -> None:
    """Plays, records or refuses as vcrpy's path does: the first two calls and one more."""
    with varied_api() as base_url:
        first = _record(tmp_path / "first.yaml", "once", base_url, False, CALLS[:3])
        calls = [*CALLS[:3], lambda s: s.get(id="sesh_new"), lambda s: s.get(id="sesh_1")]
        slow = _agree(tmp_path, mode, base_url, calls, start=first["file"])
    if mode == "once":  # the cassette holds this test's: a new request is a miss
        assert [s[0] for s in slow["seen"][3:5]] == ["CassetteMissError"] * 2
        assert slow["result"] == ("read-only", 3)
    elif mode == "new_episodes":  # three played, two recorded
        assert len(slow["played"]) == 3
        assert slow["result"] == ("written", 5)
    else:
        assert slow["played"] == []
        assert slow["result"] == ("written", 5)


def test_the_stand_in_recording_is_byte_identical(tmp_path: Path) -> None:
    calls: list[Call] = [
        lambda s: s.list(project_id=DEMO_PROJECT_ID, page=1, size=2),
        lambda s: s.create(),
        lambda s: s.get(id="sesh_demo"),
    ]
    outcomes = []
    for direct in (False, True):
        with StandinServer(api_key=KEY) as server:  # fresh: the same ids and times
            path = tmp_path / "c.yaml"
            path.unlink(missing_ok=True)
            outcomes.append(_record(path, "once", server.base_url, direct, calls))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0]["result"] == ("written", 3)


def test_a_leak_is_refused_the_same_way(tmp_path: Path) -> None:
    with varied_api() as base_url:
        slow = _agree(tmp_path, "once", base_url, [lambda s: s.get(id="sesh_leak")])
    assert slow["result"][0] == "LeakError"
    assert slow["file"] is None
    assert "base64 > base64" in slow["result"][1]


def test_an_unreachable_host_fails_the_same_way(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, not listening: connection refused
        slow = _agree(tmp_path, "once", f"http://127.0.0.1:{port}/v4", CALLS[2:3])
    assert slow["seen"][0][0] == "unreachable"
    assert slow["seen"][0][1] is not None
    assert slow["result"] == ("none", 0)


def test_a_broken_body_fails_the_same_way(tmp_path: Path) -> None:
    """A connection dropped halfway through a body: requests' ConnectionError on both
    paths (not urllib3's own exception), nothing recorded for it, the next call fine."""
    calls: list[Call] = [lambda s: s.get(id="sesh_cut"), lambda s: s.get(id="sesh_1")]
    with varied_api() as base_url:
        slow = _agree(tmp_path, "once", base_url, calls)
    assert slow["seen"][0] == ("unreachable", None)  # a ConnectionError, not a connect failure
    assert slow["seen"][1][:2] == ("ok", 200)
    assert slow["result"] == ("written", 1)


def test_over_tls_both_paths_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The live API is HTTPS: the adapter (stepping out of vcrpy's patches) and vcrpy's
    # stubs both make verified TLS connections and record alike.
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    with varied_api(server_context) as base_url:
        assert base_url.startswith("https://")
        outcome = _agree(tmp_path, "once", base_url)
    assert outcome["result"] == ("written", 15)
    assert b"sesh_gzip" in outcome["file"]


def test_not_mounted_for_other_urls(tmp_path: Path) -> None:
    """Only the client's own base URL goes through the adapter."""
    session = requests.Session()
    recording = Recording(path=tmp_path / "c.yaml", record_mode="once", base_url="x", nodeid="t")
    session.mount("http://127.0.0.1:1/v4", RecordAdapter(recording, session.get_adapter("http://")))
    assert isinstance(session.get_adapter("http://127.0.0.1:1/v4/sessions"), RecordAdapter)
    assert not isinstance(session.get_adapter("https://example.com/v4"), RecordAdapter)


# -- the plugin: the fixture takes the direct path exactly when it may --------------------


PLUGIN_TESTS = """
import os
import pytest
from hl_testkit.recording.record_adapter import RecordAdapter

SLOW = {"before_record_request": lambda request: request}  # a hook: vcrpy's path


@pytest.fixture(scope="module")
def hl_vcr_config():
    return SLOW if os.environ.get("HL_TEST_SLOW") else {}


def _direct(sessions):
    return isinstance(sessions.http.get_adapter(sessions.base_url + "/x"), RecordAdapter)


def test_calls(sessions):
    print("DIRECT", _direct(sessions))
    sessions.create()
    sessions.get(id="sesh_gzip")
    sessions.get(id="sesh_cookie")
    sessions.list(project_id="pr_1", page=1, size=2)


def test_schema(sessions):  # its body breaks the schema: an error at teardown
    sessions.get(id="sesh_bad")


def test_leak(sessions):  # refused at teardown, nothing written
    sessions.get(id="sesh_leak")


def test_fails(sessions):  # a failed test's recording is not saved
    sessions.get(id="sesh_1")
    assert False, "on purpose"
"""


def _run_plugin(pytester: pytest.Pytester, base_url: str, slow: bool, port: int) -> Any:
    pytester.makepyfile(test_rec=PLUGIN_TESTS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HUMANLOOP_API_KEY", KEY)
        patch.setenv("HL_TEST_CLOSED", str(port))
        patch.delenv("HL_RECORD_MODE", raising=False)
        if slow:
            patch.setenv("HL_TEST_SLOW", "1")
        else:
            patch.delenv("HL_TEST_SLOW", raising=False)
        result = pytester.runpytest_subprocess(
            "-s", "-p", "no:cacheprovider", "--hl-record-mode=once", f"--hl-base-url={base_url}"
        )
    cassettes = pytester.path / "cassettes" / "test_rec"
    files = {p.name: p.read_bytes() for p in sorted(cassettes.glob("*.yaml"))}
    for p in cassettes.glob("*.yaml"):
        p.unlink()
    return result, files


def test_plugin_verdicts_agree(pytester: pytest.Pytester) -> None:
    with varied_api() as base_url, socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        slow, slow_files = _run_plugin(pytester, base_url, True, port)
        fast, fast_files = _run_plugin(pytester, base_url, False, port)
    assert "DIRECT False" in slow.stdout.str()
    assert "DIRECT True" in fast.stdout.str()
    assert slow.parseoutcomes() == fast.parseoutcomes()
    # Bodies breaking the schema (test_calls, test_schema) and the leak error at teardown.
    assert fast.parseoutcomes() == {"passed": 3, "failed": 1, "errors": 3}
    assert _summary(slow) == _summary(fast)
    assert _failures(slow) == _failures(fast)
    assert slow_files == fast_files
    assert sorted(fast_files) == ["test_calls.yaml", "test_schema.yaml"]


# -- an answer as read: requests' own Response stands ------------------------------------


_AS_READ_PATHS = [
    *("/sessions/sesh_1", "/sessions/sesh_cookie", "/sessions/sesh_404", "/sessions/sesh_old"),
    *("/sessions/sesh_chunked", "/sessions/sesh_gzip"),
]


def _raw_seen(response: requests.Response) -> Any:
    """What a test can see of a response, down to its raw answer (read after content)."""
    raw = response.raw
    return (_seen(response), response.text, list(response.iter_content(7)),
            [(r.status_code, r.url) for r in response.history],
            [(k, v) for k, v in raw.headers.items() if k not in ("Date", "X-Request-Id")],
            raw.status, raw.reason, raw.read(), raw.read(decode_content=True),
            raw.version)  # fmt: skip


def _as_read_outcomes(tmp_path: Path, base_url: str, direct: bool, hook: bool) -> Any:
    recording = Recording(path=tmp_path / f"{direct}{hook}.yaml", record_mode="once",
                          base_url=base_url, nodeid="t.py::t")  # fmt: skip
    recording.load()
    seen, rebuilt = [], []
    with activated(recording, {}), SessionsClient(KEY, base_url=base_url) as client:
        if direct:
            fallback = client.http.get_adapter(client.base_url)
            client.http.mount(client.base_url, RecordAdapter(recording, fallback))
        if hook:  # a response hook may read the raw answer before `Session.send` does
            client.http.hooks["response"].append(lambda response, **kwargs: None)
        for path in _AS_READ_PATHS:
            response = client.http.get(client.base_url + path)
            rebuilt.append(isinstance(response.raw._fp, io.BytesIO))
            seen.append(_raw_seen(response))
    return seen, rebuilt, [i.response.body for i in recording.recorded]


def test_an_answer_as_read_stands_as_requests_built_it(tmp_path: Path) -> None:
    """Without Transfer-Encoding or Content-Encoding, the answer read off the connection
    is what urllib3 makes of vcrpy's: requests' own Response is kept, its content the body
    read (not rebuilt over the body and read again). A test sees the same as through
    vcrpy's stubs and through the rebuilt answer (taken with a response hook, or a
    streamed request), down to the raw answer."""
    with varied_api() as base_url:
        slow = _as_read_outcomes(tmp_path, base_url, direct=False, hook=False)
        fast = _as_read_outcomes(tmp_path, base_url, direct=True, hook=False)
        hooked = _as_read_outcomes(tmp_path, base_url, direct=True, hook=True)
    for n, path in enumerate(_AS_READ_PATHS):
        assert fast[0][n] == hooked[0][n], path
        # vcrpy's raw answer has no HTTP version (None); the adapter's, rebuilt or not, 11.
        assert fast[0][n][:-1] == slow[0][n][:-1], path
        assert (slow[0][n][-1], fast[0][n][-1]) == (None, 11)
    assert fast[2] == slow[2] == hooked[2]  # the same bodies recorded
    # Kept as read: identity answers (the redirect's target too); rebuilt: the others.
    assert fast[1] == [False, False, False, False, True, True]
    assert hooked[1] == [True] * len(_AS_READ_PATHS)
    assert fast[0][0][0][4] == json.dumps({**_session("sesh_1")}).encode()
