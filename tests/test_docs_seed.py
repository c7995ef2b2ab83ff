"""The seed file format documented in docs/configuration.md, served as written."""

from __future__ import annotations

import re
from pathlib import Path

from hl_testkit import SessionsClient
from hl_testkit.standin import StandinServer, load_seed

DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def test_the_documented_seed_file_is_served_as_the_doc_says(tmp_path: Path) -> None:
    [example] = [
        block
        for block in re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
        if block.startswith("# seed.yaml\n")
    ]
    path = tmp_path / "seed.yaml"
    path.write_text(example, encoding="utf-8")
    with StandinServer(seed=load_seed(path)) as server:
        client = SessionsClient(server.api_key, base_url=server.base_url)
        support = client.list(project_id="pr_support", size=10).body
        assert support["total"] == 2
        assert client.list(project_id="pr_empty").body["total"] == 0
        first = client.get(id="sesh_first").body
        assert first["reference_id"] == "ticket-1"
        assert first["created_at"] == "2024-02-01T09:30:00Z"
        assert first["datapoints_count"] == 1
        assert first["first_inputs"] == {"question": "Where is my invoice?"}
        assert first["last_output"] == "In Billing."
        [second] = [s for s in support["records"] if s["id"] != "sesh_first"]
        assert second["id"].startswith("sesh_")  # derived from the seed's content
        assert second["created_at"] == "2024-01-01T00:00:01Z"  # base_time + its position
        assert "last_output" not in second  # its datapoint has no output
    again = load_seed(path)
    with StandinServer(seed=again) as server:  # the same seed, the same derived id
        client = SessionsClient(server.api_key, base_url=server.base_url)
        ids = {s["id"] for s in client.list(project_id="pr_support").body["records"]}
        assert second["id"] in ids
