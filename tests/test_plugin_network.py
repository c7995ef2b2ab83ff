"""The network guard in replay: refused at once, naming host and port, never sent.

The inner runs happen in this process, so beneath their guard sits `wire`: a
stand-in for the network itself that records any call to a non-loopback
address and refuses it. A guard that let something through shows up there,
and still nothing leaves the machine.
"""

from __future__ import annotations

import ipaddress
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest


class ReachedTheWire(RuntimeError):
    """A call got past every guard (and stopped here instead of going out)."""


def _is_local(host: object) -> bool:
    if host in ("localhost", None, b"localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _is_ip(host: object) -> bool:
    try:
        ipaddress.ip_address(str(host))
    except ValueError:
        return False
    return True


@dataclass
class Wire:
    reached: list[str] = field(default_factory=list)

    def refuse(self, what: str) -> ReachedTheWire:
        self.reached.append(what)
        return ReachedTheWire(f"reached the wire: {what}")


def _socket_functions() -> tuple[object, ...]:
    return (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.socket.sendto,
        socket.getaddrinfo,
        socket.gethostbyname,
    )


@pytest.fixture(autouse=True)
def _guard_does_not_leak() -> Iterator[None]:
    """Every nested run uninstalls its guard: socket is as it was before each test."""
    before = _socket_functions()
    yield
    assert _socket_functions() == before


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HUMANLOOP_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> Iterator[Wire]:
    """Installed before the inner run, so the inner run's guard wraps it."""
    wire = Wire()
    connect, connect_ex, sendto = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.socket.sendto,
    )
    getaddrinfo, gethostbyname = socket.getaddrinfo, socket.gethostbyname

    def fake_connect(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            raise wire.refuse(f"connect {address[0]}:{address[1]}")
        connect(sock, address)

    def fake_connect_ex(sock: socket.socket, address: Any) -> int:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            raise wire.refuse(f"connect_ex {address[0]}:{address[1]}")
        result: int = connect_ex(sock, address)
        return result

    def fake_sendto(sock: socket.socket, data: bytes, *args: Any) -> int:
        if not _is_local(args[-1][0]):
            raise wire.refuse(f"sendto {args[-1][0]}:{args[-1][1]}")
        result: int = sendto(sock, data, *args)
        return result

    def fake_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if not (_is_local(host) or _is_ip(host)):
            raise wire.refuse(f"getaddrinfo {host}")
        return getaddrinfo(host, port, *args, **kwargs)

    def fake_gethostbyname(host: str) -> str:
        if not (_is_local(host) or _is_ip(host)):
            raise wire.refuse(f"gethostbyname {host}")
        result: str = gethostbyname(host)
        return result

    fakes = (fake_connect, fake_connect_ex, fake_sendto, fake_getaddrinfo, fake_gethostbyname)
    monkeypatch.setattr(socket.socket, "connect", fake_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", fake_connect_ex)
    monkeypatch.setattr(socket.socket, "sendto", fake_sendto)
    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(socket, "gethostbyname", fake_gethostbyname)
    yield wire
    # Before monkeypatch puts the originals back (which would hide a leak): each
    # inner run must have uninstalled its guard, restoring exactly the wire.
    assert _socket_functions() == fakes, "an inner run left its network guard installed"


NETWORK_TEST = """
import socket
import time

import pytest
from hl_testkit.recording.network import NetworkBlockedError

FAR = "10.255.255.1"  # not loopback; nothing may ever be sent there


def refused(call, *args):
    started = time.monotonic()
    with pytest.raises(NetworkBlockedError) as info:
        call(*args)
    assert time.monotonic() - started < 0.5  # at once: no packet, no timeout
    return str(info.value)


def replaying(nodeid):
    return f" while test_net.py::{nodeid} replays "


def test_tcp_loopback(hl_cassette):
    with socket.socket() as sock:
        message = refused(sock.connect, ("127.0.0.1", 9))
    assert message.startswith("hl-testkit blocked a TCP connection to 127.0.0.1:9")
    assert replaying("test_tcp_loopback") + str(hl_cassette.path) in message
    assert "any network is off in this mode" in message
    assert "pytest --hl-record-mode=new_episodes 'test_net.py::test_tcp_loopback'" in message
    assert message.endswith("To allow this host, pass --hl-allow-host=127.0.0.1.")


def test_tcp_far(hl_cassette):
    with socket.socket() as sock:
        sock.settimeout(2)
        message = refused(sock.connect, (FAR, 443))
        assert f"TCP connection to {FAR}:443" in message
        assert f"TCP connection to {FAR}:80" in refused(sock.connect_ex, (FAR, 80))
    with pytest.raises(NetworkBlockedError, match=f"{FAR}:443"):
        socket.create_connection((FAR, 443), timeout=2)


def test_udp(hl_cassette):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        message = refused(sock.sendto, b"ping", (FAR, 53))
        assert f"hl-testkit blocked a UDP datagram to {FAR}:53" in message
        message = refused(sock.sendto, b"ping", 0, ("127.0.0.1", 9))
        assert "UDP datagram to 127.0.0.1:9" in message


def test_dns(hl_cassette):
    message = refused(socket.getaddrinfo, "api.example.invalid", 443)
    assert "blocked a name lookup to api.example.invalid:443" in message
    message = refused(socket.gethostbyname, "api.example.invalid")
    assert "blocked a name lookup to api.example.invalid" in message
    message = refused(socket.getaddrinfo, "localhost", 80)  # even a local name
    assert "name lookup to localhost:80" in message


def test_unmarked_loopback_is_fine():
    with socket.create_server(("127.0.0.1", 0)) as server:
        with socket.create_connection(server.getsockname()[:2], timeout=2):
            pass
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        assert udp.sendto(b"x", udp.getsockname()) == 1


def test_unmarked_far_is_refused():
    with socket.socket() as sock:
        message = refused(sock.connect, (FAR, 443))
    assert f"TCP connection to {FAR}:443: the network beyond loopback is off" in message
    assert "name lookup to api.example.invalid" in refused(
        socket.getaddrinfo, "api.example.invalid", 443
    )
"""


def test_replay_blocks_every_way_out_at_once(pytester: pytest.Pytester, wire: Wire) -> None:
    pytester.makepyfile(test_net=NETWORK_TEST)
    result = pytester.runpytest()
    # Each cassette test checked its refusals and passed, then failed at teardown:
    # a refusal the test swallowed must not let it go green. Tests without a
    # cassette are not held to that.
    result.assert_outcomes(passed=6, errors=4)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_tcp_loopback*",
            "hl-testkit blocked a TCP connection to 127.0.0.1:9 while *",
            "*ERROR at teardown of test_tcp_far*",
            "hl-testkit blocked a TCP connection to 10.255.255.1:443 while *",
        ]
    )
    assert wire.reached == []


