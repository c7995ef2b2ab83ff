"""Issue 13 end to end: no secret in anything a run prints or keeps.

Inner runs (pytester, with the cache provider on) record against the hostile
loopback server (tests/hostile_server.py), which echoes the key in headers,
bodies, error messages and reason phrases, then replay; a third run records
against a closed port with the key as the base URL's password. Every run has
`-vv -l --tb=long -rA --junitxml=… --log-level=DEBUG`, and the key, raw and
in its quote, quote_plus, base64 and base64url forms (and every other form
the scrubber knows), must appear in none of: stdout, stderr, the JUnit XML,
the cassettes, any file name, the pytest cache.
"""

from __future__ import annotations

import base64
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from hl_testkit.secrets.scrub import DEFAULT_SECRET_ENV, secret_forms
from tests.hostile_server import HostileServer

pytest.importorskip("humanloop")

KEY = "hl_sk+te/st=Key98~7654321"  # `+/=` change under quote; `~` puts `+` in its base64
FLAGS = ("-vv", "-l", "--tb=long", "-rA", "--junitxml=junit.xml", "--log-level=DEBUG")

INNER = """
import logging
import os
import sys
import warnings

import pytest
import requests

KEY = os.environ["HUMANLOOP_API_KEY"]


def test_api_exception_echoing_the_key(sessions):
    sessions.get(id="sesh_missing")  # a 404 whose body echoes the key


def test_api_exception_with_the_key_in_its_reason_phrase(sessions):
    sessions.get(id="sesh_500")  # a 500 whose reason phrase and body echo the key


def test_reason_phrase_echoing_the_key(hl_cassette):
    headers = {"X-API-KEY": hl_cassette.api_key}
    got = requests.get(hl_cassette.base_url + "/echo/error", headers=headers, timeout=5)
    got.raise_for_status()  # "401 Client Error: Bad Key <key> for url: ..."


def test_recording_in_a_failed_assertion(hl_cassette, sessions):
    sessions.create()
    assert hl_cassette.recorded == [], (hl_cassette, sessions)


def test_output_logs_and_warnings(hl_cassette):
    print("stdout has", hl_cassette.api_key)
    sys.stderr.write("stderr has " + hl_cassette.api_key + "\\n")
    logging.getLogger("app").warning("the key is %s", hl_cassette.api_key)
    warnings.warn(UserWarning("warned about " + hl_cassette.api_key))


def test_key_in_a_query_string(hl_cassette):
    params = {"state": hl_cassette.api_key, "page": "1"}  # urllib3 and vcr log the URL
    headers = {"X-API-KEY": hl_cassette.api_key}
    got = requests.get(hl_cassette.base_url + "/echo/query", params=params, headers=headers)
    assert got.status_code == 200


@pytest.mark.parametrize("token", [KEY])  # its id is the key
def test_parametrized_by_the_key(token, sessions):
    assert sessions.create().status == 201


@pytest.mark.parametrize("n", [1], ids=[KEY])  # an explicit id that is the key; fails
def test_failing_with_the_key_as_id(n):
    assert n == 2


def test_skipped_with_the_key(hl_cassette):
    pytest.skip("skipped for " + hl_cassette.api_key)


@pytest.mark.xfail(reason="expected for " + KEY)
def test_xfail_with_the_key():
    assert False


def test_official_sdk(hl_humanloop):
    assert hl_humanloop.sessions.create().status == 201
"""
INNER_OUTCOMES = {"passed": 4, "failed": 5, "skipped": 1, "xfailed": 1}

UNREACHABLE = """
def test_sessions(sessions):
    sessions.create()


def test_sdk(hl_humanloop):
    hl_humanloop.sessions.create()
"""


def forms() -> set[str]:
    """The key as the issue lists it, and every form the scrubber replaces."""
    raw = KEY.encode()
    listed = {KEY, quote(KEY), quote(KEY, safe=""), quote_plus(KEY)}
    listed |= {base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()}
    assert len(listed) == 5  # quote_plus is quote(safe=""): the key has no space
    return listed | secret_forms(KEY)


def leaked(text: str) -> bool:
    return any(form in text for form in forms())


