"""The network guard sees every socket the interpreter opens, not only `socket.socket`'s.

Each way around the Python-level patches (the C `_socket` module, `super()`, UDP
`sendmsg`, lookups through `_socket`, ctypes, child processes) is tried by a
replayed test against a loopback listener: the test fails with the guard's
message, and the listener receives nothing.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from hl_testkit.recording import network


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HUMANLOOP_API_KEY", network.CHILD_ENV):
        monkeypatch.delenv(name, raising=False)


@dataclass
class Listeners:
    tcp: socket.socket
    udp: socket.socket

    @property
    def tcp_port(self) -> int:
        return int(self.tcp.getsockname()[1])

    @property
    def udp_port(self) -> int:
        return int(self.udp.getsockname()[1])

    def received(self) -> list[str]:
        """What reached the listeners: a pending connection, a datagram."""
        got = []
        with contextlib.suppress(BlockingIOError):
            while True:  # every pending connection, every datagram
                conn, _ = self.tcp.accept()
                conn.close()
                got.append("tcp connection")
        with contextlib.suppress(BlockingIOError):
            while True:
                got.append(f"udp {self.udp.recv(100)!r}")
        return got


@pytest.fixture
def listeners() -> Iterator[Listeners]:
    with (
        socket.create_server(("127.0.0.1", 0)) as tcp,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
    ):
        udp.bind(("127.0.0.1", 0))
        tcp.setblocking(False)
        udp.setblocking(False)
        yield Listeners(tcp, udp)


BYPASS_TEST = """
import _socket
import ctypes
import socket

TCP = ("127.0.0.1", {tcp})
UDP = ("127.0.0.1", {udp})


def test_c_socket_connect(hl_cassette):
    _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM).connect(TCP)


def test_c_socket_connect_ex(hl_cassette):
    _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM).connect_ex(TCP)


def test_super_connect(hl_cassette):
    with socket.socket() as s:
        super(socket.socket, s).connect(TCP)


def test_udp_sendmsg(hl_cassette):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendmsg([b"ping"], [], 0, UDP)


def test_c_udp_sendto(hl_cassette):
    _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM).sendto(b"ping", UDP)


def test_c_getaddrinfo(hl_cassette):
    _socket.getaddrinfo("localhost", {tcp})


def test_c_gethostbyname(hl_cassette):
    _socket.gethostbyname("localhost")


def test_gethostbyaddr(hl_cassette):
    _socket.gethostbyaddr("127.0.0.1")


def test_getnameinfo(hl_cassette):
    _socket.getnameinfo(TCP, 0)


class SockaddrIn(ctypes.Structure):
    _fields_ = [("family", ctypes.c_ushort), ("port", ctypes.c_uint16),
                ("addr", ctypes.c_uint32), ("zero", ctypes.c_char * 8)]


def test_ctypes_connect(hl_cassette):
    with socket.socket() as s:
        address = SockaddrIn(socket.AF_INET, socket.htons(TCP[1]),
                             int.from_bytes(socket.inet_aton(TCP[0]), "little"))
        libc = ctypes.CDLL(None)
        libc.connect(s.fileno(), ctypes.byref(address), ctypes.sizeof(address))
"""

EXPECTED = {
    "test_c_socket_connect": "TCP connection to 127.0.0.1:{tcp}",
    "test_c_socket_connect_ex": "TCP connection to 127.0.0.1:{tcp}",
    "test_super_connect": "TCP connection to 127.0.0.1:{tcp}",
    "test_udp_sendmsg": "UDP datagram to 127.0.0.1:{udp}",
    "test_c_udp_sendto": "UDP datagram to 127.0.0.1:{udp}",
    "test_c_getaddrinfo": "name lookup to localhost:{tcp}",
    "test_c_gethostbyname": "name lookup to localhost",
    "test_gethostbyaddr": "reverse name lookup to 127.0.0.1",
    "test_getnameinfo": "reverse name lookup to 127.0.0.1:{tcp}",
}


def test_every_bypass_fails_with_the_guards_message(
    pytester: pytest.Pytester, listeners: Listeners
) -> None:
    ports = {"tcp": listeners.tcp_port, "udp": listeners.udp_port}
    pytester.makepyfile(test_bypass=BYPASS_TEST.format(**ports))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=len(EXPECTED) + 1)
    text = result.stdout.str()
    for name, what in EXPECTED.items():
        result.stdout.fnmatch_lines(
            [
                f"hl-testkit blocked a {what.format(**ports)} while test_bypass.py::{name} "
                "replays *: any network is off in this mode. A replayed test answers from its "
                "cassette only; to record, run pytest --hl-record-mode=new_episodes "
                f"'test_bypass.py::{name}'. To allow this host, pass --hl-allow-host=*"
            ]
        )
    result.stdout.fnmatch_lines(
        [
            "hl-testkit blocked a ctypes lookup of the C function connect() while "
            "test_bypass.py::test_ctypes_connect replays *: any network is off in this mode, "
            "and a call through ctypes has no address to check. A replayed test answers from "
            "its cassette only; *To allow it, pass --hl-allow-host=*."
        ]
    )
    assert "ReachedTheWire" not in text
    assert listeners.received() == []


CHILD_TEST = """
import multiprocessing
import socket
import subprocess
import sys

