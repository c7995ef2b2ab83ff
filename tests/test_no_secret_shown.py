"""Issue 13, piece by piece: reprs, messages, file names, `check` output and log records
show placeholders, never a key. The end-to-end run is tests/test_plugin_output_guard.py."""

from __future__ import annotations

import io
import json
import logging
import pathlib
import socket
from urllib.parse import quote

import pytest
import requests

from hl_testkit import ApiException, SessionsClient
from hl_testkit.cassettes.file import dumps as dump_cassette
from hl_testkit.cassettes.model import CassetteData, Interaction, RecordedRequest, RecordedResponse
from hl_testkit.contract.check import run_check
from hl_testkit.recording.paths import cassette_path_for
from hl_testkit.recording.recorder import Recording
from hl_testkit.recording.target import Endpoint
from hl_testkit.recording.unreachable import unreachable
from hl_testkit.secrets.output_guard import OutputGuard
from hl_testkit.secrets.scrub import (
    USERINFO_SOURCE,
    known_secrets,
    secret_forms,
    userinfo_secrets,
    without_userinfo,
)
from hl_testkit.settings import Settings
from hl_testkit.standin import StandinServer

KEY = "hl_sk+fake/Key=0123456789"
SECRETS = known_secrets({"HUMANLOOP_API_KEY": KEY})


def shows_key(text: str) -> bool:
    return any(form in text for form in secret_forms(KEY))


def test_reprs_of_our_objects_show_no_key_and_no_userinfo() -> None:
    url = f"http://user:{quote(KEY, safe='')}@127.0.0.1:1/v4"
    recording = Recording(pathlib.Path("c.yaml"), "once", url, "t.py::t", api_key=KEY)
    settings = Settings("once", "default", False, pathlib.Path("c"), url, KEY, ())
    endpoint = Endpoint("live", url, KEY)
    client = SessionsClient(KEY, base_url=url, openai_api_key=KEY)

    for shown in (recording, settings, endpoint, client):
        assert not shows_key(repr(shown)), type(shown).__name__
        assert not shows_key(str(shown)), type(shown).__name__
    assert repr(client) == "SessionsClient(base_url='http://127.0.0.1:1/v4', api_key set)"
    assert "recording against the live API at http://127.0.0.1:1/v4;" in settings.header()


def test_urls_are_shown_without_userinfo_and_its_credential_is_a_secret() -> None:
    assert without_userinfo("https://u:p%2Bw@host:8/v4?a=1") == "https://host:8/v4?a=1"
    assert without_userinfo("https://host/v4") == "https://host/v4"
    assert userinfo_secrets("https://u:p%2Bw0rd@host/v4") == {USERINFO_SOURCE: "p+w0rd"}
    assert userinfo_secrets("https://tok_0123456789@host/v4") == {USERINFO_SOURCE: "tok_0123456789"}
    assert userinfo_secrets("https://host/v4") == {}
    assert userinfo_secrets(None) == {}


