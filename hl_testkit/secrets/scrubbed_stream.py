"""A text stream that shows no known secret: what `hl-testkit check` and `diff` print,
and pytest's terminal (the output guard), all write through one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hl_testkit.secrets.scrub import Secret, replacer


class ScrubbedStream:
    """Writes to `stream` through `scrub` (a text → text function), and is otherwise
    the stream (attributes, `flush`, `isatty`, ...)."""

    def __init__(self, stream: Any, scrub: Callable[[str], str]) -> None:
        self._stream = stream
        self._scrub = scrub

    @classmethod
    def of(cls, stream: Any, secrets: Sequence[Secret]) -> ScrubbedStream:
        """`stream` with every form of `secrets` replaced (nothing to do without one)."""
        return cls(stream, replacer(secrets) if secrets else str)

    def write(self, text: str) -> int:
        self._stream.write(self._scrub(text))
        return len(text)  # what the caller wrote, as a text stream answers

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
