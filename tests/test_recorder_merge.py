"""`Recording.merged`'s attribution (`recorder.attributed`) is `dataclasses.replace`."""

from __future__ import annotations

import dataclasses
from typing import Any

from hl_testkit.cassettes.model import Interaction, RecordedRequest, RecordedResponse
from hl_testkit.recording.recorder import attributed


def _every_field_set() -> Interaction:
    """An interaction whose every field (one added later too) holds a value of its own."""
    values: dict[str, Any] = {
        "request": RecordedRequest("GET", "https://api.humanloop.com/v4/sessions"),
        "response": RecordedResponse(200, "OK", {"A": "b"}, b"{}"),
        "recorded_by": "other.py::test",
    }
    for field in dataclasses.fields(Interaction):
        values.setdefault(field.name, [f"a value of {field.name}"])
    return Interaction(**values)


def test_attributed_is_dataclasses_replace_for_every_field() -> None:
    interaction = _every_field_set()
    made = attributed(interaction, "t.py::t")
    assert made == dataclasses.replace(interaction, recorded_by="t.py::t")
    for field in dataclasses.fields(Interaction):  # each the same object, as replace keeps it
        if field.name != "recorded_by":
            assert getattr(made, field.name) is getattr(interaction, field.name)
    assert made.recorded_by == "t.py::t"
    assert interaction.recorded_by == "other.py::test"  # a copy: the original stays
