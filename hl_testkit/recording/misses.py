"""The message for a request a cassette cannot answer.

It says what was asked, where we looked, what came closest and how it differs,
and the exact command that records it: no vcrpy keyword arguments to decode.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hl_testkit.cassettes.matching import RequestKey, closest, differences
from hl_testkit.recording.paths import rerecord_command


@dataclass(frozen=True)
class MissReport:
    key: RequestKey
    path: Path
    existed: bool
    record_mode: str
    recorded: list[RequestKey]
    already_played: int
    nodeid: str
    #: Other tests sharing the cassette that recorded this very request.
    recorded_by_others: tuple[str, ...] = ()

    def format(self) -> str:
        lines = ["hl-testkit: the cassette has no answer for this request", ""]
        lines.append(f"  request:  {self.key.describe()}")
        if self.key.body is not None:
            lines.append(f"  body:     {self.key.body}")
        if not self.existed:
            lines.append(f"  cassette: {self.path} does not exist (record mode {self.record_mode})")
            lines += ["", "To record it, run:", f"  {rerecord_command(self.nodeid, 'once')}"]
            return "\n".join(lines)
        lines.append(
            f"  cassette: {self.path} ({_count(len(self.recorded), 'interaction')}, "
            f"record mode {self.record_mode})"
        )
        if self.already_played:
            lines.append(
                f"  all {self.already_played} recorded answer(s) to this request were already "
                "played: identical requests replay once each, in recorded order"
            )
        elif self.recorded_by_others:
            lines.append(
                f"  recorded only by {', '.join(self.recorded_by_others)}, which share(s) "
                "this cassette: a test replays only what it recorded itself"
            )
        else:
            position = closest(self.key, self.recorded)
            if position is None:
                lines.append("  the cassette holds no interactions")
            else:
                near = self.recorded[position]
                lines.append(f"  closest:  #{position} {near.describe()}")
                lines += [f"    - {d}" for d in differences(self.key, near)]
        lines += ["", "To record it, run:", f"  {rerecord_command(self.nodeid, 'new_episodes')}"]
        return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
