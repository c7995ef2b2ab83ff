"""Which changes `hl-testkit diff` and the re-record summary leave out (`--ignore`,
ini `hl_diff_ignore`). Apart from `diff` so that a run can check the ini value at
start-up (a bad path is a usage error) without loading the comparison."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from hl_testkit.errors import HlTestkitError

_ROOTS = ("status", "headers", "body", "request.headers")


class IgnoreError(HlTestkitError, ValueError):
    """An `--ignore` / `hl_diff_ignore` path that cannot be used."""


@dataclass(frozen=True)
class Ignores:
    """Paths whose changes do not count: `body.created_at`, `body.records[*].id`.

    `*` is any one property name, `[*]` any array index, `**` anything; a path
    also covers everything beneath it. Header names ignore case.
    """

    patterns: tuple[str, ...] = ()
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, patterns: Iterable[str], source: str = "--ignore") -> Ignores:
        cleaned = tuple(p.strip() for p in patterns if p.strip())
        for pattern in cleaned:
            if not any(pattern == r or pattern.startswith((r + ".", r + "[")) for r in _ROOTS):
                raise IgnoreError(
                    f"{source} {pattern!r}: a path starts with {', '.join(_ROOTS)} "
                    "(e.g. body.created_at or body.records[*].id)"
                )
        if not cleaned:
            return cls()
        regex = re.compile("|".join(f"(?:{_translate(p)})" for p in cleaned))
        return cls(cleaned, regex)

    def covers(self, path: str) -> bool:
        if self._regex is None:
            return False
        if path.startswith(("headers.", "request.headers.")):
            path = path.lower()
        return self._regex.match(path) is not None


def _translate(pattern: str) -> str:
    if pattern.startswith(("headers.", "request.headers.")):
        pattern = pattern.lower()  # header names ignore case; `covers` lowers them too
    out = ""
    for token in re.split(r"(\*\*|\[\*\]|\*)", pattern):
        if token == "**":
            out += ".*"
        elif token == "[*]":
            out += r"\[\d+\]"
        elif token == "*":
            out += r"[^.\[]+"
        else:
            out += re.escape(token)
    return out + r"(?:$|[.\[])"  # the path itself, or anything beneath it
