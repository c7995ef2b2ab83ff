"""Shared fixtures: one stand-in server for the whole run, reset before each test; inner
pytest runs (pytester's, and subprocesses) without this venv's unrelated plugins."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from hl_testkit import SessionsClient
from hl_testkit.standin import StandinServer
from tests import other_plugins


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


@pytest.fixture(scope="session", autouse=True)
def _inner_runs_without_other_plugins() -> Iterator[None]:
    """Every subprocess started here inherits it (`python -m pytest`, `hl-testkit demo`):
    see tests/other_plugins.py for why, and what is left out."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTEST_ADDOPTS", other_plugins.addopts(os.environ.get("PYTEST_ADDOPTS")))
        yield


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytester's own, after it has cleared PYTEST_ADDOPTS (an outside `-x` must not
    change an inner run): only the unrelated plugins are left out again."""
    monkeypatch.setenv("PYTEST_ADDOPTS", other_plugins.addopts())
    return pytester
