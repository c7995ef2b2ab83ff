"""The network guard: replay must never reach the network, and say so at once.

Two layers, one policy:

- Python's audit hooks (`sys.addaudithook`): the events `socket.connect`,
  `socket.sendto`, `socket.sendmsg`, `socket.getaddrinfo`, `socket.gethostbyname`,
  `socket.gethostbyaddr` and `socket.getnameinfo` are raised by the C code of
  `_socket` itself, so every socket the interpreter opens is seen -- also
  `_socket.socket(...).connect`, `super(socket.socket, s).connect`, UDP
  `sendmsg` and lookups through `_socket`. `ctypes.dlsym` of a libc network
  function (`connect`, `sendto`, `getaddrinfo`, ...) is refused in the closed
  policy: ctypes calls into libc raise no socket event.
- patches of `socket.socket.connect`/`connect_ex`/`sendto` and `socket.getaddrinfo`,
  `gethostbyname`, `gethostbyname_ex`, checked first: they learn the addresses an
  allowed name resolves to, and keep the order of nested guards (pytester runs).

Two policies:

- `loopback`: loopback addresses (a local database) and allowed hosts only;
- `closed`: allowed hosts only -- a test replaying a cassette in mode `none`.

A blocked call raises at once, naming host and port; it never hangs. Installing
saves whatever is there (even another guard, as in a nested pytester run) and
uninstalling puts exactly that back. An audit hook cannot be removed: one is
added per process, the first time a guard is installed, and asks the guard
installed last (none: it lets everything through, after one set lookup).

Child processes: a forked child inherits the hook and the policy. A new Python
process (subprocess, multiprocessing's spawn and forkserver) is guarded only
with `--hl-guard-children` (`children=True`): the policy is exported in
`HL_TESTKIT_CHILD_GUARD`, and `hl_testkit/recording/child_guard` (put first on
`PYTHONPATH`) holds a `sitecustomize` that installs it as the child starts
and then runs the `sitecustomize` it hides. What a child refuses is also
written to a report file, so the test fails even when the child's error is
lost. Not guarded: programs that are not Python, Python started with `-S`,
`-E` or `-I`, or given an environment of its own without these variables, and
ctypes in the `loopback` policy.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import socket
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from hl_testkit.errors import HlTestkitError

Policy = Literal["loopback", "closed", "open"]
DEFAULT_HINT = "Replay runs (--hl-record-mode=none) reach only loopback. "
#: The policy a child Python process installs as it starts (JSON), with `--hl-guard-children`.
CHILD_ENV = "HL_TESTKIT_CHILD_GUARD"
#: The directory whose `sitecustomize` reads `CHILD_ENV`; first on a child's PYTHONPATH.
CHILD_SITE_DIR = str(Path(__file__).parent / "child_guard")
#: libc functions that reach the network, refused to ctypes in the closed policy.
CTYPES_NETWORK_CALLS = frozenset(
    {
        "connect",
        "sendto",
        "sendmsg",
        "sendmmsg",
        "getaddrinfo",
        "gethostbyname",
        "gethostbyname2",
        "gethostbyname_r",
        "gethostbyaddr",
        "getnameinfo",
        "res_query",
        "res_search",
        "res_send",
        "syscall",
    }
)


class NetworkBlockedError(HlTestkitError):
    """A connection that hl-testkit's network guard refused."""


