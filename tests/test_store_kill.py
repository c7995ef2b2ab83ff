"""A writer SIGKILLed at any moment leaves the old cassette or the new one, never a mix.

Also: leftovers of killed writers (`*.hl-tmp`, `*.yaml.lock`) are never taken
for cassettes and are cleaned up; and `write_atomic` keeps a file's permissions.
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import filelock
import pytest

from hl_testkit.cassettes import file as cassette_file
from hl_testkit.cassettes import store
from hl_testkit.cassettes.model import CassetteData, Interaction, RecordedRequest, RecordedResponse

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")

KILLS = 30

SAVER = textwrap.dedent(
    """
    import sys
    import time
    from pathlib import Path

    from hl_testkit.cassettes.store import write_atomic

    target = Path(sys.argv[1])
    contents = [Path(sys.argv[2]).read_bytes(), Path(sys.argv[3]).read_bytes()]
    # Saves back to back until killed: A, B, A, B, ... starting with the one not there.
    n = 1 if target.read_bytes() == contents[0] else 0
    print("ready", flush=True)
    while True:
        start = time.perf_counter()
        write_atomic(target, contents[n % 2])
        print(f"saved {time.perf_counter() - start:.6f}", flush=True)
        n += 1
    """
)


def big_cassette(letter: str, lines: int) -> bytes:
    """A valid cassette of several MB: one response whose text body is `lines` lines."""
    body = "\n".join(f"line {n:07d} {letter * 40}" for n in range(lines)).encode()
    data = CassetteData(
        [
            Interaction(
                RecordedRequest("GET", f"https://api.humanloop.com/v4/sessions/sesh_{letter}"),
                RecordedResponse(200, "OK", {"Content-Type": "text/plain"}, body),
            )
        ],
        "stand-in",
        "2024-01-01",
    )
    return cassette_file.dumps(data).encode("utf-8")


def test_sigkill_at_any_moment_leaves_a_or_b(tmp_path: Path) -> None:
    directory = tmp_path / "cassettes"
    directory.mkdir()
    target = directory / "big.yaml"
    a, b = big_cassette("A", 70_000), big_cassette("B", 90_000)  # ~4.3 MB and ~5.5 MB
    assert len(a) > 4_000_000
    assert len(b) > 5_000_000
    for content in (a, b):  # both are real cassettes
        assert len(cassette_file.loads(content, target).interactions) == 1
    (tmp_path / "a.yaml.src").write_bytes(a)
    (tmp_path / "b.yaml.src").write_bytes(b)
    saver = tmp_path / "saver.py"
    saver.write_text(SAVER)

    # How long one save takes here, so the kills spread over several saves.
    scratch = tmp_path / "scratch" / "x.yaml"
    durations = []
    for content in (a, b, a, b, a):
        start = time.perf_counter()
        store.write_atomic(scratch, content)
        durations.append(time.perf_counter() - start)
    save = statistics.median(durations)

    store.write_atomic(target, a)
    rng = random.Random(20240101)
    delays: list[float] = []
    child_saves: list[float] = []
    mid_write = after_a_save = 0
    leftovers: set[Path] = set()
    started = time.monotonic()
    for kill in range(KILLS):
        process = subprocess.Popen(
            [
                sys.executable,
                str(saver),
                str(target),
                str(tmp_path / "a.yaml.src"),
                str(tmp_path / "b.yaml.src"),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n"
        reports = []
        if kill % 2:  # every other kill once a save has completed, not in the first one
            reports.append(process.stdout.readline())
        delay = rng.uniform(0.0, 1.5 * save)
        delays.append(delay)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL
        reports += process.stdout.read().splitlines()  # what it wrote before dying
        process.stdout.close()
        assert all(r.startswith("saved ") for r in reports)
        child_saves += [float(r.split()[1]) for r in reports]
        after_a_save += bool(reports)

        intact = target.read_bytes() in (a, b)  # (not asserted inline: pytest would print MBs)
        assert intact, f"kill {kill}, {delay * 1000:.1f} ms in, after {len(reports)} saves: a mix"
        temps = set(directory.glob(f"*{store.TEMP_SUFFIX}"))
        mid_write += bool(temps - leftovers)  # this kill left a write half done
        leftovers |= temps
        # Leftovers are hidden and do not end in .yaml: no cassette scan picks them up.
        assert sorted(directory.glob("*.yaml")) == [target]
        assert all(t.name.startswith(".big.yaml.") for t in temps)
    elapsed = time.monotonic() - started

    print(
        f"\nkill test: {KILLS} kills in {elapsed:.1f}s; a save of {len(a) / 1e6:.1f}-"
        f"{len(b) / 1e6:.1f} MB took {save * 1000:.1f} ms here, "
        f"{statistics.median(child_saves) * 1000:.1f} ms (median of {len(child_saves)}) in the "
        f"savers; kill delays {min(delays) * 1000:.1f}-{max(delays) * 1000:.1f} ms; "
        f"{mid_write} kills left a half-done write behind; {after_a_save} came after at least "
        "one completed save"
    )
    assert len({round(d, 5) for d in delays}) >= 20  # at least 20 different moments
    # The kills did land inside saves (else this test would prove nothing)...
    assert mid_write >= KILLS // 3
    # ... in the first save of a process and in later ones.
    assert after_a_save >= KILLS // 2
    # What they left is swept away, and only that.
    assert leftovers
    assert set(store.cleanup_temp_files(directory, max_age=0)) == leftovers
    assert list(directory.iterdir()) == [target]
    intact = target.read_bytes() in (a, b)
    assert intact


def test_cleanup_removes_only_old_leftovers(tmp_path: Path) -> None:
    directory = tmp_path / "cassettes"
    (directory / "tests").mkdir(parents=True)
    cassette = directory / "tests" / "c.yaml"
    cassette.write_text("not even checked\n")
    old_tmp = directory / "tests" / f".c.yaml.0a1b2c{store.TEMP_SUFFIX}"
    young_tmp = directory / "tests" / f".c.yaml.3d4e5f{store.TEMP_SUFFIX}"
    stale_lock = store.lock_path_for(cassette)
    held_cassette = directory / "held.yaml"
    held_lock = store.lock_path_for(held_cassette)
    for leftover in (old_tmp, young_tmp, stale_lock, held_lock):
        leftover.write_text("")
    an_hour_ago = time.time() - 3600
    for leftover in (old_tmp, stale_lock, held_lock):
        os.utime(leftover, (an_hour_ago, an_hour_ago))

    holder = filelock.FileLock(held_lock)
    with holder:
        removed = store.cleanup_temp_files(directory)

    assert sorted(removed) == sorted([old_tmp, stale_lock])
    assert not old_tmp.exists()
    assert not stale_lock.exists()
    assert young_tmp.exists()  # may be a write in progress
    assert held_lock.exists()  # its lock is held: removing it would break the lock
    assert cassette.read_text() == "not even checked\n"
    assert store.cleanup_temp_files(tmp_path / "missing") == []


def test_write_atomic_keeps_permissions_and_follows_umask(tmp_path: Path) -> None:
    existing = tmp_path / "existing.yaml"
    existing.write_text("old\n")
    existing.chmod(0o640)
    store.write_atomic(existing, "new\n")
    assert existing.read_text() == "new\n"
    assert existing.stat().st_mode & 0o777 == 0o640

    umask = os.umask(0o022)
    try:
        fresh = tmp_path / "sub" / "fresh.yaml"
        store.write_atomic(fresh, b"bytes\n")
    finally:
        os.umask(umask)
    assert fresh.read_bytes() == b"bytes\n"
    assert fresh.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["existing.yaml", "fresh.yaml", "sub"]


def test_failed_write_leaves_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("old\n")

    def no_replace(src: object, dst: object) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", no_replace)
    with pytest.raises(OSError, match="disk on fire"):
        store.write_atomic(path, "new\n")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["c.yaml"]
