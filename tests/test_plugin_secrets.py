"""Issue 5 end to end: a hostile server echoes the key everywhere; no secret reaches a file.

The server (tests/hostile_server.py, on loopback) sends the caller's key back
in headers, JSON, error messages and reason phrases, cookies, redirects,
gzip bodies, query strings (whole, half-encoded), base64 (also URL-encoded)
and over-escaped JSON; the client sends provider keys in plain and gzipped
JSON bodies, and the official SDK takes part. Each inner test (through
`pytester`) records against it with `--hl-record-mode=once`; then every file
is searched for every form of every secret (percent- and JSON-decoded too,
base64 bodies decoded), so is pytest's output, and the cassettes replay with
no key set and the server gone. The leak guard is
shown to catch a missing rule without writing anything, a replay miss to
print placeholders, and `hl-testkit scan` to tell a clean directory from a
planted leak, never printing the secret.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import re
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, unquote

import pytest
import yaml

from hl_testkit.secrets.scan import run_scan
from hl_testkit.secrets.scrub import (
    DEFAULT_SECRET_ENV,
    Leak,
    find_leaks,
    known_secrets,
    scrub_text,
    secret_forms,
)
from tests.hostile_server import HostileServer, b64

pytest.importorskip("humanloop")

# `+`, `/` and `=` change under every URL encoding. The `~` puts a `+` into the base64 of
# OPENAI_KEY (c2st...OTh+NzY1...), so that its URL-encoded base64 differs from its base64.
HL_KEY = "hl_sk+te/st=Key123456"
OPENAI_KEY = "sk-op+en/AI=key98~7654321"
SECRETS = {"HUMANLOOP_API_KEY": HL_KEY, "OPENAI_API_KEY": OPENAI_KEY}
RUN = ("-p", "no:cacheprovider")

HOSTILE_TESTS = """
import base64
import gzip
import json
import os

import pytest
import requests

JSON_UTF8 = {"Content-Type": "application/json; charset=utf-8"}


