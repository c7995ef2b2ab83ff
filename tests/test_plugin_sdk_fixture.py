"""The `hl_humanloop` fixture: the official SDK, sync and async, recorded and replayed."""

from __future__ import annotations

import sys

import pytest

SDK_TESTS = """
import asyncio


def test_sync(hl_humanloop):
    created = hl_humanloop.sessions.create()
    assert created.status == 201
    got = hl_humanloop.sessions.get(id=created.body["id"])
    assert got.body["id"] == created.body["id"]
    page = hl_humanloop.sessions.list(project_id="pr_demo", page=2, size=10)
    assert len(page.body["records"]) == 10


def test_async(hl_humanloop):
    async def calls():
        created = await hl_humanloop.sessions.acreate()
        got = await hl_humanloop.sessions.aget(id="sesh_demo")
        page = await hl_humanloop.sessions.alist(project_id="pr_demo", page=3, size=10)
        return created, got, page

    created, got, page = asyncio.run(calls())
    assert created.status == 201
    assert got.body["id"] == "sesh_demo"
    assert len(page.body["records"]) == 3
"""


def test_sdk_fixture_records_then_replays_sync_and_async(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_sdk=SDK_TESTS)
    recorded = pytester.runpytest("--hl-record-mode=once")
    recorded.assert_outcomes(passed=2)
    folder = pytester.path / "cassettes" / "test_sdk"
    assert sorted(p.name for p in folder.iterdir()) == ["test_async.yaml", "test_sync.yaml"]
    assert "GET" in (folder / "test_async.yaml").read_text(encoding="utf-8")
    replayed = pytester.runpytest()
    replayed.assert_outcomes(passed=2)
    replayed.stdout.fnmatch_lines(["*6 interaction(s) replayed, 0 recorded; 0 miss(es)*"])


def test_sdk_fixture_without_the_sdk_says_how_to_install(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "humanloop", None)  # as if the extra were missing
    pytester.makepyfile(test_sdk="def test_it(hl_humanloop):\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    assert "pip install 'hl-testkit[sdk]'" in result.stdout.str()
