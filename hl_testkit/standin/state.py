"""`SessionStore`: the stand-in's in-memory sessions, built from a `Seed`.

Everything is deterministic so recordings made against the stand-in do not
churn: an id the seed leaves out, and the id of every session made by
`create()`, is `sesh_` + 24 hex digits of sha256(seed fingerprint, counter);
`created_at` defaults to the seed's base time + counter seconds. The counter
is the session's position: seed sessions first, then creates in order.
`reset()` goes back to the seed, so the same ids and timestamps come again.

Lists are ordered by `created_at`, then `id` (oldest first), so pages are
stable however the seed is written.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hl_testkit.standin.seed import Seed, SeedDatapoint, format_rfc3339, parse_rfc3339


@dataclass(frozen=True)
class StoredSession:
    id: str
    created_at: datetime
    reference_id: str | None
    datapoints: tuple[SeedDatapoint, ...]

    def project_ids(self) -> list[str]:
        """The projects the session has datapoints in, in order of first appearance."""
        return list(dict.fromkeys(dp.project_id for dp in self.datapoints))


@dataclass(frozen=True)
class Page:
    records: list[dict[str, Any]]
    page: int
    size: int
    total: int

    def to_body(self) -> dict[str, Any]:
        return {"records": self.records, "page": self.page, "size": self.size, "total": self.total}


class SessionStore:
    """Thread-safe: every public method holds one lock."""

    def __init__(self, seed: Seed) -> None:
        self.seed = seed
        self._fingerprint = seed.fingerprint
        self._base_time = parse_rfc3339(seed.base_time)
        self._project_names = {p.id: p.name for p in seed.projects}
        self._lock = threading.Lock()
        self._sessions: dict[str, StoredSession] = {}
        self._counter = 0
        self.reset()

    def reset(self) -> None:
        """Back to the seed: the same sessions, and the counter starts over."""
        with self._lock:
            self._sessions = {}
            self._counter = 0
            for given in self.seed.sessions:
                # Give-or-derive: the counter advances either way, so adding an id to
                # one seed session does not move the others' derived ids or times.
                counter = self._next_counter()
                session = StoredSession(
                    id=given.id or self._derive_id(counter),
                    created_at=parse_rfc3339(given.created_at)
                    if given.created_at
                    else self._derive_time(counter),
                    reference_id=given.reference_id,
                    datapoints=given.datapoints,
                )
                self._sessions[session.id] = session

    def create(self) -> str:
        """A new session without datapoints (so in no project); returns its id."""
        with self._lock:
            counter = self._next_counter()
            session = StoredSession(
                id=self._derive_id(counter),
                created_at=self._derive_time(counter),
                reference_id=None,
                datapoints=(),
            )
            self._sessions[session.id] = session
            return session.id

    def get(self, session_id: str) -> dict[str, Any] | None:
        """The SessionResponse body, or None when there is no such session."""
        with self._lock:
            session = self._sessions.get(session_id)
            return None if session is None else self._body(session)

    def list(self, project_id: str, page: int, size: int) -> Page:
        """One page of the sessions with datapoints in `project_id` (pages start at 1).

        An unknown project gives an empty page with total 0, not a 404: the API
        defines no 404 for list, and "no sessions match" is what the query means.
        """
        with self._lock:
            matching = sorted(
                (s for s in self._sessions.values() if project_id in s.project_ids()),
                key=lambda s: (s.created_at, s.id),
            )
            start = (page - 1) * size
            records = [self._body(s) for s in matching[start : start + size]]
            return Page(records, page, size, len(matching))

    # -- helpers (called with the lock held) -----------------------------------

    def _next_counter(self) -> int:
        counter = self._counter
        self._counter += 1
        return counter

    def _derive_id(self, counter: int) -> str:
        salt = 0
        while True:
            material = f"{self._fingerprint}:{counter}:{salt}".encode()
            candidate = "sesh_" + hashlib.sha256(material).hexdigest()[:24]
            # A seed may, however unlikely, already use the derived id: step past it.
            if candidate not in self._sessions and not any(
                s.id == candidate for s in self.seed.sessions
            ):
                return candidate
            salt += 1

    def _derive_time(self, counter: int) -> datetime:
        return self._base_time + timedelta(seconds=counter)

    def _body(self, session: StoredSession) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": session.id,
            "projects": [
                {"id": pid, "name": self._project_names[pid]} for pid in session.project_ids()
            ],
            "datapoints_count": len(session.datapoints),
            "created_at": format_rfc3339(session.created_at),
        }
        if session.reference_id is not None:
            body["reference_id"] = session.reference_id
        if session.datapoints:
            body["first_inputs"] = dict(session.datapoints[0].inputs)
            last_output = session.datapoints[-1].output
            if last_output is not None:
                body["last_output"] = last_output
        return body
