"""The end-of-run summary: cassettes used and written, interactions replayed and recorded."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hl_testkit.recording.recorder import Recording, SaveResult


@dataclass
class RunStats:
    counts: Counter[str] = field(default_factory=Counter)
    written: list[str] = field(default_factory=list)
    discarded: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    #: Cassettes by path: one shared by several tests (or xdist workers) counts once.
    used: set[str] = field(default_factory=set)
    unchanged: set[str] = field(default_factory=set)
    #: Lines on cassettes a recording changed, semantically (hl_testkit.drift.command).
    changed: list[str] = field(default_factory=list)

    def record(self, recording: Recording, result: SaveResult) -> None:
        c = self.counts
        self.used.add(str(recording.path))
        c["replayed"] += len(recording.played)
        c["recorded"] += len(recording.recorded)
        c["misses"] += len(recording.misses)
        if result.action == "removed":
            c["removed"] += 1
        if result.action == "unchanged":
            self.unchanged.add(str(recording.path))
        if result.action == "written":
            self.written.append(str(recording.path))
        if result.action == "discarded":
            self.discarded.append(str(recording.path))

    def merge(self, other: dict[str, object]) -> None:
        """Add a worker's stats (sent by pytest-xdist as plain data)."""
        counts = other.get("counts", {})
        if isinstance(counts, dict):
            self.counts.update({str(k): int(v) for k, v in counts.items()})
        for name in ("written", "discarded", "drift", "changed"):
            values = other.get(name, [])
            if isinstance(values, list):
                getattr(self, name).extend(str(v) for v in values)
        for name in ("used", "unchanged"):
            values = other.get(name, [])
            if isinstance(values, list):
                getattr(self, name).update(str(v) for v in values)

    def as_data(self) -> dict[str, object]:
        return {
            "counts": dict(self.counts),
            "written": self.written,
            "discarded": self.discarded,
            "drift": self.drift,
            "used": sorted(self.used),
            "unchanged": sorted(self.unchanged),
            "changed": self.changed,
        }

    def lines(self) -> list[str]:
        c = self.counts
        if not self.used:
            return []
        written = set(self.written)
        out = [
            f"{len(self.used)} cassette(s) used, {len(written)} written, "
            f"{len(self.unchanged - written)} unchanged; {c['replayed']} interaction(s) replayed, "
            f"{c['recorded']} recorded; {c['misses']} miss(es)"
            + (f"; {c['unused']} unused interaction(s)" if c["unused"] else "")
        ]
        out += [f"  written: {p}" for p in sorted(written)]
        out += self.changed
        out += [f"  not saved (test failed): {p}" for p in sorted(self.discarded)]
        out += [f"  drift: {d}" for d in self.drift]
        return out
