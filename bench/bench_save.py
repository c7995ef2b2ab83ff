"""The final save of a recording, in parts: where `Recording.finish`'s time goes.

    .venv/bin/python bench/bench_save.py [--quick] [--n 1000]

A real cassette of N interactions is recorded once (the `sessions` client against
the stand-in's answers, as bench_record.py does); then, in process, each part of
its save is timed on it, alternating, the median of the rounds:

  to_document   the document the YAML is written from
  events        fast_yaml's events of that document
  emit          the C emitter writing them
  dumps         all three (`file.dumps`)
  find_leaks    the leak guard over the text (`scrub.find_leaks`)
  finish        `Recording.finish` of the N interactions into a new file
                (merge, dumps, leak guard, lock, atomic write, fsync)

Run it on two checkouts (PYTHONPATH=<other checkout>) one after the other to
compare a change: the ratios of the parts tell where it went.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

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


def parts(path: Path, tmp: Path) -> dict[str, Callable[[], object]]:
    from hl_testkit.cassettes import fast_yaml
    from hl_testkit.cassettes import file as cassette_file
    from hl_testkit.recording.recorder import Recording
    from hl_testkit.secrets import scrub

    data = cassette_file.read(path)
    assert data is not None
    text = cassette_file.dumps(data)
    assert text == path.read_text(encoding="utf-8"), "the cassette is written as read"
    secrets = scrub.known_secrets(os.environ, extra={"HUMANLOOP_API_KEY": "hl_sk_bench_server"})
    document = cassette_file.to_document(data)
    options = {"allow_unicode": True, "width": 100}

    def events() -> object:
        with fast_yaml.collector_paused():
            return len(fast_yaml._Events(cassette_file._Dumper, False, True).of(document))

    made = fast_yaml._Events(cassette_file._Dumper, False, True).of(document)
    rounds = iter(range(10**9))

    def finish() -> object:
        recording = Recording(
            path=tmp / f"save-{next(rounds)}" / "t.yaml",
            record_mode="once",
            base_url=c.API,
            nodeid="bench_save.py::test",
            secrets=secrets,
        )
        recording.load()
        recording.recorded = [i for i in data.interactions]
        return recording.finish(test_failed=False)

    return {
        "to_document": lambda: cassette_file.to_document(data),
        "events": events,
        "emit": lambda: fast_yaml._emit(made, cassette_file._Dumper, dict(options)),
        "dumps": lambda: cassette_file.dumps(data),
        "find_leaks": lambda: scrub.find_leaks(text, secrets),
        "finish": finish,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hl-bench-save-") as name:
        tmp = Path(name)
        timed = parts(recorded_cassette(args.n, tmp), tmp)
        samples: dict[str, list[float]] = {part: [] for part in timed}
        for _ in range(5 if args.quick else 11):
            for part, work in timed.items():
                t0 = time.perf_counter()
                work()
                samples[part].append((time.perf_counter() - t0) * 1e3)
    for part, values in samples.items():
        print(f"{part:12} {statistics.median(values):8.1f} ms  (median of {len(values)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
