"""`store.update` drafts the save before taking the lock, and writes the draft under
it only if the file is still the one the draft was made from.

Guarded by agreement: the bytes a drafted save writes are those the locked path
(`_update_locked`, all the work under the lock) writes for the same file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hl_testkit.cassettes import file as cassette_file
from hl_testkit.cassettes import store
from hl_testkit.cassettes.file import CassetteError
from hl_testkit.cassettes.model import CassetteData, Interaction, RecordedRequest, RecordedResponse

API = "https://api.humanloop.com/v4"


def _interaction(tag: str) -> Interaction:
    return Interaction(
        RecordedRequest("GET", f"{API}/sessions/{tag}"),
        RecordedResponse(
            200, "OK", {"Content-Type": "application/json"}, b'{"id":"%s"}' % tag.encode()
        ),
        recorded_by=f"t.py::{tag}",
    )


def _append(tag: str, seen: list[bool] | None = None, path: Path | None = None) -> store.Compose:
    def compose(current: CassetteData | None) -> CassetteData | None:
        if seen is not None and path is not None:
            seen.append(_lock_held(path))
        old = current.interactions if current else []
        return CassetteData([*old, _interaction(tag)], "stand-in", "2026-01-01")

    return compose


def _lock_held(path: Path) -> bool:
    try:
        with store._locked(path, 0):
            return False
    except CassetteError:
        return True


def uris(path: Path) -> list[str]:
    return [
        i.request.uri.rsplit("/", 1)[1]
        for i in cassette_file.loads(path.read_bytes(), path).interactions
    ]


def test_uncontended_save_composes_outside_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    store.update(path, _append("a"))
    seen: list[bool] = []
    assert store.update(path, _append("b", seen, path)) == "written"
    assert seen == [False]  # composed once, and not while holding the lock
    assert uris(path) == ["a", "b"]


def test_a_save_in_between_is_merged_under_the_lock(tmp_path: Path) -> None:
    """Another writer saves after the draft was made: the draft is dropped, nothing lost."""
    path = tmp_path / "c.yaml"
    store.update(path, _append("a"))
    seen: list[bool] = []
    inner = _append("mine", seen, path)

    def compose(current: CassetteData | None) -> CassetteData | None:
        if not seen:  # the draft: meanwhile, another worker saves its interaction
            store.update(path, _append("other"))
        return inner(current)

    assert store.update(path, compose) == "written"
    assert seen == [False, True]  # drafted without the lock, then composed again under it
    assert uris(path) == ["a", "other", "mine"]


@pytest.mark.parametrize(
    "make",
    [
        lambda: _append("b"),  # appends
        lambda: lambda current: current,  # the same content: unchanged
        lambda: lambda current: CassetteData([_interaction("z")], "live"),  # replaced
    ],
)
def test_the_drafted_bytes_are_the_locked_paths_bytes(tmp_path: Path, make: object) -> None:
    first, second = tmp_path / "one" / "c.yaml", tmp_path / "two" / "c.yaml"
    first.parent.mkdir()
    second.parent.mkdir()
    store.update(first, _append("a"))
    shutil.copy(first, second)
    compose = make()  # type: ignore[operator]
    drafted = store.update(first, compose)
    locked = store._update_locked(second, second.read_bytes(), compose, "", False, True, None)
    assert drafted == locked
    assert first.read_bytes() == second.read_bytes()


def test_the_leak_guard_still_refuses(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    store.update(path, _append("a"))
    before = path.read_bytes()
    shown: list[str] = []

    def guard(text: str) -> None:
        shown.append(text)
        raise ValueError("leak")

    with pytest.raises(ValueError, match="leak"):
        store.update(path, _append("b"), before_write=guard)
    assert len(shown) == 2  # the draft's refusal is raised again, the one way, under the lock
    assert path.read_bytes() == before


def test_a_corrupt_file_is_refused_under_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("format: [\n", encoding="utf-8")
    with pytest.raises(CassetteError):
        store.update(path, _append("a"))
    assert path.read_text(encoding="utf-8") == "format: [\n"
