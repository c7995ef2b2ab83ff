"""Which API a test talks to: the live one, the embedded stand-in, or none (replay)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hl_testkit.settings import Settings, TargetKind

if TYPE_CHECKING:
    from hl_testkit.standin import StandinServer

#: Sent in replay, where no key is needed: the cassette answers, not a server.
REPLAY_API_KEY = "hl-testkit-replay-key"


@dataclass(frozen=True)
class Endpoint:
    kind: TargetKind
    base_url: str = field(repr=False)  # its userinfo may hold a credential
    api_key: str = field(repr=False)

    @property
    def recorded_against(self) -> str:
        return {"standin": "stand-in", "live": "live", "replay": "unknown"}[self.kind]


@dataclass
class Target:
    """Hands out endpoints; starts the stand-in on first use only, once per run."""

    settings: Settings
    _server: StandinServer | None = field(default=None, repr=False)

    def endpoint(self, record_mode: str) -> Endpoint:
        kind = self.settings.target_for(record_mode)
        if kind == "standin":
            server = self._standin()
            return Endpoint(kind, server.base_url, server.api_key)
        from hl_testkit.client import DEFAULT_BASE_URL  # requests: only when a test runs

        base_url = (self.settings.base_url or DEFAULT_BASE_URL).rstrip("/")
        return Endpoint(kind, base_url, self.settings.api_key or REPLAY_API_KEY)

    def _standin(self) -> StandinServer:
        if self._server is None:
            # Imported here: a replay run never pays for the server.
            from hl_testkit.standin import StandinServer, default_seed

            self._server = StandinServer(seed=default_seed()).start()
        return self._server

    def reset(self) -> None:
        """Before each recording test: the stand-in back to its seed, for identical ids."""
        if self._server is not None:
            self._server.reset()

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
