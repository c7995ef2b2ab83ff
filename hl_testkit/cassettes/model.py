"""What a cassette holds: interactions, their requests and responses, the file's facts.

Plain dataclasses, no I/O and no YAML: the scrubber, the replay adapters and the
output guard use them without loading a YAML parser (an xdist controller runs no
test and never reads a cassette). Reading and writing them is `hl_testkit.cassettes.file`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Headers = dict[str, str | list[str]]
VarValue = str | int | float | bool


@dataclass
class RecordedRequest:
    method: str
    uri: str
    headers: Headers = field(default_factory=dict)
    body: bytes | None = None


@dataclass
class RecordedResponse:
    status: int
    reason: str
    headers: Headers = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Interaction:
    request: RecordedRequest
    response: RecordedResponse
    # Set when the body broke its JSON Schema while recording: kept, and marked,
    # so the drift can be read in the file and reported.
    schema_violations: list[str] | None = None
    #: The node id of the test that recorded it (format 2); None in format 1 files.
    recorded_by: str | None = None


@dataclass
class CassetteData:
    interactions: list[Interaction] = field(default_factory=list)
    recorded_against: str | None = None
    #: The UTC date (`YYYY-MM-DD`) the content last changed; None in older files.
    recorded_at: str | None = None
    #: Values a scenario read from the environment while recording (name → value),
    #: kept so that replay needs no environment. Empty for Python tests: not written.
    vars: dict[str, VarValue] = field(default_factory=dict)