def b64(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def openai_key():
    return os.environ.get("OPENAI_API_KEY", "replay-openai-key")


@pytest.fixture
def http(hl_cassette):
    with requests.Session() as session:
        session.headers["x-Api-Key"] = hl_cassette.api_key  # mixed case on purpose
        yield session


def test_header_echo(hl_cassette, http):
    got = http.get(hl_cassette.base_url + "/echo/header", timeout=5)
    assert got.status_code == 200 and got.json() == {"ok": True}
    assert got.headers["X-Echo-Key"] and got.headers["X-Echo-B64"]


def test_json_echo_with_bearer(hl_cassette):
    headers = {"Authorization": "Bearer " + hl_cassette.api_key}
    got = requests.get(hl_cassette.base_url + "/echo/json", headers=headers, timeout=5)
    assert got.status_code == 200
    assert sorted(got.json()) == ["b64", "basic", "echo", "nested", "note"]


def test_json_echo_with_basic_auth(hl_cassette):
    auth = ("user", hl_cassette.api_key)
    got = requests.get(hl_cassette.base_url + "/echo/json", auth=auth, timeout=5)
    assert got.status_code == 200 and "token" in got.json()["nested"]


def test_error_message(hl_cassette, http):
    got = http.get(hl_cassette.base_url + "/echo/error", timeout=5)
    assert got.status_code == 401
    assert got.reason.startswith("Bad Key ")
    assert got.json()["detail"].startswith("bad key ")


def test_set_cookie(hl_cassette, http):
    got = http.get(hl_cassette.base_url + "/echo/cookie", timeout=5)
    assert got.status_code == 200 and got.json() == {"ok": True}


def test_redirect(hl_cassette, http):
    got = http.get(hl_cassette.base_url + "/echo/redirect", timeout=5)
    assert [r.status_code for r in got.history] == [302]
    assert got.status_code == 200 and got.json()["landed"] is True


def test_unicode_escaped_json(hl_cassette, http):
    got = http.get(hl_cassette.base_url + "/echo/escaped", timeout=5)
    assert got.status_code == 200 and got.json()["detail"].startswith("bad key ")


def test_gzip_response(hl_cassette, http):
    got = http.get(hl_cassette.base_url + "/echo/gzip", timeout=5)
    assert got.status_code == 200 and got.json()["detail"].startswith("bad key ")


def test_query_string(hl_cassette, http):
    key = hl_cassette.api_key
    params = {"state": key, "sig": b64(key), "page": "1"}
    got = http.get(hl_cassette.base_url + "/echo/query", params=params, timeout=5)
    assert got.status_code == 200 and got.json()["params"]["page"] == "1"


def test_provider_keys_in_request_body(hl_cassette, http):
    payload = {"provider_api_keys": {"openai": openai_key()}, "note": "plain"}
    data = json.dumps(payload).encode("utf-8")
    got = http.post(hl_cassette.base_url + "/echo/provider", data=data, headers=JSON_UTF8)
    assert got.status_code == 200 and got.json()["received"]["note"] == "plain"


def test_provider_keys_in_gzip_request_body(hl_cassette, http):
    payload = {"provider_api_keys": {"openai": openai_key()}, "note": "zipped"}
    data = gzip.compress(json.dumps(payload).encode("utf-8"), mtime=0)
    headers = {**JSON_UTF8, "Content-Encoding": "gzip"}
    got = http.post(hl_cassette.base_url + "/echo/provider", data=data, headers=headers)
    assert got.status_code == 200 and got.json()["received"]["note"] == "zipped"


def test_official_sdk(hl_cassette):
    from humanloop import Humanloop

    sdk = Humanloop(api_key=hl_cassette.api_key, host=hl_cassette.base_url)
    created = sdk.sessions.create()
    assert created.status == 201 and created.body["id"].startswith("sesh_")
"""
HOSTILE_COUNT = HOSTILE_TESTS.count("\ndef test_")

LEAKY_CONFTEST = """
import json
import os
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import pytest


def put_the_key_back(interaction):
    # What a missing rule amounts to: the key, raw and percent-encoded, in what is stored.
    key = os.environ["HUMANLOOP_API_KEY"]
    interaction.response.body = json.dumps({"echo": key}).encode("utf-8")
    interaction.response.headers["X-Forwarded-Key"] = quote(key, safe="")
    return interaction


@pytest.fixture(scope="module")
def hl_scrub_rules(hl_scrub_rules):
    if not os.environ.get("HLT_LEAKY"):
        return hl_scrub_rules
    names = tuple(n for n in hl_scrub_rules.header_names if n != "*key*")
    assert len(names) == len(hl_scrub_rules.header_names) - 1
    return replace(hl_scrub_rules, header_names=names, functions=(put_the_key_back,))


def pytest_exception_interact(node, call, report):
    with open("errors.txt", "a", encoding="utf-8") as out:
        out.write(f"{report.when} {call.excinfo.typename}\\n")
"""

LEAKY_TEST = """
import requests


def test_echo(hl_cassette):
    headers = {"X-API-KEY": hl_cassette.api_key}
    got = requests.get(hl_cassette.base_url + "/echo/json", headers=headers, timeout=5)
    assert got.status_code == 200
"""

MISS_TEST = """
import os

import requests


def test_query_miss(hl_cassette):
    key = hl_cassette.api_key
    params = {"state": key, "q": os.environ["OPENAI_API_KEY"], "page": os.environ["HLT_PAGE"]}
    headers = {"X-API-KEY": key}
    url = hl_cassette.base_url + "/echo/query"
    assert requests.get(url, params=params, headers=headers, timeout=5).status_code == 200


def test_body_miss(hl_cassette):
    key = hl_cassette.api_key
    payload = {"comment": "my key is " + key, "page": os.environ["HLT_PAGE"]}
    headers = {"X-API-KEY": key}
    url = hl_cassette.base_url + "/echo/provider"
    assert requests.post(url, json=payload, headers=headers, timeout=5).status_code == 200
"""


# -- fixtures and helpers -------------------------------------------------------------


PROXY_ENV = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


@pytest.fixture(autouse=True)
def _only_our_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """No outside key, mode or base URL; no proxy to carry loopback traffic elsewhere."""
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HLT_LEAKY", "HLT_PAGE"):
        monkeypatch.delenv(name, raising=False)
    for name in (*DEFAULT_SECRET_ENV, *PROXY_ENV, *(p.lower() for p in PROXY_ENV)):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    server = HostileServer().start()
    try:
        yield server
    finally:
        server.stop()


def live_against(monkeypatch: pytest.MonkeyPatch, server: HostileServer) -> None:
    """Record against `server` with both keys in the environment."""
    monkeypatch.setenv("HUMANLOOP_BASE_URL", server.base_url)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


def every_form() -> dict[str, tuple[str, str]]:
    """Text → (source, text) for every form of every secret: what must appear nowhere."""
    forms = {
        text: (source, text) for source, value in SECRETS.items() for text in secret_forms(value)
    }
    assert {HL_KEY, b64(HL_KEY), "hl_sk%2Bte%2Fst%3DKey123456"} <= set(forms)
    return forms


def decodings(text: str) -> list[str]:
    """`text` as it is, percent-decoded, and JSON-unescaped.

    A key partly percent-encoded (`%2B` but a raw `/`) or escaped as JSON allows
    (`\\u002B`) has no form of its own; decoded, it shows.
    """
    unescaped = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    return [text, unquote(text), unescaped.replace("\\/", "/")]


def leaks_in(text: str | bytes) -> list[str]:
    """Which secrets (by source, never by value) occur in `text`, in any form."""
    data = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return sorted(
        {
            source
            for variant in decodings(data)
            for form, (source, _) in every_form().items()
            if form in variant
        }
    )


def stored_bodies(document: Any) -> Iterator[bytes]:
    """Every base64 body of a cassette, decoded (and gunzipped if it is gzip)."""
    for interaction in (document or {}).get("interactions") or []:
        for side in ("request", "response"):
            body = interaction[side]["body"]
            if isinstance(body, dict) and "base64" in body:
                data = base64.b64decode(body["base64"])
                yield gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def leaks_under(root: Path) -> dict[str, list[str]]:
    """File (relative) → leaked sources, for every file under `root`, bodies decoded."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        sources = set(leaks_in(data))
        if path.suffix == ".yaml":
            for body in stored_bodies(yaml.safe_load(data)):
                sources.update(leaks_in(body))
        if sources:
            found[str(path.relative_to(root))] = sorted(sources)
    return found


def output(result: pytest.RunResult) -> str:
    return result.stdout.str() + "\n" + result.stderr.str()


def cassette_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def record_hostile(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, server: HostileServer
) -> Path:
    """Record HOSTILE_TESTS against `server`; the cassette directory."""
    pytester.makepyfile(test_hostile=HOSTILE_TESTS)
    live_against(monkeypatch, server)
    result = pytester.runpytest("--hl-record-mode=once", *RUN)
    result.assert_outcomes(passed=HOSTILE_COUNT)
    assert leaks_in(output(result)) == []
    return pytester.path / "cassettes"


# -- recording a hostile server ---------------------------------------------------------


def test_a_hostile_server_leaves_no_secret_on_disk_or_in_output_and_replays_offline(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, hostile: HostileServer
) -> None:
    cassettes = record_hostile(pytester, monkeypatch, hostile)

    # The key really went over the wire, by every route: scrubbing had work to do.
    routes = {r.target.split("?")[0] for r in hostile.received}
    assert routes == {
        "/v4/sessions",
        *(f"/v4/echo/{r}" for r in ("header", "json", "error", "cookie", "redirect")),
        *(f"/v4/echo/{r}" for r in ("landing", "escaped", "gzip", "query", "provider")),
    }
    assert {r.credential for r in hostile.received} == {HL_KEY}
    provider = [r.body for r in hostile.received if r.target == "/v4/echo/provider"]
    assert len(provider) == 2
    assert all(OPENAI_KEY.encode() in body for body in provider)

    files = cassette_files(cassettes)
    assert len(files) == HOSTILE_COUNT, sorted(files)
    assert leaks_under(pytester.path) == {}  # the whole tree: cassettes, sources, anything
    text = b"\n".join(files.values()).decode("utf-8")
    for placeholder in ("<HUMANLOOP_API_KEY>", "<OPENAI_API_KEY>", "<REDACTED>"):
        assert placeholder in text  # replaced, not dropped: the exchanges still say what happened
    assert "content-encoding" not in text.lower()  # compressed bodies are stored decoded
    assert "base64:" not in text  # so every body is readable, and was searched as text

    hostile.stop()  # nothing to answer on its port any more
    for name in SECRETS:
        monkeypatch.delenv(name)
    replayed = pytester.runpytest(*RUN)
    replayed.assert_outcomes(passed=HOSTILE_COUNT)
    assert leaks_in(output(replayed)) == []
    assert cassette_files(cassettes) == files
    assert len(hostile.received) == HOSTILE_COUNT + 1  # the redirect is two; replay sent none


def test_hl_testkit_scan_passes_the_recorded_directory_and_flags_a_planted_leak(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    hostile: HostileServer,
    tmp_path: Path,
) -> None:
    cassettes = record_hostile(pytester, monkeypatch, hostile)

    out, err = io.StringIO(), io.StringIO()
    assert run_scan([str(cassettes)], SECRETS, out, err) == 0, out.getvalue()
    assert "file(s) clean" in out.getvalue()

    planted = tmp_path / "cassettes"
    shutil.copytree(cassettes, planted)
    victim = planted / "test_hostile" / "test_error_message.yaml"
    text = victim.read_text(encoding="utf-8")
    assert "bad key <HUMANLOOP_API_KEY>" in text
    victim.write_text(text.replace("<HUMANLOOP_API_KEY>", b64(HL_KEY), 1), encoding="utf-8")

    out, err = io.StringIO(), io.StringIO()
    assert run_scan([str(planted)], SECRETS, out, err) == 1
    line = next(n for n, s in enumerate(text.splitlines(), 1) if "<HUMANLOOP_API_KEY>" in s)
    assert f"{victim}:{line}: secret, base64 (HUMANLOOP_API_KEY)" in out.getvalue()
    assert leaks_in(out.getvalue() + err.getvalue()) == []


# -- the leak guard ---------------------------------------------------------------------


def test_a_missing_rule_is_caught_by_the_leak_guard_and_nothing_is_written(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, hostile: HostileServer
) -> None:
    pytester.makeconftest(LEAKY_CONFTEST)
    pytester.makepyfile(test_leaky=LEAKY_TEST)
    live_against(monkeypatch, hostile)
    cassettes = pytester.path / "cassettes"
    errors = pytester.path / "errors.txt"

    def refused(result: pytest.RunResult) -> None:
        result.assert_outcomes(passed=1, errors=1)  # the test ran; saving it failed
        assert errors.read_text(encoding="utf-8") == "teardown LeakError\n"
        errors.unlink()
        result.stdout.fnmatch_lines(
            [
                "*hl-testkit refused to write *test_echo.yaml: it would hold "
                "HUMANLOOP_API_KEY (percent-encoded) at line *, HUMANLOOP_API_KEY (raw) "
                "at line *. Nothing was written (a previous version, if any, is unchanged).*"
            ]
        )
        assert leaks_in(output(result)) == []

    # No cassette yet: none is created, nor any temporary or lock file.
    monkeypatch.setenv("HLT_LEAKY", "1")
    refused(pytester.runpytest("--hl-record-mode=once", *RUN))
    assert not cassettes.exists() or cassette_files(cassettes) == {}

    # With the rules intact the same test records cleanly...
    monkeypatch.delenv("HLT_LEAKY")
    pytester.runpytest("--hl-record-mode=once", *RUN).assert_outcomes(passed=1)
    before = cassette_files(cassettes)
    assert list(before) == ["test_leaky/test_echo.yaml"]

    # ...and a leaky re-recording leaves that version exactly as it was.
    monkeypatch.setenv("HLT_LEAKY", "1")
    refused(pytester.runpytest("--hl-record-mode=rewrite", *RUN))
    assert cassette_files(cassettes) == before
    assert leaks_under(pytester.path) == {}


# -- replay misses --------------------------------------------------------------------


def test_a_replay_miss_prints_placeholders_never_the_keys(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, hostile: HostileServer
) -> None:
    pytester.makepyfile(test_miss=MISS_TEST)
    live_against(monkeypatch, hostile)
    monkeypatch.setenv("HLT_PAGE", "1")
    pytester.runpytest("--hl-record-mode=once", *RUN).assert_outcomes(passed=2)
    hostile.stop()

    # Replay on a machine that has the keys, sending them where no rule looks by name.
    monkeypatch.setenv("HLT_PAGE", "2")
    result = pytester.runpytest("--showlocals", "--tb=long", *RUN)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "hl-testkit: the cassette has no answer for this request",
            "",
            "  request:  GET /echo/query?page=2&q=<OPENAI_API_KEY>&state=<HUMANLOOP_API_KEY>",
            "*",
            "  closest:  #0 GET /echo/query?page=1&q=<OPENAI_API_KEY>&state=<HUMANLOOP_API_KEY>",
            "    - query page: recorded '1', requested '2'",
        ],
        consecutive=True,
    )
    result.stdout.fnmatch_lines(
        [
            "  request:  POST /echo/provider",
            '  body:     {"comment":"my key is <HUMANLOOP_API_KEY>","page":"2"}',
        ],
        consecutive=True,
    )
    assert leaks_in(output(result)) == []


