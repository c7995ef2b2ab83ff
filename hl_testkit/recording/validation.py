"""Schema checks of the responses a test received, recorded or replayed.

Every routed response (the sessions API's, and any route the user adds) is
checked against its JSON Schema; a failure names the operation, status, each
violation with its JSON path, expected and actual, and the cassette and
interaction index.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hl_testkit.cassettes.model import Interaction
from hl_testkit.contract.check import Finding, check_interaction
from hl_testkit.contract.schemas import SchemaSet
from hl_testkit.recording.recorder import Recording


@dataclass
class SchemaOutcome:
    failures: list[Finding] = field(default_factory=list)
    drift: list[Finding] = field(default_factory=list)

    def message(
        self,
        recording: Recording,
        recorded: bool,
        turn_off: str = "@pytest.mark.hl_cassette(schema=False)",
    ) -> str:
        lines = [f"hl-testkit: {len(self.failures)} response body(ies) break their JSON Schema"]
        for finding in self.failures:
            lines.append(f"  {finding.where}")
            lines += [f"    {violation}" for violation in finding.violations]
        if recorded:
            lines.append(
                f"The cassette {recording.path} was written anyway, each such interaction "
                "marked with `schema_violations`, so the drift can be read and reported."
            )
        lines.append(
            "If the API changed on purpose, update the schema (ini hl_schema_dir) or turn the "
            f"check off for this test: {turn_off}."
        )
        return "\n".join(lines)


def check_recording(
    recording: Recording, schemas: SchemaSet, *, drift: bool = True
) -> SchemaOutcome:
    """Check what the test played back and what it recorded.

    Costs what was played and recorded, whatever the cassette's size. `drift=False`
    skips the drift report (`outcome.drift` stays empty).
    """
    outcome = SchemaOutcome()
    offset = 0 if recording.record_mode == "rewrite" else len(recording.loaded)
    pairs: list[tuple[int, Interaction]] = list(recording.played_positions())
    pairs += [(offset + n, i) for n, i in enumerate(recording.recorded)]
    for index, interaction in pairs:
        finding = check_interaction(recording.path, index, interaction, schemas, drift=drift)
        if finding is None:
            continue
        if finding.violations:
            outcome.failures.append(finding)
            interaction.schema_violations = [str(v) for v in finding.violations]
        if finding.drift:
            outcome.drift.append(finding)
    return outcome
