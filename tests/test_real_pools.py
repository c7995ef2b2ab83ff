"""The record adapter's pools make urllib3's real connections while vcrpy's patches stay
on (`hl_testkit.recording.real_pools`): nothing is stepped out of per request, so every
other client, another thread's included, is recorded by vcrpy meanwhile. That both
adapter paths (real pools, stepping out) write what vcrpy's path writes is
`tests/test_record_adapter.py`'s."""

from __future__ import annotations

import functools
import http.client
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import urllib3
import urllib3.connection

from hl_testkit.client import SessionsClient
from hl_testkit.recording import real_pools, vcr_cassette
from hl_testkit.recording.record_adapter import RecordAdapter
from hl_testkit.recording.recorder import Recording, activated
from tests.test_record_adapter import KEY, _agree, _record
from tests.varied_api import SESSION, varied_api


class _Nesting(BaseHTTPRequestHandler):
    """`/v4/sessions/outer` asks `/v4/sessions/inner` of this server through a requests
    client of its own (in the server's thread) before it answers."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.endswith("/outer"):
            base = f"http://127.0.0.1:{self.server.server_address[1]}/v4"  # type: ignore[index]
            with requests.Session() as own:
                own.get(base + "/sessions/inner", headers={"Accept": "application/json"})
        body = json.dumps({**SESSION, "id": self.path.rsplit("/", 1)[-1]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def _nesting_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Nesting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v4"
    finally:
        server.shutdown()
        server.server_close()


def _originals() -> dict[str, Any]:
    """What vcrpy patched in `urllib3.connection`, by name."""
    triples = vcr_cassette.reset_triples()
    return {a: o for t, a, o in triples if t is urllib3.connection}


def _recording(tmp_path: Path, base_url: str) -> Recording:
    recording = Recording(
        path=tmp_path / "c.yaml", record_mode="once", base_url=base_url, nodeid="t.py::t"
    )
    recording.load()
    return recording


def test_another_thread_is_recorded_by_vcrpy_while_the_adapter_sends(tmp_path: Path) -> None:
    """While the adapter's request is in flight, the server asks itself through a requests
    client of its own: vcrpy's stubs record that one (stepping out of the patches for the
    adapter's request would have let it through unrecorded)."""
    with _nesting_api() as base_url:
        recording = _recording(tmp_path, base_url)
        with activated(recording, {}), SessionsClient(KEY, base_url=base_url) as client:
            adapter = RecordAdapter(recording, client.http.get_adapter(base_url))
            assert adapter.real_pools
            client.http.mount(base_url, adapter)
            assert client.get(id="outer").status == 200
    uris = sorted(i.request.uri for i in recording.recorded)
    assert uris == [
        "https://api.humanloop.com/v4/sessions/inner",  # vcrpy's stub, from the server thread
        "https://api.humanloop.com/v4/sessions/outer",  # the adapter
    ]


def test_the_pools_connections_are_real_and_vcrpy_stays_patched(tmp_path: Path) -> None:
    with varied_api() as base_url:
        recording = _recording(tmp_path, base_url)
        with activated(recording, {}), SessionsClient(KEY, base_url=base_url) as client:
            adapter = RecordAdapter(recording, client.http.get_adapter(base_url))
            client.http.mount(base_url, adapter)
            client.get(id="sesh_1")
            manager = adapter.poolmanager
            (key,) = manager.pools.keys()  # (the container refuses iteration)
            pool = manager.pools[key]
            connection = pool.pool.get()  # the one the call used
            # vcrpy's patches are on, the pool's connection is urllib3's own class underneath.
            stub = urllib3.connection.HTTPConnection
            assert stub.__module__ == "vcr.patch"
            assert http.client.HTTPConnection.__module__ == "vcr.patch"
            assert not isinstance(connection, stub)
            real = _originals()["HTTPConnection"]
            assert type(connection).__mro__[1] is real
            assert real.__module__ == "urllib3.connection"
            assert connection.sock is not None  # the keep-alive connection the call used


def test_the_copied_methods_read_only_the_pinned_names_as_they_were() -> None:
    """A method copied for a pinned name runs urllib3's own code (the same code object),
    reading every other name from the module as it is now."""
    with _active():
        classes = real_pools.pool_classes(
            {"http": urllib3.HTTPConnectionPool, "https": urllib3.HTTPSConnectionPool}
        )
        assert classes is not None
        http_cls = classes["http"].ConnectionCls  # type: ignore[attr-defined]
        https_cls = classes["https"].ConnectionCls  # type: ignore[attr-defined]
        originals = _originals()
    assert http_cls.__mro__[1] is originals["HTTPConnection"]
    assert https_cls.__mro__[1] is originals["HTTPSConnection"]
    request = vars(http_cls)["request"]
    assert request.__code__ is originals["HTTPConnection"].request.__code__
    assert request.__globals__["HTTPConnection"] is originals["HTTPConnection"]
    assert request.__globals__["six"] is vars(urllib3.connection)["six"]  # read live
    assert "__init__" in vars(https_cls)  # `HTTPConnection.__init__(self, ...)`
    assert "connect" not in vars(http_cls)  # names no patched attribute: urllib3's own


@contextmanager
def _active() -> Iterator[None]:
    recording = Recording(path=Path("unused.yaml"), record_mode="once", base_url="x", nodeid="t")
    with activated(recording, {}):
        yield


