"""`hl-testkit demo`: the stand-in server and the client, end to end, in a few seconds."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TextIO

from hl_testkit.client import ApiResponse, SessionsClient
from hl_testkit.errors import ApiException
from hl_testkit.schemas import validate_response
from hl_testkit.standin import DEMO_PROJECT_ID, DEMO_SESSION_ID, StandinServer, default_seed


def run_demo(out: TextIO) -> int:
    """Start the stand-in, call create/get/list (and two errors), check every body."""
    failures = 0

    def show(label: str, operation: str, status: int, body: object) -> None:
        nonlocal failures
        violations = validate_response(operation, status, body) or []
        failures += bool(violations)
        verdict = "valid" if not violations else f"INVALID: {'; '.join(map(str, violations))}"
        text = json.dumps(body, ensure_ascii=False)
        shown = text if len(text) <= 110 else text[:107] + "..."
        out.write(f"  {label:<34} {status}  schema {verdict}\n    {shown}\n")

    with StandinServer(seed=default_seed()) as server:
        out.write(f"stand-in Humanloop v4 sessions API on {server.base_url}\n")
        with SessionsClient(server.api_key, base_url=server.base_url) as client:
            created = client.create()
            show("create()", "create", created.status, created.body)
            fetched = client.get(id=created.body["id"])
            show(f"get(id={created.body['id']!r})", "get", fetched.status, fetched.body)
            seeded = client.get(id=DEMO_SESSION_ID)
            show(f"get(id={DEMO_SESSION_ID!r})", "get", seeded.status, seeded.body)
            page = 1
            while True:
                result = client.list(project_id=DEMO_PROJECT_ID, page=page, size=10)
                records = result.body["records"]
                show(f"list(page={page}, size=10) → {len(records)}", "list", 200, result.body)
                if not records:
                    break
                page += 1
            errors: list[tuple[str, str, Callable[[], ApiResponse]]] = [
                ("list(page=0) → 422", "list", lambda: client.list(DEMO_PROJECT_ID, page=0)),
                ("get(id='sesh_missing') → 404", "get", lambda: client.get(id="sesh_missing")),
            ]
            for label, operation, call in errors:
                try:
                    call()
                    failures += 1
                    out.write(f"  {label}: expected an error, got success\n")
                except ApiException as exc:
                    show(label, operation, exc.status, exc.body)
    out.write("all bodies valid\n" if not failures else f"{failures} problem(s)\n")
    return 0 if not failures else 1