ALLOW_TEST = """
import socket

def test_local_server(hl_cassette):
    with socket.create_server(("127.0.0.1", 0)) as server:
        with socket.create_connection(server.getsockname()[:2], timeout=2):
            pass

def test_far(hl_cassette):
    socket.create_connection(("10.255.255.1", 443), timeout=2)
"""


def test_allow_host(pytester: pytest.Pytester, wire: Wire) -> None:
    pytester.makepyfile(test_allow=ALLOW_TEST)

    closed = pytester.runpytest()
    closed.assert_outcomes(failed=2)
    closed.stdout.fnmatch_lines(["*blocked a TCP connection to 127.0.0.1:*"])

    local = pytester.runpytest("--hl-allow-host=127.0.0.1", "test_allow.py::test_local_server")
    local.assert_outcomes(passed=1)

    pytester.makeini("[pytest]\nhl_allow_hosts =\n    example.org\n    127.0.0.1\n")
    pytester.runpytest("test_allow.py::test_local_server").assert_outcomes(passed=1)
    assert wire.reached == []

    # Allowed beyond loopback: the guard lets it through, down to the wire.
    far = pytester.runpytest("--hl-allow-host=10.255.255.1", "test_allow.py::test_far")
    far.assert_outcomes(failed=1)
    far.stdout.fnmatch_lines(["*ReachedTheWire: reached the wire: connect 10.255.255.1:443"])
    assert wire.reached == ["connect 10.255.255.1:443"]


def test_recording_opens_the_network_unless_the_marker_asks_for_replay(
    pytester: pytest.Pytester, wire: Wire
) -> None:
    pytester.makeini("[pytest]\nhl_record_mode = new_episodes\n")
    pytester.makepyfile(
        test_allow=ALLOW_TEST,
        test_marked="""
        import socket
        import pytest

        @pytest.mark.hl_cassette(record_mode="none")
        def test_it(hl_cassette):
            with socket.create_server(("127.0.0.1", 0)) as server:
                socket.create_connection(server.getsockname()[:2], timeout=2)
        """,
    )
    result = pytester.runpytest("test_allow.py::test_local_server", "test_marked.py")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["hl-testkit blocked a TCP connection to 127.0.0.1:* while test_marked.py::test_it *"]
    )
    assert wire.reached == []


# -- no network at all ---------------------------------------------------------------

REPLAYED_TEST = """
import errno
import socket

import pytest
from hl_testkit.recording.network import NetworkBlockedError
from hl_testkit.standin import DEMO_PROJECT_ID, DEMO_SESSION_ID


def test_calls(sessions):
    assert sessions.list(project_id=DEMO_PROJECT_ID, size=3).body["total"] == 23
    assert sessions.get(id=DEMO_SESSION_ID).body["id"] == DEMO_SESSION_ID
    assert sessions.create().body["id"].startswith("sesh_")


def test_no_loopback_here():
    with socket.socket() as sock, pytest.raises(OSError) as info:
        sock.connect(("127.0.0.1", 9))
    assert not isinstance(info.value, NetworkBlockedError)  # the kernel refused
    print("RESULT", errno.errorcode[info.value.errno])
"""


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    try:
        done = subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def test_replay_in_a_namespace_without_any_network(pytester: pytest.Pytester) -> None:
    """Not even loopback is up: replay must need nothing but the cassette."""
    if not _unshare_works():
        pytest.skip("`unshare -n` (a private network namespace) is not allowed here")
    pytester.makepyfile(test_offline=REPLAYED_TEST)
    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=2)
    assert (pytester.path / "cassettes" / "test_offline" / "test_calls.yaml").is_file()

    result = pytester.run(
        "unshare", "-n", sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-s", timeout=60
    )
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["hl-testkit: record mode none (from default); replay only*"])
    # Loopback was down indeed (with it up, a closed port is ECONNREFUSED).
    result.stdout.fnmatch_lines(["*RESULT ENETUNREACH*"])
