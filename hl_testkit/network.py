"""The network guard: replay must never reach the network, and say so at once.

Patches `socket.socket.connect`/`connect_ex`/`sendto` and `socket.getaddrinfo`,
`gethostbyname` and `gethostbyname_ex` (name lookups are network too). Two policies:

- `loopback`: loopback addresses (a local database) and allowed hosts only;
- `closed`: allowed hosts only — a test replaying a cassette in mode `none`.

A blocked call raises at once, naming host and port; it never hangs.
Installing saves whatever is there (even another guard, as in a nested
pytester run) and uninstalling puts exactly that back.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from hl_testkit.errors import HlTestkitError

Policy = Literal["loopback", "closed", "open"]
DEFAULT_HINT = "Replay runs (--hl-record-mode=none) reach only loopback. "


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
    def __init__(self, allowed_hosts: Iterable[str] = ()) -> None:
        self.allowed = {h.lower() for h in allowed_hosts}
        self.allow_all = "*" in self.allowed
        self.policy: Policy = "loopback"
        self.context = ""  # what is running, for messages
        self.hint = DEFAULT_HINT  # what to do about it
        self.blocked: list[str] = []
        self._saved: dict[str, Any] = {}

    @contextlib.contextmanager
    def scoped(self, policy: Policy, *, context: str, hint: str) -> Iterator[None]:
        """`policy` for the duration of one test; `blocked` lists what it refused."""
        saved = self.policy, self.context, self.hint
        self.policy, self.context, self.hint = policy, context, hint
        self.blocked.clear()
        try:
            yield
        finally:
            self.policy, self.context, self.hint = saved

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
        self.blocked.append(message)
        return NetworkBlockedError(message)

    def _check_address(self, sock: socket.socket, address: Any, kind: str) -> None:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return  # Unix sockets are local by nature
        host, port = str(address[0]), address[1]
        if not self.permits(host):
            proto = "UDP" if sock.type == socket.SOCK_DGRAM else "TCP"
            raise self._refuse(host, port, f"{proto} {kind}")

    # -- patching -----------------------------------------------------------------

    def install(self) -> None:
        if self._saved:
            return
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

        def check_lookup(host: Any, port: Any) -> None:
            name = host.decode() if isinstance(host, bytes) else host
            if name and not guard.permits(str(name)) and not _is_ip(str(name)):
                raise guard._refuse(str(name), port, "name lookup")

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