def tree_leaks(root: Path) -> list[str]:
    """Files under `root` whose name or content holds a form of the key (names only)."""
    found = []
    for path in sorted(root.rglob("*")):
        name = str(path.relative_to(root))
        if leaked(name) or (
            path.is_file() and leaked(path.read_bytes().decode("utf-8", "replace"))
        ):
            found.append(name)
    return found


@pytest.fixture(autouse=True)
def _only_our_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", *DEFAULT_SECRET_ENV):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    server = HostileServer().start()
    try:
        yield server
    finally:
        server.stop()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def readme_message() -> str:
    """The unreachable-API message as README.md quotes it."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```text\n(hl-testkit: cannot connect.*?)```", readme, re.S)
    assert len(blocks) == 1
    return str(blocks[0])


def output(result: pytest.RunResult) -> str:
    return result.stdout.str() + "\n" + result.stderr.str()


def test_no_form_of_the_key_in_output_xml_cassettes_file_names_or_cache(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, hostile: HostileServer
) -> None:
    pytester.makepyfile(test_vectors=INNER)
    monkeypatch.setenv("HUMANLOOP_API_KEY", KEY)
    monkeypatch.setenv("HUMANLOOP_BASE_URL", hostile.base_url)

    recorded = pytester.runpytest("--hl-record-mode=once", *FLAGS)
    recorded.assert_outcomes(**INNER_OUTCOMES)
    assert hostile.received
    assert {r.credential for r in hostile.received} == {KEY}
    text = output(recorded)
    # Each vector really reached the report, as its placeholder.
    for shown in (
        "ApiException: (404) Not Found: {'detail': 'no route /v4/sessions/sesh_missing "
        "for key <HUMANLOOP_API_KEY>'}",
        "ApiException: (500) Server Error <HUMANLOOP_API_KEY>: {'detail': 'internal error for "
        "key <HUMANLOOP_API_KEY>'}",
        "401 Client Error: Bad Key <HUMANLOOP_API_KEY> for url:",
        "stdout has <HUMANLOOP_API_KEY>",
        "stderr has <HUMANLOOP_API_KEY>",
        "the key is <HUMANLOOP_API_KEY>",
        "warned about <HUMANLOOP_API_KEY>",
        "test_parametrized_by_the_key[<HUMANLOOP_API_KEY>] PASSED",
        "test_failing_with_the_key_as_id[<HUMANLOOP_API_KEY>] FAILED",
        "skipped for <HUMANLOOP_API_KEY>",
        "expected for <HUMANLOOP_API_KEY>",
        '"GET /v4/echo/query?state=<HUMANLOOP_API_KEY>&page=1 HTTP/1.1" 200',  # urllib3, DEBUG
    ):
        assert shown in text
    assert "Recording(path=" in text
    assert "SessionsClient(base_url=" in text
    assert not leaked(text)

    hostile.stop()  # replay: vcr.stubs and the miss messages log URLs too
    replayed = pytester.runpytest(*FLAGS)
    assert not leaked(output(replayed))
    assert "vcr.stubs" in output(replayed)

    names = [p.name for p in (pytester.path / "cassettes" / "test_vectors").iterdir()]
    assert any(n.startswith("test_parametrized_by_the_key[_HUMANLOOP_API_KEY_]") for n in names)
    lastfailed = (pytester.path / ".pytest_cache" / "v" / "cache" / "lastfailed").read_text()
    assert "test_failing_with_the_key_as_id[<HUMANLOOP_API_KEY>]" in lastfailed
    assert "&lt;HUMANLOOP_API_KEY&gt;" in (pytester.path / "junit.xml").read_text()
    assert tree_leaks(pytester.path) == []  # cassettes, file names, cache, XML, anything


def test_under_xdist_workers_and_controller_show_no_key_either(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, hostile: HostileServer
) -> None:
    """Workers scrub their reports' text; the controller, which prints node ids and
    writes the XML and the cache, scrubs the ids (a worker must keep its item's id)."""
    pytester.makepyfile(test_vectors=INNER)
    monkeypatch.setenv("HUMANLOOP_API_KEY", KEY)
    monkeypatch.setenv("HUMANLOOP_BASE_URL", hostile.base_url)

    result = pytester.runpytest_subprocess("--hl-record-mode=once", "-n", "2", *FLAGS)

    result.assert_outcomes(**INNER_OUTCOMES)
    assert "PASSED test_vectors.py::test_parametrized_by_the_key[<HUMANLOOP_API_KEY>]" in (
        output(result)
    )
    assert not leaked(output(result))
    assert tree_leaks(pytester.path) == []


def test_unreachable_while_recording_is_one_message_for_client_and_sdk(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_down=UNREACHABLE)
    port = closed_port()
    monkeypatch.setenv("HUMANLOOP_API_KEY", KEY)
    monkeypatch.setenv("HUMANLOOP_BASE_URL", f"http://127.0.0.1:{port}/v4")

    result = pytester.runpytest("--hl-record-mode=once", *FLAGS)

    result.assert_outcomes(failed=2)
    text = output(result)
    for test, tried in (("test_sessions", "POST "), ("test_sdk", "")):  # the SDK: no method
        result.stdout.fnmatch_lines(
            [
                f"*_ {test} _*",
                f"hl-testkit: cannot connect to 127.0.0.1:{port} while recording "
                f"*test_down/{test}.yaml (record mode once).",
                f"  tried:  {tried}http://127.0.0.1:{port}/v4/sessions (connection refused: "
                "nothing listens on that port)",
                f"  check:  that the API answers at http://127.0.0.1:{port}/v4 (set by "
                "--hl-base-url or HUMANLOOP_BASE_URL), and any proxy in HTTPS_PROXY / "
                "HTTP_PROXY; or replay from the cassette instead: "
                f"pytest --hl-record-mode=none 'test_down.py::{test}'",
                "",
                "  at *test_down.py:*",
            ],
            consecutive=True,
        )
    # The README quotes this message as it is, for port 9 and relative paths.
    shown = text.replace(f"127.0.0.1:{port}", "127.0.0.1:9").replace(f"{pytester.path}/", "")
    assert readme_message() in shown
    failures = text.split("= FAILURES =")[1].split("= short test summary")[0]
    for section in failures.split("- Captured log")[::2]:  # the failure text, not the logs
        assert "Traceback" not in section
        assert "headers" not in section.lower()
        assert "/urllib3/" not in section
        assert "/requests/" not in section
    assert not leaked(text)
    assert tree_leaks(pytester.path) == []


def test_the_header_shows_the_base_url_without_its_userinfo(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key as the base URL's password: not in the header, nor anywhere else."""
    pytester.makepyfile(test_down=UNREACHABLE)
    port = closed_port()
    base_url = f"http://hl:{quote(KEY, safe='')}@127.0.0.1:{port}/v4"

    result = pytester.runpytest(
        "--hl-record-mode=once", f"--hl-base-url={base_url}", "-k", "sessions", *FLAGS
    )

    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines(
        [
            "hl-testkit: record mode once (from --hl-record-mode); recording against the "
            f"live API at http://127.0.0.1:{port}/v4; cassettes in *",
            f"hl-testkit: cannot connect to 127.0.0.1:{port} while recording *",
        ]
    )
    assert not leaked(output(result))
    assert tree_leaks(pytester.path) == []


GUARD_PROBE = """
def pytest_sessionfinish(session):
    guard = session.config.pluginmanager.get_plugin("hl-testkit-output-guard")
    with open("guard.txt", "w", encoding="utf-8") as out:
        out.write(",".join(s.source for s in guard.secrets))
"""


def test_with_no_key_set_the_guard_stays_idle_in_replay_and_against_the_stand_in(
    pytester: pytest.Pytester,
) -> None:
    """The replay key and the stand-in's are public: hiding them would cost every test."""
    pytester.makeconftest(GUARD_PROBE)
    pytester.makepyfile(test_idle="def test_it(sessions):\n    sessions.create()\n")
    probe = pytester.path / "guard.txt"

    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=1)  # the stand-in
    assert probe.read_text(encoding="utf-8") == ""
    pytester.runpytest().assert_outcomes(passed=1)  # replay
    assert probe.read_text(encoding="utf-8") == ""

    values = "\n@pytest.fixture(scope='module')\ndef hl_scrub_rules(hl_scrub_rules):\n"
    values += "    return hl_scrub_rules.extended(values={'MY_TOKEN': 'tok-0123456789'})\n"
    pytester.makeconftest("import pytest\n" + GUARD_PROBE + values)
    pytester.runpytest().assert_outcomes(passed=1)  # a value the user asked to hide: hidden
    assert probe.read_text(encoding="utf-8") == "MY_TOKEN"


BASIC_AUTH = """
import requests


def test_it(hl_cassette):
    got = requests.get(hl_cassette.base_url + "/echo/json", timeout=5)  # Basic, from the URL
    assert got.status_code == 200
"""


def test_a_credential_in_the_base_url_is_scrubbed_from_cassettes_and_output(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, hostile: HostileServer
) -> None:
    pytester.makepyfile(test_basic=BASIC_AUTH)
    base_url = f"http://hl:{quote(KEY, safe='')}@127.0.0.1:{hostile.port}/v4"

    result = pytester.runpytest("--hl-record-mode=once", f"--hl-base-url={base_url}", *FLAGS)

    result.assert_outcomes(passed=1)
    assert {r.credential for r in hostile.received} == {KEY}  # it echoed the password
    cassette = pytester.path / "cassettes" / "test_basic" / "test_it.yaml"
    assert "<HL_BASE_URL_USERINFO>" in cassette.read_text(encoding="utf-8")
    assert not leaked(output(result))
    assert tree_leaks(pytester.path) == []


#: A key holding characters XML or JSON escapes (`&` `<` `>` `"`, non-ASCII) but Python's
#: repr does not (record_property writes `str(value)`: a dict's repr).
ESCAPED_KEY = 'hl_sk&<te>"st-Ké~Key98765'


PROPERTIES = """
import os

import pytest

KEY = os.environ["HUMANLOOP_API_KEY"]


def test_properties(record_property, record_xml_attribute):
    record_property("key", KEY)
    record_property("nested", {"in": [KEY]})
    record_property(KEY, "as a name")
    record_xml_attribute("attribute", KEY)


def test_suite_property(record_testsuite_property):
    record_testsuite_property("suite", KEY)


@pytest.mark.parametrize("n", [1], ids=[KEY])
def test_failing_with_the_key_as_id(n):
    assert n == 2, KEY
"""


def _xml_strings(path: Path) -> list[str]:
    """Every attribute value, text and tail of the XML at `path`, entities decoded (as a
    CI server reads them); it must parse."""
    import xml.etree.ElementTree as ET

    found: list[str] = []
    for element in ET.parse(path).getroot().iter():
        found += list(element.attrib.values())
        found += [part for part in (element.text, element.tail) if part]
    return found


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["in-process", "xdist"])
def test_a_key_escaped_by_xml_or_json_is_found_there_and_the_xml_stays_well_formed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: tuple[str, ...]
) -> None:
    """The JUnit XML writes `&`, `<`, `"` ... as entities, the cache's JSON writes `"`
    and non-ASCII as escapes: a key holding them is scrubbed as the reader decodes it,
    record_property, record_xml_attribute and record_testsuite_property values included,
    and the placeholder keeps the XML well-formed."""
    pytester.makepyfile(test_properties=PROPERTIES)
    pytester.makeini("[pytest]\njunit_family = xunit1\n")  # where record_xml_attribute writes
    monkeypatch.setenv("HUMANLOOP_API_KEY", ESCAPED_KEY)
    result = pytester.runpytest_subprocess("--junitxml=junit.xml", "-rA", *workers)
    result.assert_outcomes(passed=2, failed=1)
    strings = _xml_strings(pytester.path / "junit.xml")
    assert not [s for s in strings if ESCAPED_KEY in s]
    for shown in ("<HUMANLOOP_API_KEY>", "{'in': ['<HUMANLOOP_API_KEY>']}"):
        assert shown in strings  # each property really reached the XML, as its placeholder
    assert sum("<HUMANLOOP_API_KEY>" in s for s in strings) >= 6
    cache = json.loads((pytester.path / ".pytest_cache/v/cache/lastfailed").read_text())
    assert list(cache) == [
        "test_properties.py::test_failing_with_the_key_as_id[<HUMANLOOP_API_KEY>]"
    ]
    assert ESCAPED_KEY not in result.stdout.str() + result.stderr.str()
    assert tree_leaks(pytester.path) == []  # the first key's forms: none written either