def is_loopback_host(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


class NetworkGuard:
    def __init__(self, allowed_hosts: Iterable[str] = (), *, children: bool = False) -> None:
        self.allowed = {h.lower() for h in allowed_hosts}
        self.allow_all = "*" in self.allowed
        self.policy: Policy = "loopback"
        self.context = ""  # what is running, for messages
        self.hint = DEFAULT_HINT  # what to do about it
        self.blocked: list[str] = []
        #: Export the policy to child Python processes (--hl-guard-children).
        self.children = children
        #: Where a child process writes its refusals (one JSON string a line) for the parent.
        self.report_to: str | None = None
        self.child = False  # installed by `guard_child_process`
        self._saved: dict[str, Any] = {}
        self._saved_env: dict[str, str | None] = {}

    @contextlib.contextmanager
    def scoped(self, policy: Policy, *, context: str, hint: str) -> Iterator[None]:
        """`policy` for the duration of one test; `blocked` lists what it refused."""
        saved = self.policy, self.context, self.hint
        self.policy, self.context, self.hint = policy, context, hint
        self.blocked.clear()
        reports = _size(self.report_to)
        self._export()
        try:
            yield
        finally:
            self.policy, self.context, self.hint = saved
            self._export()
            self.blocked += _read_reports(self.report_to, reports)

    # -- policy -------------------------------------------------------------------

    def permits(self, host: str) -> bool:
        host = host.lower()
        if self.allow_all or self.policy == "open" or host in self.allowed:
            return True
        return self.policy == "loopback" and is_loopback_host(host)

    def _refuse(self, host: str, port: object, kind: str) -> NetworkBlockedError:
        where = f"{host}:{port}" if port is not None else host
        what = "any network" if self.policy == "closed" else "the network beyond loopback"
        message = (
            f"hl-testkit blocked a {kind} to {where}{self.context}: "
            f"{what} is off in this mode. {self.hint}"
            f"To allow this host, pass --hl-allow-host={host}."
        )
        return self._blocked(message)

    def _blocked(self, message: str) -> NetworkBlockedError:
        self.blocked.append(message)
        if self.child and self.report_to:  # the parent's test fails even if we swallow it
            with contextlib.suppress(OSError), open(self.report_to, "a", encoding="utf-8") as f:
                f.write(json.dumps(message) + "\n")
        return NetworkBlockedError(message)

    def _refuse_ctypes(self, name: str) -> NetworkBlockedError:
        message = (
            f"hl-testkit blocked a ctypes lookup of the C function {name}(){self.context}: "
            f"any network is off in this mode, and a call through ctypes has no address to "
            f"check. {self.hint}To allow it, pass --hl-allow-host=*."
        )
        return self._blocked(message)

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        """Check one audit event (see `_audit_hook`); raise to refuse it."""
        if self.allow_all or self.policy == "open":
            return
        if event == "socket.connect":
            self._check_address(args[0], args[1], "connection")
        elif event in ("socket.sendto", "socket.sendmsg"):
            if args[1] is not None:  # sendmsg on a connected socket: checked at connect
                self._check_address(args[0], args[1], "datagram")
        elif event == "socket.getaddrinfo":
            self._check_lookup(args[0], args[1])
        elif event == "socket.gethostbyname":
            self._check_lookup(args[0], None)
        elif event in ("socket.gethostbyaddr", "socket.getnameinfo"):
            address = args[0]
            host = address[0] if isinstance(address, tuple) else address
            host = host.decode() if isinstance(host, bytes) else str(host)
            if not self.permits(host):
                port = address[1] if isinstance(address, tuple) and len(address) > 1 else None
                raise self._refuse(host, port, "reverse name lookup")
        elif event == "ctypes.dlsym" and self.policy == "closed":
            name = args[1]
            if isinstance(name, str) and name in CTYPES_NETWORK_CALLS:
                raise self._refuse_ctypes(name)

    def _check_lookup(self, host: Any, port: Any) -> None:
        name = host.decode() if isinstance(host, bytes) else host
        if name and not self.permits(str(name)) and not _is_ip(str(name)):
            raise self._refuse(str(name), port, "name lookup")

    def _check_address(self, sock: socket.socket, address: Any, kind: str) -> None:
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
            return  # Unix sockets are local by nature
        host, port = str(address[0]), address[1]
        if not self.permits(host):
            proto = "UDP" if sock.type == socket.SOCK_DGRAM else "TCP"
            raise self._refuse(host, port, f"{proto} {kind}")

    # -- patching -----------------------------------------------------------------

    def install(self) -> None:
        if self._saved:
            return
        _add_audit_hook()
        _ACTIVE.append(self)
        if self.children and self.report_to is None:
            fd, self.report_to = tempfile.mkstemp(prefix="hl-testkit-guard-", suffix=".jsonl")
            os.close(fd)
        self._patch()
        self._export()

    def _export(self) -> None:
        """Child Python processes started from now on install this policy (`children`)."""
        if not self.children or self.child or not self._saved:
            return
        if not self._saved_env:
            self._saved_env = {name: os.environ.get(name) for name in (CHILD_ENV, "PYTHONPATH")}
        spec = {
            "policy": self.policy,
            "allowed": sorted(self.allowed),
            "context": self.context,
            "hint": self.hint,
            "report": self.report_to,
        }
        os.environ[CHILD_ENV] = json.dumps(spec)
        previous = self._saved_env["PYTHONPATH"]
        os.environ["PYTHONPATH"] = CHILD_SITE_DIR + (os.pathsep + previous if previous else "")

    def _patch(self) -> None:
        guard = self
        cls = socket.socket
        saved: dict[str, Any] = {
            "connect": cls.connect,
            "connect_ex": cls.connect_ex,
            "sendto": cls.sendto,
            "getaddrinfo": socket.getaddrinfo,
            "gethostbyname": socket.gethostbyname,
            "gethostbyname_ex": socket.gethostbyname_ex,
        }
        self._saved = saved

        def connect(sock: socket.socket, address: Any) -> None:
            guard._check_address(sock, address, "connection")
            saved["connect"](sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            guard._check_address(sock, address, "connection")
            result: int = saved["connect_ex"](sock, address)
            return result

        def sendto(sock: socket.socket, data: bytes, *args: Any) -> int:
            guard._check_address(sock, args[-1], "datagram")
            result: int = saved["sendto"](sock, data, *args)
            return result

        check_lookup = guard._check_lookup

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            check_lookup(host, port)
            name = host.decode() if isinstance(host, bytes) else host
            result = saved["getaddrinfo"](host, port, *args, **kwargs)
            if name and str(name).lower() in guard.allowed:
                # An allowed name: the addresses it resolves to are allowed too.
                guard.allowed.update(str(info[4][0]).lower() for info in result)
            return result

        def gethostbyname(host: str) -> str:
            # C-level lookups that do not go through `socket.getaddrinfo`.
            check_lookup(host, None)
            result: str = saved["gethostbyname"](host)
            return result

        def gethostbyname_ex(host: str) -> tuple[str, list[str], list[str]]:
            check_lookup(host, None)
            result: tuple[str, list[str], list[str]] = saved["gethostbyname_ex"](host)
            return result

        cls.connect = connect  # type: ignore[method-assign,assignment]
        cls.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
        cls.sendto = sendto  # type: ignore[method-assign,assignment]
        socket.getaddrinfo = getaddrinfo
        socket.gethostbyname = gethostbyname
        socket.gethostbyname_ex = gethostbyname_ex

    def uninstall(self) -> None:
        if not self._saved:
            return
        with contextlib.suppress(ValueError):
            _ACTIVE.remove(self)
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env = {}
        if self.report_to and not self.child:
            with contextlib.suppress(OSError):
                os.unlink(self.report_to)
            self.report_to = None
        socket.socket.connect = self._saved["connect"]  # type: ignore[method-assign]
        socket.socket.connect_ex = self._saved["connect_ex"]  # type: ignore[method-assign]
        socket.socket.sendto = self._saved["sendto"]  # type: ignore[method-assign]
        socket.getaddrinfo = self._saved["getaddrinfo"]
        socket.gethostbyname = self._saved["gethostbyname"]
        socket.gethostbyname_ex = self._saved["gethostbyname_ex"]
        self._saved = {}


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


# -- the audit hook -----------------------------------------------------------------------

_EVENTS = frozenset(
    {
        "socket.connect",
        "socket.sendto",
        "socket.sendmsg",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
        "socket.getnameinfo",
        "ctypes.dlsym",
    }
)
#: The guards installed, in order: the last one decides.
_ACTIVE: list[NetworkGuard] = []
_hook_added = False


def _audit_hook(event: str, args: tuple[Any, ...]) -> None:
    # Called for every audited event of the process (open, import, exec, ...): one set
    # lookup, and nothing more, for all but ours.
    if event in _EVENTS:
        for guard in _ACTIVE[-1:]:  # a slice: no race with a guard uninstalled meanwhile
            guard.audit(event, args)


def _add_audit_hook() -> None:
    global _hook_added
    if not _hook_added:
        sys.addaudithook(_audit_hook)
        _hook_added = True


# -- child processes ------------------------------------------------------------------------


def _size(path: str | None) -> int:
    try:
        return os.path.getsize(path) if path else 0
    except OSError:
        return 0


def _read_reports(path: str | None, offset: int) -> list[str]:
    """The refusals child processes wrote to `path` since `offset`."""
    if not path:
        return []
    try:
        with open(path, encoding="utf-8") as f:
            f.seek(offset)
            return [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError):
        return []


def guard_child_process() -> NetworkGuard | None:
    """Install the policy a parent exported in `CHILD_ENV` (run by `child_guard/sitecustomize`)."""
    raw = os.environ.get(CHILD_ENV)
    if not raw:
        return None
    spec = json.loads(raw)
    guard = NetworkGuard(spec["allowed"])
    guard.policy = spec["policy"]
    guard.context = f"{spec['context']} (in child process {os.getpid()})"
    guard.hint = spec["hint"]
    guard.report_to = spec["report"]
    guard.child = True
    guard.install()
    return guard
