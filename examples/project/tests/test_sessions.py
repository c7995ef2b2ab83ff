"""Code under test would call the API; here the tests call it directly."""

import pytest

from hl_testkit import ApiException

PROJECT = "pr_demo"  # the stand-in's demo project; use yours when recording live


def test_new_session_is_empty(sessions):
    created = sessions.create()
    assert created.status == 201
    assert sessions.get(id=created.body["id"]).body["datapoints_count"] == 0


def test_every_session_of_the_project(sessions):
    ids, page = [], 1
    while True:
        records = sessions.list(project_id=PROJECT, page=page, size=10).body["records"]
        if not records:
            break
        ids += [r["id"] for r in records]
        page += 1
    assert len(ids) == len(set(ids)) > 0


def test_unknown_session_is_404(sessions):
    with pytest.raises(ApiException) as caught:
        sessions.get(id="sesh_missing")
    assert caught.value.status == 404


def test_with_the_official_sdk(hl_humanloop):
    assert hl_humanloop.sessions.create().body["id"].startswith("sesh_")
