"""`store.update`: concurrent savers (threads, processes) lose nothing; a held lock fails loudly.

Also what `update` returns, how it treats `recorded_at`, and a corrupt current file.
"""

from __future__ import annotations

import dataclasses
import random
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from hl_testkit.cassettes import file as cassette_file
from hl_testkit.cassettes import store
from hl_testkit.cassettes.file import CassetteError
from hl_testkit.cassettes.model import (
    CassetteData,
    Headers,
    Interaction,
    RecordedRequest,
    RecordedResponse,
)

THREADS, PER_THREAD = 8, 6
PROCESSES, PER_PROCESS = 4, 6

WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path

    from hl_testkit.cassettes import store
    from hl_testkit.cassettes.model import (
        CassetteData, Interaction, RecordedRequest, RecordedResponse,
    )

    path, name, count, go = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])

    def append(tag):
        def compose(current):
            time.sleep(0.002)  # widen the read-modify-write window
            mine = Interaction(
                RecordedRequest("GET", "https://api.humanloop.com/v4/sessions/" + tag),
                RecordedResponse(200, "OK", {"Content-Type": "application/json"},
                                 ('{"id": "%s"}' % tag).encode()),
            )
            return CassetteData([*(current.interactions if current else []), mine], "stand-in")
        return compose

    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.001)
    for n in range(count):
        assert store.update(path, append(f"{name}-{n}")) == "written"
    """
)


def interaction(tag: str) -> Interaction:
    return Interaction(
        RecordedRequest("GET", f"https://api.humanloop.com/v4/sessions/{tag}"),
        RecordedResponse(
            200, "OK", {"Content-Type": "application/json"}, f'{{"id": "{tag}"}}'.encode()
        ),
    )


def append(tag: str) -> store.Compose:
    def compose(current: CassetteData | None) -> CassetteData:
        time.sleep(0.002)  # widen the read-modify-write window
        return CassetteData(
            [*(current.interactions if current else []), interaction(tag)], "stand-in"
        )

    return compose


def uris(path: Path) -> list[str]:
    data = cassette_file.read(path)
    assert data is not None
    return [i.request.uri for i in data.interactions]


def test_threads_and_processes_all_keep_their_interaction(tmp_path: Path) -> None:
    path = tmp_path / "cassettes" / "shared.yaml"
    go = tmp_path / "go"
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER)
    processes = [
        subprocess.Popen(
            [sys.executable, str(worker), str(path), f"p{n}", str(PER_PROCESS), str(go)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    for process in processes:  # all imported and waiting, so they overlap with the threads
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n"

    results: list[str] = []
    errors: list[BaseException] = []

    def thread_main(name: str) -> None:
        try:
            for n in range(PER_THREAD):
                results.append(store.update(path, append(f"{name}-{n}")))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=thread_main, args=(f"t{n}",)) for n in range(THREADS)]
    go.touch()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for process in processes:
        assert process.wait(timeout=60) == 0
        assert process.stdout is not None
        process.stdout.close()

    assert errors == []
    assert results == ["written"] * (THREADS * PER_THREAD)
    expected = {
        f"https://api.humanloop.com/v4/sessions/{kind}{n}-{k}"
        for kind, count, each in (("t", THREADS, PER_THREAD), ("p", PROCESSES, PER_PROCESS))
        for n in range(count)
        for k in range(each)
    }
    found = uris(path)
    assert len(found) == len(expected) == THREADS * PER_THREAD + PROCESSES * PER_PROCESS
    assert set(found) == expected  # every save kept, none twice
    # Each saver's own interactions stay in its order.
    for name in [f"t{n}" for n in range(THREADS)] + [f"p{n}" for n in range(PROCESSES)]:
        mine = [u.rsplit("/", 1)[1] for u in found if u.rsplit("/", 1)[1].startswith(f"{name}-")]
        assert mine == [f"{name}-{k}" for k in range(len(mine))]
    # No lock or temporary file is left beside the cassette.
    assert [p.name for p in path.parent.iterdir()] == ["shared.yaml"]


HOLDER = textwrap.dedent(
    """
    import sys
    import filelock

    with filelock.FileLock(sys.argv[1]):
        print("locked", flush=True)
        sys.stdin.read()  # until the test closes our stdin
    """
)


def test_update_times_out_loudly_when_the_lock_is_held(tmp_path: Path) -> None:
    path = tmp_path / "cassettes" / "held.yaml"
    store.update(path, append("first"))
    before = path.read_bytes()
    holder_script = tmp_path / "holder.py"
    holder_script.write_text(HOLDER)
    holder = subprocess.Popen(
        [sys.executable, str(holder_script), str(store.lock_path_for(path))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdin is not None
    try:
        assert holder.stdout.readline() == "locked\n"
        called: list[CassetteData | None] = []

        def compose(current: CassetteData | None) -> CassetteData | None:
            called.append(current)
            return None

        started = time.monotonic()
        with pytest.raises(CassetteError) as info:
            store.update(path, compose, lock_timeout=0.2, hint="HINT: rerun me")
        waited = time.monotonic() - started
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
        holder.stdout.close()

    message = str(info.value)
    assert str(path) in message
    assert str(store.lock_path_for(path)) in message
    assert "0.2s" in message
    assert "NOT saved" in message
    assert "HINT: rerun me" in message
    assert info.value.path == path
    assert 0.2 <= waited < 5
    # The save was drafted before waiting for the lock (from the file as it was), and
    # nothing was written: a draft is written only under the lock.
    assert [c.interactions if c else None for c in called] == [
        cassette_file.loads(before, path).interactions
    ]
    assert path.read_bytes() == before
    # Once the holder is gone, the same update goes through (and tidies the lock file).
    assert store.update(path, append("second")) == "written"
    assert [u.rsplit("/", 1)[1] for u in uris(path)] == ["first", "second"]
    assert not store.lock_path_for(path).exists()


# -- what update does ------------------------------------------------------------


def test_update_results(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "c.yaml"
    assert store.update(path, lambda current: None) == "none"
    assert not path.exists()
    assert store.update(path, append("a")) == "written"
    assert store.update(path, lambda current: current) == "unchanged"
    assert store.update(path, append("b")) == "written"
    assert [u.rsplit("/", 1)[1] for u in uris(path)] == ["a", "b"]
    assert store.update(path, lambda current: None) == "removed"
    assert not path.exists()
    assert sorted(p.name for p in path.parent.iterdir()) == []


def test_recorded_at_kept_for_an_identical_rerecord_and_renewed_on_change(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.yaml"
    old = CassetteData([interaction("a")], "stand-in", "2020-02-03")
    store.write_atomic(path, cassette_file.dumps(old))
    before = path.read_bytes()

    # The same exchanges recorded again, as a fresh CassetteData (no recorded_at).
    same = CassetteData([interaction("a")], "stand-in")
    assert store.update(path, lambda current: same) == "unchanged"
    assert path.read_bytes() == before

    assert store.update(path, append("b")) == "written"
    data = cassette_file.read(path)
    assert data is not None
    assert data.recorded_at == store.today()
    assert data.recorded_at != "2020-02-03"
    text = path.read_text()
    assert (
        text.index("recorded_against:") < text.index("recorded_at:") < text.index("interactions:")
    )


def test_an_old_file_without_recorded_at_is_not_churned(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    store.write_atomic(path, cassette_file.dumps(CassetteData([interaction("a")], "stand-in")))
    before = path.read_bytes()
    assert b"recorded_at" not in before
    assert store.update(path, lambda current: CassetteData([interaction("a")], "stand-in")) == (
        "unchanged"
    )
    assert path.read_bytes() == before


def test_preserve_recorded_at() -> None:
    old = CassetteData([interaction("a")], "stand-in", "2020-02-03")
    assert store.preserve_recorded_at(
        CassetteData([interaction("a")], "stand-in"), old
    ).recorded_at == ("2020-02-03")
    changed = CassetteData([interaction("b")], "stand-in")
    assert store.preserve_recorded_at(changed, old, date="2030-01-01").recorded_at == "2030-01-01"
    other_target = CassetteData([interaction("a")], "api.humanloop.com")
    assert store.preserve_recorded_at(other_target, old).recorded_at == store.today()
    assert store.preserve_recorded_at(changed, None).recorded_at == store.today()


#: Interactions alike or not as written, alike or not as objects: bodies the same but for
#: JSON spacing, key order, 1/true/1.0, NaN; headers in another order, one value or a
#: list; no body or an empty one; schema violations none or empty; who recorded it.
_BODIES = [b'{"id":1}', b'{"id": 1}', b'{"id":true}', b'{"id":1.0}', b'{"b":1,"a":2}',
           b'{"a":2,"b":1}', b"[NaN]", b"text\nlines", b"", b"\xff"]  # fmt: skip
_HEADERS: list[Headers] = [{"A": "1", "B": "2"}, {"B": "2", "A": "1"}, {"A": ["1"], "B": "2"}, {}]


def _variant(rng: random.Random) -> Interaction:
    return Interaction(
        RecordedRequest(
            "GET", rng.choice(["https://h/v4/s", "https://h/v4/t"]), {}, rng.choice([None, b""])
        ),
        RecordedResponse(200, rng.choice(["OK", "Ok"]), rng.choice(_HEADERS), rng.choice(_BODIES)),
        rng.choice([None, [], ["a violation"]]),
        rng.choice([None, "t.py::a", "t.py::b"]),
    )


def _changed(rng: random.Random, i: Interaction) -> Interaction:
    """`i` as recorded again: the same, or one thing in it drawn afresh."""
    other = _variant(rng)
    field = rng.choice(["same", "body", "headers", "reason", "violations", "by", "request"])
    if field in ("body", "headers", "reason"):
        part: Any = getattr(other.response, field)
        return dataclasses.replace(i, response=dataclasses.replace(i.response, **{field: part}))
    if field == "violations":
        return dataclasses.replace(i, schema_violations=other.schema_violations)
    if field == "by":
        return dataclasses.replace(i, recorded_by=other.recorded_by)
    return dataclasses.replace(i, request=other.request) if field == "request" else i


def _cassette(rng: random.Random, interactions: list[Interaction]) -> CassetteData:
    return CassetteData(
        interactions,
        rng.choice(["stand-in", None]),
        "2020-01-01",
        rng.choice([{}, {"X": 1}, {"X": True}, {"X": float("nan")}]),
    )


def test_same_exchanges_is_what_comparing_the_written_cassettes_says() -> None:
    # `preserve_recorded_at` compares each pair of interactions, dumping only those not
    # equal as objects: the same verdict as dumping both cassettes whole.
    rng = random.Random(5)
    verdicts = []
    for _ in range(600):
        old = [_variant(rng) for _ in range(rng.randint(0, 3))]
        new = [_changed(rng, i) for i in old] + [_variant(rng) for _ in range(rng.random() < 0.1)]
        a = _cassette(rng, new)
        b = _cassette(rng, old) if rng.random() < 0.2 else dataclasses.replace(a, interactions=old)
        verdict = store.same_exchanges(a, b)
        assert verdict == (store._exchanges(a) == store._exchanges(b)), (a, b)
        verdicts.append(verdict)
    assert 100 < sum(verdicts) < 500  # both verdicts, many times


def test_a_corrupt_cassette_is_never_merged_into(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("format: hl-testkit-cassette/1\ninteractions: [\n")
    called: list[CassetteData | None] = []

    def compose(current: CassetteData | None) -> CassetteData:
        called.append(current)
        return CassetteData([interaction("a")])

    with pytest.raises(CassetteError, match="not valid YAML") as info:
        store.update(path, compose, hint="HINT: rewrite it")
    assert str(path) in str(info.value)
    assert "HINT: rewrite it" in str(info.value)
    assert called == []
    assert path.read_text() == "format: hl-testkit-cassette/1\ninteractions: [\n"

    # A full re-record (rewrite mode) may replace it: compose sees no current content.
    assert store.update(path, compose, overwrite_corrupt=True) == "written"
    assert called == [None]
    assert [u.rsplit("/", 1)[1] for u in uris(path)] == ["a"]


def test_a_failing_compose_changes_nothing_and_releases_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    store.update(path, append("a"))
    before = path.read_bytes()

    def boom(current: CassetteData | None) -> CassetteData:
        raise RuntimeError("compose failed")

    with pytest.raises(RuntimeError, match="compose failed"):
        store.update(path, boom)
    assert path.read_bytes() == before
    assert store.update(path, append("b"), lock_timeout=0.5) == "written"
    assert [p.name for p in tmp_path.iterdir()] == ["c.yaml"]


def test_before_write_sees_the_final_text_and_can_veto(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    store.update(path, append("a"))
    before = path.read_bytes()
    seen: list[str] = []

    def guard(text: str) -> None:
        seen.append(text)
        raise ValueError("secret in sight")

    with pytest.raises(ValueError, match="secret in sight"):
        store.update(path, append("b"), before_write=guard)
    assert path.read_bytes() == before
    assert "sessions/b" in seen[0]
    assert "recorded_at:" in seen[0]  # the text as it would be written, stamp included

    assert store.update(path, append("b"), before_write=seen.append) == "written"
    assert path.read_text() == seen[-1]
    # Not called when nothing is written.
    assert store.update(path, lambda current: current, before_write=guard) == "unchanged"
