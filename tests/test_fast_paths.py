"""The replay and record fast paths do what the slow ones did, only once.

* vcrpy asks about each request twice (can we play it? play it): the request
  key is computed once, and the `before_record_request` chain (which deep-copies
  the request) runs only when the user configured a request hook -- and then
  once per request, still applied;
* `vcr.patch.force_reset` is swapped, while a cassette is active, for one that
  puts back exactly what vcrpy's own puts back, without re-importing every
  HTTP library each time;
* patch groups of HTTP libraries that are not installed are skipped;
* vcrpy's patches are built once and switched on for each cassette, answering
  for the cassette active then; a nested cassette, or one with custom patches,
  gets patches of its own;
* `Recording` knows where each played interaction sits: no scan of the cassette;
* the scrubbing context is built once per secret set;
* the `sessions` fixture's client skips requests' environment lookups in replay.
"""

from __future__ import annotations

import copy
import dataclasses
import http.client
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import vcr.patch as vcr_patch

from hl_testkit.cassettes import file as cassette_file
from hl_testkit.cassettes.model import CassetteData, Interaction, RecordedRequest, RecordedResponse
from hl_testkit.client import SessionsClient
from hl_testkit.recording import vcr_cassette
from hl_testkit.recording.recorder import Recording, activated
from hl_testkit.secrets import scrub
from hl_testkit.standin import StandinServer

API = "https://api.humanloop.com/v4"


def _interaction(n: int) -> Interaction:
    return Interaction(
        RecordedRequest("GET", f"{API}/sessions/sesh_{n}", {"Accept": "application/json"}),
        RecordedResponse(200, "OK", {"Content-Type": "application/json"}, b'{"n":%d}' % n),
    )


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    path = tmp_path / "c.yaml"
    data = CassetteData([_interaction(n) for n in range(5)], "stand-in", "2026-01-01")
    path.write_text(cassette_file.dumps(data), encoding="utf-8")
    return path


def _recording(path: Path, mode: str = "none", base_url: str = API) -> Recording:
    recording = Recording(path=path, record_mode=mode, base_url=base_url, nodeid="t.py::t")
    recording.load()
    return recording


@pytest.fixture
def client() -> Iterator[SessionsClient]:
    with SessionsClient("key", base_url=API) as sessions_client:
        yield sessions_client


# -- one key per request, no hook chain without hooks -----------------------------------------


