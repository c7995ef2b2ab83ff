"""Pytest plugins of this development venv that hl-testkit's users do not run it with.

schemathesis (the `fuzz` extra: test_standin_openapi.py runs its CLI, not its plugin)
and pytest-recording (the `bench` extra: bench/ compares against it) are loaded by
every pytest process through their entry points, and schemathesis alone imports
~2.5 s of modules (hypothesis, graphql, ...) before the first test: most of the start
of each of the suite's hundreds of inner pytest processes (and of each xdist worker).
The runs under test leave them out; the one test of both plugins in one run
(tests/test_beside_pytest_recording.py) names pytest-recording itself.
"""

from __future__ import annotations

OFF = "-p no:schemathesis -p no:recording"


def addopts(existing: str | None = None) -> str:
    """PYTEST_ADDOPTS for an inner run: `existing` (if any), then the plugins left out."""
    return f"{existing} {OFF}" if existing else OFF
