"""The stand-in v4 sessions API: a real HTTP server on loopback for tests and demos.

    with StandinServer() as server:
        client = SessionsClient(server.api_key, base_url=server.base_url)
        client.list(project_id=DEMO_PROJECT_ID)

Same seed, same answers: ids and timestamps are derived, not random.
"""

from __future__ import annotations

from hl_testkit.standin.seed import (
    DEMO_PROJECT_ID,
    DEMO_SESSION_ID,
    EMPTY_PROJECT_ID,
    Seed,
    default_seed,
    load_seed,
)
from hl_testkit.standin.server import STANDIN_API_KEY, StandinServer

__all__ = [
    "DEMO_PROJECT_ID",
    "DEMO_SESSION_ID",
    "EMPTY_PROJECT_ID",
    "STANDIN_API_KEY",
    "Seed",
    "StandinServer",
    "default_seed",
    "load_seed",
]
