"""Shared fixtures: one stand-in server for the whole run, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hl_testkit import SessionsClient
from hl_testkit.standin import StandinServer


@pytest.fixture(scope="session")
def standin_server() -> Iterator[StandinServer]:
    """The expensive part, started once: a stand-in on a free loopback port."""
    with StandinServer() as server:
        yield server


@pytest.fixture
def standin(standin_server: StandinServer) -> StandinServer:
    """The shared stand-in in its seed state: no faults queued, empty request log."""
    standin_server.reset()
    return standin_server


@pytest.fixture
def client(standin: StandinServer) -> Iterator[SessionsClient]:
    """A `SessionsClient` pointed at the stand-in with the right key."""
    with SessionsClient(standin.api_key, base_url=standin.base_url) as sessions_client:
        yield sessions_client