def test_the_helpers_do_see_a_leak(tmp_path: Path) -> None:
    """The checks above can fail: each form of each key, and a gzipped base64 body."""
    for source, value in SECRETS.items():
        for form in secret_forms(value):
            assert leaks_in(f"x {form} y") == [source]
        assert leaks_in(quote(value, safe="/=")) == [source]  # half-encoded
        assert leaks_in(json.dumps(value).replace("+", "\\u002B")) == [source]
        assert leaks_in(quote_plus(b64(value))) == [source]
    assert leaks_in("<HUMANLOOP_API_KEY> <OPENAI_API_KEY> <REDACTED>") == []
    body = base64.b64encode(gzip.compress(json.dumps({"k": OPENAI_KEY}).encode())).decode()
    document: Mapping[str, Any] = {
        "interactions": [{"request": {"body": {"base64": body}}, "response": {"body": None}}]
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    assert leaks_under(tmp_path) == {"c.yaml": ["OPENAI_API_KEY"]}


@pytest.mark.parametrize(
    ("text", "source", "form"),
    [
        # half-encoded, as by quote(key, safe="/="): `%2B`, but `/` and `=` as they are
        (quote(HL_KEY, safe="/="), "HUMANLOOP_API_KEY", "percent-encoded"),
        # JSON from .NET, which writes `+` as \u002B
        (HL_KEY.replace("+", "\\u002B"), "HUMANLOOP_API_KEY", "json-escaped"),
        # base64 in a URL: its `+` is %2B
        (quote_plus(b64(OPENAI_KEY)), "OPENAI_API_KEY", "percent-encoded base64"),
        (b64(OPENAI_KEY).replace("+", "\\u002b"), "OPENAI_API_KEY", "json-escaped base64"),
    ],
    ids=["half-encoded", "dotnet-json", "base64-in-url", "base64-in-dotnet-json"],
)
def test_escapings_that_are_no_fixed_form_are_scrubbed_and_found(
    text: str, source: str, form: str
) -> None:
    """What the hostile server's half-encoded, over-escaped and URL-encoded base64 echoes
    rely on: the scrubber replaces them, and the guard and scan name them."""
    secrets = known_secrets(SECRETS)
    assert find_leaks(f"a: 1\nb: x{text}y\n", secrets) == [Leak(source, form, 2)]
    assert scrub_text(f"x{text}y", secrets) == f"x<{source}>y"