def test_replay_computes_each_key_once_and_runs_no_hook_chain(
    cassette: Path, client: SessionsClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = _recording(cassette)
    keys: list[str] = []
    real_key_of = Recording.key_of

    def counting_key_of(self: Recording, method: str, uri: str, *args: Any) -> Any:
        keys.append(uri)
        return real_key_of(self, method, uri, *args)

    def no_chain(self: Any, request: Any) -> Any:
        raise AssertionError("the before_record_request chain ran without any hook")

    monkeypatch.setattr(Recording, "key_of", counting_key_of)
    monkeypatch.setattr(vcr_cassette.HlCassette, "_before_record_request", no_chain, raising=False)
    with activated(recording, {}):
        assert client.get("sesh_3").body == {"n": 3}
        assert client.get("sesh_1").body == {"n": 1}
    assert keys == [f"{API}/sessions/sesh_3", f"{API}/sessions/sesh_1"]
    assert [n for n, _ in recording.played_positions()] == [3, 1]


def test_a_request_hook_is_applied_once_per_request(cassette: Path, client: SessionsClient) -> None:
    seen: list[str] = []

    def drop_trace(request: Any) -> Any:
        seen.append(request.uri)
        request.uri = request.uri.replace("?trace=1", "")
        return request

    recording = _recording(cassette)
    with activated(recording, {"before_record_request": drop_trace}):
        response = client.http.get(f"{API}/sessions/sesh_2?trace=1", timeout=1)
    assert response.json() == {"n": 2}
    assert seen == [f"{API}/sessions/sesh_2?trace=1"]  # asked twice by vcrpy, run once


def test_an_ignored_host_goes_to_the_network_and_is_not_recorded(tmp_path: Path) -> None:
    with StandinServer() as server:
        recording = _recording(tmp_path / "new.yaml", mode="once", base_url=API)
        with (
            activated(recording, {"ignore_hosts": ["127.0.0.1"]}),
            SessionsClient(server.api_key, base_url=server.base_url) as client,
        ):
            assert client.get("sesh_demo").body["id"] == "sesh_demo"
        assert recording.recorded == []
        assert len(server.requests) == 1


def test_recording_with_and_without_hooks_records_the_same(tmp_path: Path) -> None:
    recorded = []
    with StandinServer() as server:
        for n, config in enumerate(({}, {"before_record_request": lambda request: request})):
            recording = _recording(tmp_path / f"r{n}.yaml", mode="once", base_url=server.base_url)
            with (
                activated(recording, config),
                SessionsClient(server.api_key, base_url=server.base_url) as client,
            ):
                client.get("sesh_demo")
                client.list(project_id="pr_demo", page=2, size=3)
            recorded.append(recording.recorded)
    assert recorded[0] == recorded[1]
    assert len(recorded[0]) == 2


# -- force_reset -----------------------------------------------------------------------------


def test_force_reset_is_ours_only_while_a_cassette_is_active(cassette: Path) -> None:
    vcrpys = vcr_patch.force_reset
    with activated(_recording(cassette), {}):
        ours = vcr_patch.force_reset
        assert ours is not vcrpys
        stub = http.client.HTTPConnection
        assert stub is not vcr_patch._HTTPConnection  # the cassette's stub
        with ours():
            assert http.client.HTTPConnection is vcr_patch._HTTPConnection
        assert http.client.HTTPConnection is stub
        with vcrpys():  # vcrpy's own puts back the very same things
            assert http.client.HTTPConnection is vcr_patch._HTTPConnection
        assert http.client.HTTPConnection is stub
    assert vcr_patch.force_reset is vcrpys
    assert http.client.HTTPConnection is vcr_patch._HTTPConnection


def test_force_reset_puts_back_what_vcrpys_puts_back(cassette: Path) -> None:
    with activated(_recording(cassette), {}):
        triples = vcr_cassette.reset_triples()
        expected = [(p.getter(), p.attribute, p.new) for p in vcr_patch.reset_patchers()]
        assert triples == expected
        with vcr_patch.force_reset():
            for target, attribute, original in triples:
                assert vars(target)[attribute] is original


def test_force_reset_keeps_what_something_else_put_there_meanwhile(cassette: Path) -> None:
    other: Any = type("Other", (), {})
    with activated(_recording(cassette), {}):
        stub = http.client.HTTPConnection
        with vcr_patch.force_reset():
            setattr(http.client, "HTTPConnection", other)  # e.g. a nested cassette  # noqa: B010
        assert getattr(http.client, "HTTPConnection") is other  # noqa: B009
        setattr(http.client, "HTTPConnection", stub)  # noqa: B010


def test_the_reset_triples_are_learnt_again_when_a_library_appears(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    real = vcr_patch.reset_patchers

    def counting() -> Any:
        calls.append(1)
        return real()

    monkeypatch.setattr(vcr_patch, "reset_patchers", counting)
    monkeypatch.setattr(vcr_cassette, "_resets", None)
    first = vcr_cassette.reset_triples()
    assert vcr_cassette.reset_triples() is first
    assert len(calls) == 1
    monkeypatch.setitem(sys.modules, "pyreqwest", types.ModuleType("pyreqwest"))
    vcr_cassette.reset_triples()
    assert len(calls) == 2


def test_patch_groups_of_missing_libraries_are_skipped(
    cassette: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "httplib2", raising=False)
    monkeypatch.delitem(sys.modules, "httpx", raising=False)  # installed, not imported
    skipped = vcr_cassette.absent_groups()
    assert {"httplib2", "httpx"} <= set(skipped)  # building httpx's group would import it
    monkeypatch.setitem(sys.modules, "httplib2", types.ModuleType("httplib2"))
    assert "httplib2" not in vcr_cassette.absent_groups()  # imported: patched as usual


# -- shared patches --------------------------------------------------------------------------


def _other_cassette(tmp_path: Path) -> Path:
    path = tmp_path / "other.yaml"
    interactions = [
        Interaction(i.request, dataclasses.replace(i.response, body=b'{"other":%d}' % n))
        for n, i in enumerate(_interaction(n) for n in range(5))
    ]
    path.write_text(cassette_file.dumps(CassetteData(interactions, "stand-in")), encoding="utf-8")
    return path


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The cassettes vcrpy's patches were built for, from a fresh start."""
    built: list[Any] = []
    real_build = vcr_patch.CassettePatcherBuilder.build

    def counting(self: Any) -> Any:
        if not isinstance(self._cassette, types.SimpleNamespace):  # lazy_clients' own check
            built.append(self._cassette)
        return real_build(self)

    monkeypatch.setattr(vcr_patch.CassettePatcherBuilder, "build", counting)
    monkeypatch.setattr(vcr_cassette, "_shared", None)
    return built


def test_the_patches_are_built_once_and_answer_for_the_cassette_active_now(
    cassette: Path, tmp_path: Path, client: SessionsClient, builds: list[Any]
) -> None:
    first, second = _recording(cassette), _recording(_other_cassette(tmp_path))
    with activated(first, {}):
        assert client.get("sesh_1").body == {"n": 1}
    assert http.client.HTTPConnection is vcr_patch._HTTPConnection
    with activated(second, {}):
        assert client.get("sesh_1").body == {"other": 1}
        assert client.get("sesh_4").body == {"other": 4}
    third = _recording(cassette)
    with activated(third, {}):
        assert client.get("sesh_4").body == {"n": 4}
    assert len(builds) == 1
    assert [len(r.played) for r in (first, second, third)] == [1, 2, 1]
    assert http.client.HTTPConnection is vcr_patch._HTTPConnection


def test_a_miss_is_the_active_cassettes_miss(
    cassette: Path, tmp_path: Path, client: SessionsClient, builds: list[Any]
) -> None:
    with activated(_recording(cassette), {}):
        client.get("sesh_1")
    second = _recording(_other_cassette(tmp_path))
    with activated(second, {}), pytest.raises(Exception, match="sesh_9"):
        client.get("sesh_9")
    assert len(second.misses) == 1
    assert "sesh_9" in second.misses[0]
    assert len(builds) == 1


def test_a_cassette_activated_inside_another_gets_patches_of_its_own(
    cassette: Path, tmp_path: Path, client: SessionsClient, builds: list[Any]
) -> None:
    outer, inner = _recording(cassette), _recording(_other_cassette(tmp_path))
    with activated(outer, {}):
        assert client.get("sesh_1").body == {"n": 1}
        with activated(inner, {}):
            assert client.get("sesh_2").body == {"other": 2}
        assert client.get("sesh_3").body == {"n": 3}
    assert len(builds) == 2
    assert isinstance(builds[1], vcr_cassette.HlCassette)  # bound to the inner one itself
    assert [len(outer.played), len(inner.played)] == [2, 1]
    assert http.client.HTTPConnection is vcr_patch._HTTPConnection


def test_custom_patches_get_patches_of_their_own(cassette: Path, builds: list[Any]) -> None:
    from vcr.stubs import VCRHTTPConnection

    holder: Any = types.ModuleType("holder")
    holder.HTTPConnection = http.client.HTTPConnection
    config = {"custom_patches": ((holder, "HTTPConnection", VCRHTTPConnection),)}
    with activated(_recording(cassette), config):
        assert isinstance(holder.HTTPConnection.cassette, vcr_cassette.HlCassette)
    assert holder.HTTPConnection is http.client.HTTPConnection
    assert vcr_cassette._shared is None
    assert len(builds) == 1


def test_the_shared_patches_are_built_again_when_a_module_changes(
    cassette: Path, builds: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with activated(_recording(cassette), {}):
        pass
    shared = vcr_cassette._shared
    assert shared is not None
    assert shared.still_valid(shared.key)
    name = next(n for n, module in shared.sources if module is http.client)
    with monkeypatch.context() as m:
        m.setitem(sys.modules, name, types.ModuleType(name))  # reimported, as pytester may
        assert not shared.still_valid(shared.key)
    monkeypatch.setitem(sys.modules, "pyreqwest", types.ModuleType("pyreqwest"))  # appeared
    with activated(_recording(cassette), {}):
        pass
    assert len(builds) == 2
    assert vcr_cassette._shared is not shared


def test_the_forwarding_cassette_reads_through_and_can_be_copied() -> None:
    first: Any = types.SimpleNamespace(record_mode="none")
    second: Any = types.SimpleNamespace()
    current = vcr_cassette._Current(first)
    assert current.record_mode == "none"
    current.cassette = second
    with pytest.raises(AttributeError):
        _ = current.record_mode
    assert copy.copy(current).cassette is second  # no endless __getattr__ while copying


# -- Recording: positions, not scans ---------------------------------------------------------


def test_played_positions_and_unplayed_cost_what_was_played(
    cassette: Path, client: SessionsClient
) -> None:
    recording = _recording(cassette)
    with activated(recording, {}):
        client.get("sesh_4")
        client.get("sesh_0")
    assert recording.played_at == [4, 0]
    assert recording.unplayed_count == 3
    assert recording.unplayed == [recording.loaded[n] for n in (1, 2, 3)]
    recording.played.append(recording.loaded[2])  # filled by hand: still right
    assert [n for n, _ in recording.played_positions()] == [4, 0, 2]
    assert recording.unplayed_count == 2


# -- scrubbing: one context per secret set ---------------------------------------------------


def test_the_scrub_context_is_built_once_per_secret_set() -> None:
    secrets = [scrub.Secret("HUMANLOOP_API_KEY", "hl_sk_0123456789abcdef")]
    rules = scrub.DEFAULT_RULES
    assert scrub._context(secrets, rules) is scrub._context(list(secrets), rules)
    more = rules.extended(values={"OTHER": "another-secret-value"})
    assert scrub._context(secrets, more) is not scrub._context(secrets, rules)
    uri = "https://x/?state=another-secret-value&key=hl_sk_0123456789abcdef"
    assert scrub.scrub_uri(uri, secrets, more) == "https://x/?state=<OTHER>&key=<REDACTED>"
    assert scrub.scrub_uri(uri, secrets, rules) == (
        "https://x/?state=another-secret-value&key=<REDACTED>"
    )


# -- the sessions fixture -------------------------------------------------------------------


def test_the_sessions_fixture_skips_environment_lookups_only_in_replay(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HUMANLOOP_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    pytester.makepyfile(
        test_env="""
        def test_env(sessions, hl_cassette):
            sessions.get(id="sesh_demo")
            print("TRUST", hl_cassette.record_mode, sessions.http.trust_env)
        """
    )
    recorded = pytester.runpytest("-s", "--hl-record-mode=once")
    recorded.assert_outcomes(passed=1)
    recorded.stdout.fnmatch_lines(["*TRUST once True"])
    replayed = pytester.runpytest("-s")
    replayed.assert_outcomes(passed=1)
    replayed.stdout.fnmatch_lines(["*TRUST none False"])


# -- connections kept across tests (the shared patches) -------------------------------------

KEPT_CONNECTIONS = """
import pytest
import requests
import urllib3


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


@pytest.fixture(scope="module")
def pool():
    return urllib3.PoolManager()


def create_twice(hl_cassette, http, pool):
    headers = {"X-API-KEY": hl_cassette.api_key, "Content-Type": "application/json"}
    url = hl_cassette.base_url + "/sessions"
    assert http.post(url, data=b"{}", headers=headers).status_code == 201
    assert pool.request("POST", url, body=b"{}", headers=headers).status == 201
    assert len(hl_cassette.recorded) + len(hl_cassette.played) == 2


def test_first(hl_cassette, http, pool):
    create_twice(hl_cassette, http, pool)


def test_second(hl_cassette, http, pool):  # the connections the first one opened
    create_twice(hl_cassette, http, pool)
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_connections_kept_across_tests_record_into_the_current_cassette(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: list[str]
) -> None:
    """A module-scoped requests session and urllib3 pool, opened in the first test, are
    used again in the second, now that the patches are shared between cassettes: the
    second's exchanges land in its own cassette (not in the first's, already saved), and a
    strict replay finds every one (invariant 1). It passed with per-cassette patches too:
    vcrpy drops a cassette's connections from their pools when it ends."""
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HUMANLOOP_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    pytester.makepyfile(test_kept=KEPT_CONNECTIONS)
    pytester.runpytest("-p", "no:randomly", "--hl-record-mode=once").assert_outcomes(passed=2)
    cassettes = pytester.path / "cassettes" / "test_kept"
    for name in ("test_first", "test_second"):
        data = cassette_file.read(cassettes / f"{name}.yaml")
        assert data is not None
        assert [i.recorded_by for i in data.interactions] == [f"test_kept.py::{name}"] * 2
    replayed = pytester.runpytest("--hl-strict", "--hl-record-mode=none", *workers)
    replayed.assert_outcomes(passed=2)
