"""The final save of a recording, in parts: where `Recording.finish`'s time goes.

    .venv/bin/python bench/bench_save.py [--quick] [--n 1000]

A real cassette of N interactions is recorded once (the `sessions` client against
the stand-in's answers, as bench_record.py does); then, in process, each part of
its save is timed on it, alternating, the median of the rounds:

  to_document   the document the YAML is the YAML of (written from it by PyYAML)
  events        the events `file.dumps` emits (straight from the interactions, or,
                in a checkout without `file._cassette_events`, of the document)
  emit          the C emitter writing them
  dumps         all three (`file.dumps`)
  find_leaks    the leak guard over the text (`scrub.find_leaks`)
  finish        `Recording.finish` of the N interactions into a new file
                (merge, dumps, leak guard, lock, atomic write, fsync)

`--before DIR` also times every part with another checkout's whole `hl_testkit`
(copied under another name, its imports renamed, and loaded beside this one),
rounds alternating, and prints the ratios, e.g. for the commit before a change:

    git archive <commit> hl_testkit | tar -x -C /tmp/before
    .venv/bin/python bench/bench_save.py --before /tmp/before

Each part starts after a `gc.collect()`, not in the garbage of the one before. `--cpu`
times the process's CPU rather than the wall clock: steadier when other work shares
the cores, but it leaves out what `finish` waits for fsync.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c
import bench_record


def recorded_cassette(n: int, tmp: Path) -> Path:
    """A cassette of `n` interactions recorded as bench_record.py records them."""
    from hl_testkit.standin import StandinServer

    with StandinServer(seed=c.bench_seed(n)) as standin:
        exchanges = c.fetch(standin, [c.target(k) for k in range(n)])
    server = c.OutOfProcessServer(exchanges, tmp)
    try:
        bench_record.record_round(server, n, tmp / "recorded", None)
    finally:
        server.stop()
    return tmp / "recorded" / "test_record.yaml"


def parts(path: Path, tmp: Path, kit: str) -> dict[str, Callable[[], object]]:
    """Each part of the save, as the package `kit` (hl_testkit, or a renamed copy) does it."""
    cassette_file = importlib.import_module(f"{kit}.cassettes.file")
    fast_yaml = cassette_file.fast_yaml
    scrub = importlib.import_module(f"{kit}.secrets.scrub")
    recording_class = importlib.import_module(f"{kit}.recording.recorder").Recording

    data = cassette_file.read(path)
    assert data is not None
    text = cassette_file.dumps(data)
    assert text == path.read_text(encoding="utf-8"), "the cassette is written as read"
    secrets = scrub.known_secrets(os.environ, extra={"HUMANLOOP_API_KEY": "hl_sk_bench_server"})
    options = {"allow_unicode": True, "width": 100}
    dumper = cassette_file._Dumper

    def make_events() -> list[Any]:
        if hasattr(cassette_file, "_cassette_events"):
            made = fast_yaml.Events(dumper, False, True)
            return list(made.made(lambda e: cassette_file._cassette_events(e, data)))
        return list(fast_yaml._Events(dumper, False, True).of(cassette_file.to_document(data)))

    made = make_events()
    rounds = iter(range(10**9))

    def events() -> object:
        with fast_yaml.collector_paused():
            return len(make_events())

    def finish() -> object:
        recording = recording_class(
            path=tmp / f"save-{kit}-{next(rounds)}" / "t.yaml",  # a new file each time
            record_mode="once",
            base_url=c.API,
            nodeid="bench_save.py::test",
            secrets=secrets,
        )
        recording.load()
        recording.recorded = list(data.interactions)
        return recording.finish(test_failed=False)

    return {
        "to_document": lambda: cassette_file.to_document(data),
        "events": events,
        "emit": lambda: fast_yaml._emit(made, dumper, dict(options)),
        "dumps": lambda: cassette_file.dumps(data),
        "find_leaks": lambda: scrub.find_leaks(text, secrets),
        "finish": finish,
    }


#: The name the other checkout's package is loaded under.
BEFORE = "hl_testkit_before"
#: `hl_testkit` as a module name in an import, `import_module` or a lazy import table.
_IMPORTED = re.compile(r"(?<=from )hl_testkit\b|(?<=import )hl_testkit\b|(?<=\")hl_testkit\.")


def kits(before: Path | None, tmp: Path) -> dict[str, str]:
    """The packages to time: this checkout's, and a copy of the one at `before` whose
    imports of `hl_testkit` name the copy (so each way runs its own code throughout)."""
    out = {"now": "hl_testkit"}
    if before is not None:
        copy = tmp / "kits" / BEFORE
        shutil.copytree(before / "hl_testkit", copy)
        for source in copy.rglob("*.py"):
            text = source.read_text(encoding="utf-8")
            source.write_text(_IMPORTED.sub(lambda m: BEFORE + m.group()[10:], text), "utf-8")
        sys.path.insert(0, str(copy.parent))
        out["before"] = BEFORE
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument(
        "--before", type=Path, help="another checkout (e.g. `git archive` of a commit) to compare"
    )
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="time the process's CPU, not the wall clock (steadier on a busy machine; "
        "leaves out the time fsync waits)",
    )
    args = parser.parse_args(argv)
    clock = time.process_time if args.cpu else time.perf_counter
    with tempfile.TemporaryDirectory(prefix="hl-bench-save-") as name:
        tmp = Path(name)
        path = recorded_cassette(args.n, tmp)
        compared = {way: parts(path, tmp, kit) for way, kit in kits(args.before, tmp).items()}
        timed = compared["now"]
        samples: dict[tuple[str, str], list[float]] = {(p, w): [] for p in timed for w in compared}
        for r in range(11 if args.quick else 31):
            order = list(compared.items())
            for way, works in order if r % 2 else order[::-1]:  # neither always first
                for part, work in works.items():
                    gc.collect()  # each part starts alike, not after another's garbage
                    t0 = clock()
                    work()
                    samples[part, way].append((clock() - t0) * 1e3)
    for part in timed:
        medians = {way: statistics.median(samples[part, way]) for way in compared}
        cells = "  ".join(f"{way} {ms:7.1f} ms" for way, ms in medians.items())
        ratio = f"  now/before {medians['now'] / medians['before']:.2f}" if args.before else ""
        print(f"{part:12} {cells}{ratio}")
    rounds = len(samples[next(iter(samples))])
    print(f"(medians of {rounds} rounds, alternating, {'CPU' if args.cpu else 'wall'} time)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