TCP = ("127.0.0.1", {tcp})
CONNECT = f"import socket; socket.create_connection({{TCP!r}}, timeout=5)"


def connect():
    socket.create_connection(TCP, timeout=5).close()


def test_subprocess(hl_cassette):
    subprocess.run([sys.executable, "-c", CONNECT], timeout=60)  # the child's error is lost


def test_multiprocessing_spawn(hl_cassette):
    process = multiprocessing.get_context("spawn").Process(target=connect)
    process.start()
    process.join(60)


def test_fork(hl_cassette):  # guarded with or without the option: it inherits the guard
    process = multiprocessing.get_context("fork").Process(target=connect)
    process.start()
    process.join(60)
    assert process.exitcode == 1


def test_a_child_without_network_runs(hl_cassette):
    done = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True)
    assert done.stdout == "42\\n"


def test_a_child_on_loopback_without_a_cassette():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        code = f"import socket; socket.create_connection(('127.0.0.1', {{port}})).close()"
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
"""


def test_child_processes_are_guarded_with_the_option(
    pytester: pytest.Pytester, listeners: Listeners
) -> None:
    pytester.makepyfile(test_child=CHILD_TEST.format(tcp=listeners.tcp_port))
    before = {name: os.environ.get(name) for name in ("PYTHONPATH", network.CHILD_ENV)}
    result = pytester.runpytest("-p", "no:cacheprovider", "--hl-guard-children")
    result.assert_outcomes(passed=5, errors=2)
    for name in ("test_subprocess", "test_multiprocessing_spawn"):
        result.stdout.fnmatch_lines(
            [
                f"*ERROR at teardown of {name}*",
                f"hl-testkit blocked a TCP connection to 127.0.0.1:{listeners.tcp_port} while "
                f"test_child.py::{name} replays * (in child process *): any network is off*",
            ]
        )
    assert listeners.received() == []
    assert {name: os.environ.get(name) for name in before} == before  # put back


def test_child_processes_are_not_guarded_by_default(
    pytester: pytest.Pytester, listeners: Listeners
) -> None:
    """As documented: without --hl-guard-children a child process reaches the network."""
    pytester.makepyfile(test_child=CHILD_TEST.format(tcp=listeners.tcp_port))
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "test_child.py::test_subprocess", "test_child.py::test_fork"
    )
    result.assert_outcomes(passed=2)
    assert listeners.received() == ["tcp connection"]  # from the subprocess, not the fork


def test_the_ini_option_and_a_sitecustomize_of_the_project_still_run(
    pytester: pytest.Pytester, listeners: Listeners
) -> None:
    """The child's own sitecustomize (hidden by ours on PYTHONPATH) still runs."""
    site = pytester.mkdir("site")
    (site / "sitecustomize.py").write_text("import builtins\nbuiltins.SITE_RAN = True\n")
    pytester.makeini("[pytest]\nhl_guard_children = true\n")
    pytester.makepyfile(
        test_site=f"""
        import os
        import subprocess
        import sys

        def test_it(hl_cassette):
            code = (
                "import builtins, socket; assert builtins.SITE_RAN; "
                "socket.create_connection(('127.0.0.1', {listeners.tcp_port}))"
            )
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
            assert "NetworkBlockedError: hl-testkit blocked a TCP connection" in done.stderr
        """
    )
    os.environ["PYTHONPATH"] = str(site)
    try:
        result = pytester.runpytest("-p", "no:cacheprovider")
    finally:
        del os.environ["PYTHONPATH"]
    result.assert_outcomes(passed=1, errors=1)  # passed the call, failed at teardown
    result.stdout.fnmatch_lines(["*blocked a TCP connection*(in child process *"])
    assert listeners.received() == []


def test_the_audit_hook_is_added_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    added: list[object] = []
    monkeypatch.setattr(sys, "addaudithook", added.append)
    active = list(network._ACTIVE)
    for _ in range(3):
        guard = network.NetworkGuard()
        guard.install()
        assert network._ACTIVE[-1] is guard
        guard.uninstall()
    assert added == []  # this run's own guard added it already
    assert active == network._ACTIVE
