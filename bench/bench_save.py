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

`--before DIR` also times the save with another checkout's `fast_yaml` and
`file.body_to_yaml` (the rest is this one's), rounds alternating, and prints the
ratios, e.g. for the commit before a change:

    git archive <commit> hl_testkit | tar -x -C /tmp/before
    .venv/bin/python bench/bench_save.py --before /tmp/before
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
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


def parts(path: Path, tmp: Path) -> dict[str, Callable[[Any], object]]:
    """Each part of the save, given the fast_yaml module to run it with."""
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
    dumper = cassette_file._Dumper
    made = cassette_file.fast_yaml._Events(dumper, False, True).of(document)
    rounds = iter(range(10**9))

    def events(fast_yaml: Any) -> object:
        with fast_yaml.collector_paused():
            return len(fast_yaml._Events(dumper, False, True).of(document))

    def finish(_: Any) -> object:
        recording = Recording(
            path=tmp / f"save-{next(rounds)}" / "t.yaml",
            record_mode="once",
            base_url=c.API,
            nodeid="bench_save.py::test",
            secrets=secrets,
        )
        recording.load()
        recording.recorded = list(data.interactions)
        return recording.finish(test_failed=False)

    return {
        "to_document": lambda _: cassette_file.to_document(data),
        "events": events,
        "emit": lambda fast_yaml: fast_yaml._emit(made, dumper, dict(options)),
        "dumps": lambda _: cassette_file.dumps(data),
        "find_leaks": lambda _: scrub.find_leaks(text, secrets),
        "finish": finish,
    }


def ways(before: Path | None) -> dict[str, tuple[Any, Any]]:
    """(fast_yaml, body_to_yaml) of this checkout, and of the one at `before`: its
    modules loaded beside these, under other names (both are self-contained enough)."""
    from hl_testkit.cassettes import file as cassette_file

    out = {"now": (cassette_file.fast_yaml, cassette_file.body_to_yaml)}
    if before is not None:
        where = before / "hl_testkit" / "cassettes"
        fast_yaml = _module("before_fast_yaml", where / "fast_yaml.py")
        out["before"] = (fast_yaml, _module("before_file", where / "file.py").body_to_yaml)
    return out


def _module(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def using(way: tuple[Any, Any]) -> Iterator[None]:
    """`file.dumps` (and so `Recording.finish`) run with this way's modules."""
    from hl_testkit.cassettes import file as cassette_file

    saved = cassette_file.fast_yaml, cassette_file.body_to_yaml
    cassette_file.fast_yaml, cassette_file.body_to_yaml = way
    try:
        yield
    finally:
        cassette_file.fast_yaml, cassette_file.body_to_yaml = saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument(
        "--before", type=Path, help="another checkout (e.g. `git archive` of a commit) to compare"
    )
    args = parser.parse_args(argv)
    compared = ways(args.before)
    with tempfile.TemporaryDirectory(prefix="hl-bench-save-") as name:
        tmp = Path(name)
        timed = parts(recorded_cassette(args.n, tmp), tmp)
        samples: dict[tuple[str, str], list[float]] = {(p, w): [] for p in timed for w in compared}
        for r in range(11 if args.quick else 31):
            order = list(compared.items())
            for way, modules in order if r % 2 else order[::-1]:  # neither always first
                with using(modules):
                    for part, work in timed.items():
                        t0 = time.perf_counter()
                        work(modules[0])
                        samples[part, way].append((time.perf_counter() - t0) * 1e3)
    for part in timed:
        medians = {way: statistics.median(samples[part, way]) for way in compared}
        cells = "  ".join(f"{way} {ms:7.1f} ms" for way, ms in medians.items())
        ratio = f"  now/before {medians['now'] / medians['before']:.2f}" if args.before else ""
        print(f"{part:12} {cells}{ratio}")
    rounds = len(samples[next(iter(samples))])
    print(f"(medians of {rounds} rounds, alternating)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
