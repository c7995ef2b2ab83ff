"""hl-testkit beside pytest-recording in one run: a team moving over has both.

Both drive one vcrpy, which hl-testkit loads without the HTTP clients not imported
yet (`lazy_clients`): pytest-recording's cassettes must still record and replay
requests, and a client first imported inside one of its tests (httpx), in the same
session as hl-testkit's cassettes, each in its own file.
"""

from __future__ import annotations

import pytest

from tests import test_lazy_clients

pytest.importorskip("pytest_recording")

api = test_lazy_clients.api  # its loopback API answering {"path": ...}, a fixture here too

BOTH = """
import pytest
import requests

BASE = {base!r}


def test_ours(hl_cassette):
    assert requests.get(BASE + "/ours", timeout=5).json() == {{"path": "/v4/ours"}}


@pytest.mark.vcr
def test_theirs():
    assert requests.get(BASE + "/theirs", timeout=5).json() == {{"path": "/v4/theirs"}}


@pytest.mark.vcr
def test_theirs_with_httpx():
    import httpx  # its first import, inside pytest-recording's cassette

    assert httpx.get(BASE + "/httpx", timeout=5).json() == {{"path": "/v4/httpx"}}
"""


def test_both_plugins_record_then_replay_in_one_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, api: tuple[str, list[str]]
) -> None:
    base, asked = api
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HUMANLOOP_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # only the two named below
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)  # no `-p no:recording` from outside
    plugins = ("-p", "recording", "-p", "hl_testkit.plugin", "-p", "no:cacheprovider")
    pytester.makepyfile(test_both=BOTH.format(base=base))

    recorded = pytester.runpytest_subprocess(
        *plugins, "--record-mode=once", "--hl-record-mode=once", timeout=120
    )
    recorded.assert_outcomes(passed=3)
    assert sorted(asked) == ["/v4/httpx", "/v4/ours", "/v4/theirs"]
    ours = pytester.path / "cassettes" / "test_both" / "test_ours.yaml"
    theirs = pytester.path / "cassettes" / "test_both" / "test_theirs.yaml"
    assert "hl-testkit-cassette" in ours.read_text(encoding="utf-8")
    assert "/v4/theirs" in theirs.read_text(encoding="utf-8")  # vcrpy's own format
    assert "/v4/ours" not in theirs.read_text(encoding="utf-8")
    httpx_cassette = pytester.path / "cassettes" / "test_both" / "test_theirs_with_httpx.yaml"
    assert "/v4/httpx" in httpx_cassette.read_text(encoding="utf-8")

    asked.clear()
    replayed = pytester.runpytest_subprocess(*plugins, "--block-network", timeout=120)
    replayed.assert_outcomes(passed=3)
    assert asked == []  # both answered from their cassettes, the network closed