def test_an_api_exception_shows_placeholders_and_keeps_the_raw_body(
    standin: StandinServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stand-in's 401 names no key; a server that echoes one is stood in for by
    an environment key that equals what the error body holds."""
    monkeypatch.setenv("OPENAI_API_KEY", "Invalid API key")  # as if the body echoed a key
    client = SessionsClient("wrong-key-000", base_url=standin.base_url)
    with client, pytest.raises(ApiException) as caught:
        client.create()
    error = caught.value
    assert "<OPENAI_API_KEY>" in str(error)
    assert "Invalid API key" not in str(error)
    assert "Invalid API key" not in repr(error)
    assert "Invalid API key" in json.dumps(error.body)  # the data itself is left alone


def test_a_secret_in_a_node_id_becomes_its_placeholder_in_the_cassette_path(
    tmp_path: pathlib.Path,
) -> None:
    path = cassette_path_for(tmp_path, f"tests/test_a.py::test_p[{KEY}]", secrets=SECRETS)
    assert not shows_key(str(path))
    assert path.parent == tmp_path / "tests" / "test_a"
    assert path.name.startswith("test_p[_HUMANLOOP_API_KEY_]-")
    plain = cassette_path_for(tmp_path, "tests/test_a.py::test_p[abc]", secrets=SECRETS)
    assert plain.name == "test_p[abc].yaml"


def test_check_prints_placeholders_for_values_it_shows(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUMANLOOP_API_KEY", KEY)
    bad = Interaction(
        RecordedRequest("GET", "https://api.humanloop.com/v4/sessions/sesh_1"),
        RecordedResponse(
            200, "OK", {"Content-Type": "application/json"}, json.dumps({"id": KEY}).encode()
        ),
    )
    path = tmp_path / "c.yaml"
    path.write_text(dump_cassette(CassetteData([bad])), encoding="utf-8")

    for fmt in ("text", "json"):
        out, err = io.StringIO(), io.StringIO()
        assert run_check([path], out, fmt, err=err) == 1
        assert "<HUMANLOOP_API_KEY>" in out.getvalue()
        assert not shows_key(out.getvalue() + err.getvalue())
    out = io.StringIO()
    assert run_check([path], out, secrets=[]) == 1  # no secret known: shown as stored
    assert KEY in out.getvalue()


def test_log_records_are_scrubbed_as_they_are_made(pytestconfig: pytest.Config) -> None:
    guard = OutputGuard(pytestconfig, SECRETS)
    logger = logging.getLogger("t")
    try:
        record = logger.makeRecord(
            "t", logging.DEBUG, "f.py", 1, "GET /x?key=%s (%d)", (quote(KEY, safe=""), 1), None
        )
        assert record.getMessage() == "GET /x?key=<HUMANLOOP_API_KEY> (1)"
        try:
            raise ValueError("bad " + KEY)
        except ValueError as exc:
            failed = logger.makeRecord(
                "t", logging.ERROR, "f.py", 1, "failed", (), (ValueError, exc, None)
            )
        assert "bad <HUMANLOOP_API_KEY>" in logging.Formatter().format(failed)
        clean = logger.makeRecord("t", logging.INFO, "f.py", 1, "n=%d", (3,), None)
        assert (clean.msg, clean.args) == ("n=%d", (3,))  # untouched when nothing is found
    finally:
        guard.pytest_unconfigure()
    after = logger.makeRecord("t", logging.INFO, "f.py", 1, "%s", (KEY,), None)
    assert after.getMessage() == KEY  # the factory is gone with the run


def test_with_no_secret_known_the_guard_touches_nothing(pytestconfig: pytest.Config) -> None:
    before = logging.getLogRecordFactory()
    guard = OutputGuard(pytestconfig, ())
    assert logging.getLogRecordFactory() is before
    assert guard.text(f"x {KEY}") == f"x {KEY}"
    guard.remember(SECRETS)
    assert logging.getLogRecordFactory() is not before
    guard.pytest_unconfigure()
    assert logging.getLogRecordFactory() is before


def test_only_a_failure_to_connect_is_taken_for_one() -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    with pytest.raises(requests.ConnectionError) as refused:
        requests.get(f"http://127.0.0.1:{port}/v4/sessions?api_key=x", timeout=5)
    found = unreachable(refused.value, "http://127.0.0.1:9/v4")
    assert found is not None
    assert (found.host, found.port) == ("127.0.0.1", port)  # where it went, not the base URL
    assert found.tried == f"GET http://127.0.0.1:{port}/v4/sessions"  # no query: it may hold a key
    assert found.reason == "connection refused: nothing listens on that port"
    assert unreachable(ValueError("no"), "http://127.0.0.1:9/v4") is None
    assert unreachable(requests.HTTPError("500", response=requests.Response()), "http://x") is None