def test_without_real_pools_the_adapter_steps_out_and_agrees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """urllib3 2 (or a method in a form not handled): no real pools, a step out of vcrpy's
    patches per request, as before; the same cassette as vcrpy's path."""
    monkeypatch.setattr(urllib3, "__version__", "2.0.0")
    with varied_api() as base_url:
        assert real_pools.pool_classes({"http": urllib3.HTTPConnectionPool}) is None
        slow = _agree(tmp_path, "once", base_url)
        fast = _record(tmp_path / "again.yaml", "once", base_url, True)
    assert slow["result"] == fast["result"] == ("written", 15)


def _wrapped(seen: list[str], cls: Any) -> Any:
    """urllib3's `HTTPConnection.request` (of `cls`, the real class) behind a plain
    wrapper, as instrumentation or a header injector sets one."""
    original = vars(cls)["request"]

    @functools.wraps(original)
    def request(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(args[1])
        return original(self, *args, **kwargs)

    return request


def _get(tmp_path: Path, base_url: str, name: str, between: Any = None) -> list[int]:
    """Two session gets through the adapter, `between` run after the first."""
    recording = _recording(tmp_path / name, base_url)
    with activated(recording, {}), SessionsClient(KEY, base_url=base_url) as client:
        client.http.mount(base_url, RecordAdapter(recording, client.http.get_adapter(base_url)))
        statuses = [client.get(id="sesh_1").status]
        if between:
            between()
        statuses.append(client.get(id="sesh_2").status)
    return statuses


def test_a_method_wrapped_before_the_pools_are_built_is_honoured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wrapper's own code names no patched class: copying by names alone left
    urllib3's original to name vcrpy's stub (`super(HTTPConnection, self)`: TypeError),
    in this and every later recording, the wrapper gone or not. Such a method is not
    known to read as it was: no real pools then, a step out per request, as before."""
    seen: list[str] = []
    real = urllib3.connection.HTTPConnection  # (no cassette active: the real class)
    monkeypatch.setattr(real, "request", _wrapped(seen, real))
    with varied_api() as base_url:
        assert _get(tmp_path, base_url, "wrapped") == [200, 200]
        assert seen == ["/v4/sessions/sesh_1", "/v4/sessions/sesh_2"]
        with _active():
            assert real_pools.pool_classes({"http": urllib3.HTTPConnectionPool}) is None
        monkeypatch.undo()
        assert _get(tmp_path, base_url, "unwrapped") == [200, 200]
        with _active():
            assert real_pools.pool_classes({"http": urllib3.HTTPConnectionPool}) is not None


def test_a_method_wrapped_after_the_pools_are_built_is_honoured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy made before the wrapper was set would skip it, silently: the adapter asks
    before each request whether its copies are still what urllib3's classes hold."""
    seen: list[str] = []
    real = urllib3.connection.HTTPConnection  # (no cassette active: the real class)
    wrapper = _wrapped(seen, real)
    with varied_api() as base_url:
        _get(tmp_path, base_url, "warm")  # the pool classes are built and kept
        wrap = lambda: monkeypatch.setattr(real, "request", wrapper)  # noqa: E731
        assert _get(tmp_path, base_url, "wrapped", between=wrap) == [200, 200]
    assert seen == ["/v4/sessions/sesh_2"]


def test_errors_and_reprs_name_urllib3s_own_classes(tmp_path: Path) -> None:
    """The subclasses are named as their bases: a refused connection reads as on vcrpy's
    path (`HTTPConnectionPool(host=...)`, `urllib3.connection.HTTPConnection object`)."""
    with _active():
        classes = real_pools.pool_classes(
            {"http": urllib3.HTTPConnectionPool, "https": urllib3.HTTPSConnectionPool}
        )
    assert classes is not None
    for scheme, base in (
        ("http", urllib3.HTTPConnectionPool),
        ("https", urllib3.HTTPSConnectionPool),
    ):
        pool, connection = classes[scheme], classes[scheme].ConnectionCls  # type: ignore[attr-defined]
        assert (pool.__module__, pool.__qualname__) == (base.__module__, base.__qualname__)
        assert connection.__module__ == "urllib3.connection"
        assert connection.__qualname__ == connection.__mro__[1].__qualname__
    copied = vars(classes["http"].ConnectionCls)["request"]  # type: ignore[attr-defined]
    assert copied.__globals__["__name__"] == "urllib3.connection"  # warnings filed there
    port = _free_port()
    url = f"http://127.0.0.1:{port}/v4"
    with pytest.raises(requests.ConnectionError) as caught:
        _get(tmp_path, url, "refused")
    assert f"HTTPConnectionPool(host='127.0.0.1', port={port})" in str(caught.value)
    assert "<urllib3.connection.HTTPConnection object" in str(caught.value)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_call_responses_answers_is_not_recorded_by_either_path(tmp_path: Path) -> None:
    """`responses` patches `HTTPAdapter.send`: its answer never reaches vcrpy, so vcrpy's
    path records nothing; the adapter's `super().send` reached it and recorded the mock."""
    responses = pytest.importorskip("responses")
    base_url = "http://127.0.0.1:9/v4"

    def mocked(client: SessionsClient) -> Any:
        with responses.RequestsMock() as mock:
            mock.add(responses.GET, base_url + "/sessions/x", json={"id": "x"})
            return client.get(id="x")

    for direct in (False, True):
        done = _record(tmp_path / f"{direct}.yaml", "once", base_url, direct, [mocked])
        assert done["seen"][0][:2] == ("ok", 200)
        assert done["result"] == ("none", 0)
        assert done["file"] is None
