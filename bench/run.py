"""Run every hl-testkit benchmark and print every figure (a few minutes on 2 cores).

    pip install -e '.[bench]'          # responses, pytest-recording (and the rest)
    python bench/run.py                # all of it
    python bench/run.py --quick        # shorter sampling, for a smoke test
    python bench/run.py --write-docs   # also write docs/benchmarks.md

One script per topic, each runnable alone:

    bench/bench_validation.py   schema validation per body (hot path vs jsonschema)
    bench/bench_replay.py       replay per request against its fair floors, vcrpy, stand-in
    bench/bench_first_request.py  the first request of a fresh process, apart
    bench/bench_record.py       recording vs plain requests to an out-of-process server;
                                the lock held while saving
    bench/bench_suite.py        a generated 200-test suite under three tools, and import cost
    bench/bench_instructions.py  instructions per request under valgrind, for the ratio
                                targets the clock leaves WITHIN NOISE

and one that run.py leaves out, to see where a figure's time goes:

    bench/bench_save.py         the final save of a recording, in parts

Figures are medians with their 25th-75th percentile range; every ratio
compares two figures measured in the same run.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent / "docs" / "benchmarks.md"
TOPICS = (
    "bench_validation",
    "bench_replay",
    "bench_first_request",
    "bench_record",
    "bench_suite",
    "bench_instructions",
)


def import_cost(runs: int = 7) -> dict[str, Any]:
    """`python -X importtime -c "import pytest; import hl_testkit.plugin"`, the plugin's share."""
    env = c.clean_env()
    code = "import pytest; import hl_testkit.plugin"
    subprocess.run([c.python(), "-c", code], env=env, check=True)  # write the bytecode caches
    totals: list[float] = []
    packages: dict[str, list[float]] = {}
    for _ in range(runs):
        done = subprocess.run(
            [c.python(), "-X", "importtime", "-c", code],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        rows: list[tuple[int, str]] = []  # (own microseconds, module)
        for line in done.stderr.splitlines():
            if line.startswith("import time:") and "|" in line:
                own_text, _, module = line.split(":", 1)[1].split("|")
                if own_text.strip().isdigit():
                    rows.append((int(own_text), module.rstrip()))
        start = next(i for i, (_, module) in enumerate(rows) if module.strip() == "pytest") + 1
        after = rows[start:]  # what the plugin pulled in (pytest itself was there already)
        totals.append(sum(own for own, _ in after) / 1000)
        run_packages: dict[str, float] = {}
        for own, module in after:
            package = module.strip().split(".")[0]
            run_packages[package] = run_packages.get(package, 0.0) + own / 1000
        for package, ms in run_packages.items():
            packages.setdefault(package, []).append(ms)
    biggest = sorted(packages.items(), key=lambda kv: -statistics.median(kv[1]))[:10]
    total = statistics.median(totals)
    rows_out = [["all (plugin import, pytest already loaded)", f"{total:.1f} ms"]]
    rows_out += [[package, f"{statistics.median(ms):.1f} ms"] for package, ms in biggest]
    return {
        "title": "Plugin import: `python -X importtime -c "
        '"import pytest; import hl_testkit.plugin"`',
        "table": c.table(["imported package (self times summed)", "median"], rows_out),
        "notes": [
            "vcrpy, requests, jsonschema, referencing, jsonschema-rs, the stand-in and the "
            "scenario machinery are not imported at plugin import: they load with the first "
            "test (or scenario file) that needs them; the HTTP clients vcrpy patches (aiohttp, "
            "httpx, ...) only when a test imports them.",
        ],
        "data": {"total_ms": total, "packages": {k: statistics.median(v) for k, v in biggest}},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter sampling")
    parser.add_argument(
        "--write-docs", action="store_true", help=f"write the results to {DOCS.name}"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    sections: list[dict[str, Any]] = []
    for topic in TOPICS:
        module = importlib.import_module(topic)
        print(f"running {topic} ...", file=sys.stderr)
        section = module.run(quick=args.quick)
        print(c.show(section), flush=True)
        sections.append(section)
    section = import_cost()
    print(c.show(section), flush=True)
    sections.append(section)
    elapsed = time.perf_counter() - started

    summary = target_lines(sections)
    print("## Targets\n")
    print("\n".join(summary))
    print(f"\n(all benchmarks: {elapsed:.0f} s)")
    if args.write_docs:
        write_docs(sections, summary, elapsed, args.quick)
        print(f"wrote {DOCS}")
    return 0


def target_lines(sections: list[dict[str, Any]]) -> list[str]:
    """Each section's targets, a line each. One the clock leaves WITHIN NOISE takes the
    instruction count's verdict on it, when a section counted one (its `decides`)."""
    counted: dict[str, tuple[bool, str]] = {}
    for section in sections:
        counted.update(section.get("decides", {}))
    lines = []
    for section in sections:
        for name, ok, detail in section.get("targets", []):
            if ok is None and name in counted:
                by, how = counted[name]
                lines.append(
                    f"- {c.VERDICTS[by]} in instructions, WITHIN NOISE on the clock: {name} "
                    f"(instructions: {how}; clock: {detail})"
                )
            else:
                lines.append(f"- {c.VERDICTS[ok]}: {name} ({detail})")
    return lines


def load_average() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except (AttributeError, OSError):  # not on every platform
        return "unknown"


def write_docs(
    sections: list[dict[str, Any]], summary: list[str], elapsed: float, quick: bool
) -> None:
    machine = c.machine()
    lines = [
        "# Benchmarks",
        "",
        "How fast hl-testkit records, replays and checks, next to the tools it replaces.",
        "Written by `python bench/run.py --write-docs`"
        + (" (`--quick`)" if quick else "")
        + f"; the whole run took {elapsed:.0f} s. Reproduce on a fresh clone, in a virtual",
        "environment (or `make bench`):",
        "",
        "```sh",
        "pip install -e '.[bench]'",
        "python bench/run.py  # prints every figure; one script per topic in bench/",
        "```",
        "",
        "Every figure is a median with its 25th-75th percentile range in brackets; every",
        "ratio compares two medians measured in the same run (the machine is noisy: compare",
        "ratios, not absolute times across runs). A target on a ratio is judged round by",
        "round, and may be WITHIN NOISE; valgrind's instruction counts then decide it: see",
        "'Verdicts on ratios' and 'Instructions' at the end.",
        "",
        "## Machine",
        "",
        f"- {machine['nproc']} cores (nproc); CPU: {machine['cpu']}",
        f"- {machine['python']} on {machine['platform']}",
        f"- load average (1, 5, 15 min) as the run ended: {load_average()}",
        "- " + ", ".join(f"{name} {version}" for name, version in list(machine.items())[4:]),
        "",
        "## Targets",
        "",
        *summary,
        "",
    ]
    for section in sections:
        lines.append(c.show(section))
    lines += [METHOD, ""]
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text("\n".join(lines), encoding="utf-8")


METHOD = """## How it is measured, and why these floors

- **Verdicts on ratios** (replay, recording, suite): each round measures a tool and its
  floor side by side, so the machine's drift within a run (it moved the same recording
  code from 1.28x to 1.47x between two runs) touches both. The target is judged on each
  round's ratio: their median, and the distribution-free interval around it (order
  statistics covering the true median at least 90% of the time). **MET** when the whole
  interval is at or under the target, **NOT MET** when it is wholly above, **WITHIN
  NOISE** when it holds the target: this run cannot tell, whichever side its median is
  on. The tables' ratios are of the two medians, as before.
- **Instructions** (`bench/bench_instructions.py`): the ratio targets again, counted in
  instructions executed (valgrind's cachegrind, `I refs`), which this machine's load does
  not move: the same process counted twice differs by about 0.01%
  (`tests/test_bench_instructions.py` checks it). A figure is the difference between a
  process that does the measured work and one that does the same setup and warm-up and
  stops before it, over the requests made (`PYTHONHASHSEED=0` in both). Recording counts
  the client process and, apart, the server's (both wall times wait for the server's
  work); the client's own ratio is shown too. The kernel (system calls, loopback TCP) is
  left out on both sides, which makes a ratio larger, not smaller. **The rule:** a target
  the clock finds MET or NOT MET stands; one WITHIN NOISE takes the instruction count's
  verdict, since that is the run's only measure that can tell.
- **Replay** (`bench/bench_replay.py`): one cassette of N distinct requests (4 of 5 are
  `GET /sessions/{id}`, 1 of 5 a list page), answered once by the stand-in and frozen. Each
  tool answers exactly those requests with exactly those bytes, through the same
  `SessionsClient` (requests underneath). Batches of about 20 ms of requests (sized once
  each path is warm; a cassette is rewound, timed, each time its N requests have all been
  played), the tools taken in turn (round-robin), loading the cassette not included (shown
  apart). Each hl-testkit path is compared with its own floor:
  - `sessions` (the fixture's client in replay: `trust_env` off, answered by requests'
    `HTTPAdapter.send` from the recording's index in direct replay, as every requests
    client is) against **the dict adapter**: the same client with `trust_env` off and a
    requests transport adapter that answers from a dict by URL. No replay through requests
    can do less (one dict lookup, one `Response` built, requests' own session machinery),
    so this ratio is what hl-testkit's matching, bookkeeping, scrubbing and urllib3's
    response (which a test's own clients see as through vcrpy) cost on top of the floor.
  - `hl_cassette + requests` (a client the test makes itself, `trust_env` on, answered by
    requests' `HTTPAdapter.send` from the recording's index in direct replay; `via vcrpy`:
    the same through vcrpy's stubs, as before) against **`responses` with one regex
    registration** whose callback answers from a dict (`trust_env` on too). `responses`
    with one registration per URL, as measured before, scans its whole list on every call
    (O(N) by itself), which flattered hl-testkit at large N.
  - plain vcrpy (`vcr.use_cassette`, its own YAML, default matchers) and the stand-in over
    loopback are shown for scale.
- **First request** (`bench/bench_first_request.py`): fresh processes that set up what the
  fixtures set up in replay, then time the first request and the median of 200 more; what
  the first costs beyond the steady state is what loads lazily with it. Setup (imports,
  load, activation) is shown apart: it happens in the fixtures, once per process or test.
- **Recording** (`bench/bench_record.py`): N = 1,000 distinct requests from plain requests
  and from hl-testkit (record mode `once`, new cassette), rounds alternating, to **an
  HTTP/1.1 keep-alive server in another process with TCP_NODELAY** that answers the
  stand-in's bytes from a dict: an in-process server shares the interpreter lock with the
  client (flattering the ratio), and one connection per request or Nagle's delay would
  hide the recorder's cost in the network's. hl-testkit's figure includes the final
  `Recording.finish` (YAML, leak guard, lock, atomic write, fsync) divided by N. The lock
  held while saving 2,000 interactions is measured by timing `store`'s lock, the way it
  is saved now and with every step under the lock (the previous way), alternating.
- **Final save, in parts** (`bench/bench_save.py`, not run by `bench/run.py`): a cassette
  of N = 1,000 interactions recorded as above, then in process, rounds alternating, the
  median time of each part of its save: the document, fast_yaml's events, the C emitter,
  `file.dumps` (all three), the leak guard (`scrub.find_leaks`) and the whole
  `Recording.finish`. It says where the recording's 'final save' goes.
- **Validation** (`bench/bench_validation.py`): `SchemaSet.check`, what runs on every
  recorded or replayed response: jsonschema-rs's compiled yes/no, then jsonschema's full
  report for an invalid body only. Both are given the profile's own `date-time` check (the
  default profile's: any ISO 8601 date-time the official SDK reads; the compiled schema
  answers common RFC 3339 ones by a pattern first, and has its plain `$ref`s inlined); tests
  (`tests/test_fast_validation.py`) prove the yes/no agrees with jsonschema's report over a
  corpus of valid and broken bodies and 20,000 fuzzed date-times.
- **Suite** (`bench/bench_suite.py`): three generated projects, 200 tests of 3 requests each,
  the same test bodies; wall time of whole `pytest -q` subprocesses, serial (`-p no:xdist`)
  and `-n 2`, after one warm-up run each, runs interleaved. Each tool runs as in a project
  where only it is installed: plugin autoloading off (`PYTEST_DISABLE_PLUGIN_AUTOLOAD=1`),
  its own plugin and xdist's loaded by name (`-p hl_testkit.plugin`,
  `-p pytest_recording.plugin`, `-p xdist.plugin`); the `-n 2` runs of hl-testkit and
  pytest-recording are also shown with every plugin of this repository's venv autoloaded
  (schemathesis, hypothesis, anyio), as measured before. Bytecode caches are on for every
  tool (installed packages ship theirs; `PYTHONDONTWRITEBYTECODE` is dropped for these runs).
"""


if __name__ == "__main__":
    raise SystemExit(main())
