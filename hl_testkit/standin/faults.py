"""Fault injection: make the next requests fail the ways real servers do.

Tests queue faults with `FaultQueue.push`; the app takes at most one off the
front per request and answers it (see `StandinApp`): a 429 with `Retry-After`
and a JSON body, a 500 with a JSON body, a 502 with an HTML page (as a proxy
in front of the API would send), or, for "slow", a sleep and then the normal
answer.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Literal, get_args

FaultKind = Literal["429", "500", "502", "slow"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    retry_after: int = 1
    delay: float = 0.5


class FaultQueue:
    """A thread-safe queue of faults, consumed one per request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[Fault] = deque()
        # Set on clear() so a slow request in flight ends early on reset/stop.
        self._cancel = threading.Event()

    def push(self, fault: Fault, count: int = 1) -> None:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {fault.kind!r}; expected one of {FAULT_KINDS}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"count must be an int >= 1, got {count!r}")
        # Retry-After takes whole seconds (RFC 9110).
        if isinstance(fault.retry_after, bool) or not isinstance(fault.retry_after, int):
            raise ValueError(f"retry_after must be whole seconds, got {fault.retry_after!r}")
        if fault.retry_after < 0 or fault.delay < 0:
            raise ValueError("retry_after and delay must not be negative")
        with self._lock:
            self._cancel.clear()
            self._queue.extend([fault] * count)

    def pop(self) -> Fault | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._cancel.set()

    def sleep(self, delay: float) -> None:
        """A slow fault's wait; cut short by `clear()` (reset or stop)."""
        self._cancel.wait(delay)
