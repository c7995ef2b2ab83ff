"""What `hl-testkit diff` shares with contract/ and secrets/, pinned: one path spelling,
one request key, one way of showing a value, one scrubbing stream, in-process."""

from __future__ import annotations

import json
from typing import Any

from hl_testkit.cassettes.file import CassetteData, Interaction, RecordedRequest, RecordedResponse
from hl_testkit.contract.schemas import SchemaSet
from hl_testkit.drift import diff

API = "https://api.humanloop.com/v4"


def _answer(body: Any, path: str = "/sessions/sesh_a1", method: str = "GET") -> Interaction:
    return Interaction(
        RecordedRequest(method, API + path, {}, None),
        RecordedResponse(200, "OK", {}, json.dumps(body).encode()),
    )


def _session(**extra: Any) -> dict[str, Any]:
    return {"id": "sesh_a1", "projects": [], "created_at": "2024-01-01T00:00:00Z", **extra}


def test_a_change_and_the_schema_finding_at_one_place_have_one_path() -> None:
    odd = {"odd key": 1, "it's": 2, "back\\slash": 3, "plain": 4}
    found = diff.diff_cassettes(
        "c.yaml",
        CassetteData([_answer(_session())]),
        CassetteData([_answer(_session(**odd))]),
        SchemaSet.default(),
    )
    assert found is not None
    [item] = found.interactions
    added = sorted(c.path for c in item.changes if c.kind == diff.PROPERTY_ADDED)
    unknown = sorted(c.path for c in item.changes if c.kind == diff.UNKNOWN_PROPERTY)
    assert (
        added
        == unknown
        == sorted(["body['odd key']", "body['it\\'s']", "body['back\\\\slash']", "body.plain"])
    )
