"""The first request of a process, apart from the steady state.

    .venv/bin/python bench/bench_first_request.py [--quick] [--runs 9]

Each run is a fresh Python process that sets up what the fixtures set up in
replay (a cassette of 50 requests loaded, the cassette activated, the client
made), then times its first request and then 200 more. What the first costs
beyond the steady state is what loads lazily with it (modules, caches, the
scrubbing context). Two paths, each in its own processes:

  sessions                the `sessions` fixture's client (trust_env off)
  hl_cassette + requests  a client the test made itself (trust_env on)

Both are answered by requests' HTTPAdapter.send from the index
(hl_testkit.recording.requests_replay).

Setup (load and activation, vcrpy's import among them) happens in the
fixtures, before the test's first request: shown apart.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

PATHS = ("sessions", "hl_cassette + requests")

CHILD = r"""
import json, os, sys, time
t0 = time.perf_counter()
from hl_testkit.secrets import scrub
from hl_testkit.recording.recorder import Recording, activated
from hl_testkit.recording.target import REPLAY_API_KEY
sys.path.insert(0, sys.argv[3])
import _common as c

direct = sys.argv[2] == "sessions"
secrets = scrub.known_secrets(os.environ, extra={"HUMANLOOP_API_KEY": REPLAY_API_KEY})
recording = Recording(path=__import__("pathlib").Path(sys.argv[1]), record_mode="none",
                      base_url=c.API, nodeid="b.py::t", api_key=REPLAY_API_KEY, secrets=secrets)
recording.load()
with activated(recording, {}):
    from hl_testkit.client import SessionsClient
    client = SessionsClient(REPLAY_API_KEY, base_url=c.API)
    if direct:
        client.http.trust_env = False
    calls = [c.call(client, k) for k in range(50)]
    t1 = time.perf_counter()
    calls[0]()
    t2 = time.perf_counter()
    steady = []
    for k in range(200):
        if k % 49 == 0:
            recording._next.clear()
        s = time.perf_counter()
        calls[1 + k % 49]()
        steady.append(time.perf_counter() - s)
print(json.dumps({"setup": t1 - t0, "first": t2 - t1, "steady": sorted(steady)[100]}))
"""


def run(quick: bool = False, runs: int | None = None) -> dict[str, Any]:
    from hl_testkit.standin import StandinServer

    runs = runs or (5 if quick else 11)
    with tempfile.TemporaryDirectory(prefix="hl-bench-first-") as tmp:
        with StandinServer(seed=c.bench_seed(50)) as server:
            exchanges = c.fetch(server, [c.target(k) for k in range(50)])
        path = Path(tmp) / "c.yaml"
        path.write_text(c.hl_cassette_text(exchanges), encoding="utf-8")
        here = str(Path(__file__).resolve().parent)
        got: dict[str, list[dict[str, float]]] = {p: [] for p in PATHS}
        for _ in range(runs + 1):  # the first round writes bytecode caches: dropped
            for name in PATHS:  # interleaved
                done = subprocess.run(
                    [c.python(), "-c", CHILD, str(path), name, here],
                    env=c.clean_env(),
                    capture_output=True,
                    text=True,
                    check=True,
                )
                got[name].append(json.loads(done.stdout))
    return report({name: samples[1:] for name, samples in got.items()})


def report(got: dict[str, list[dict[str, float]]]) -> dict[str, Any]:
    def med(name: str, what: str) -> float:
        return statistics.median(s[what] for s in got[name]) * 1e3

    def extra(name: str) -> float:
        return statistics.median((s["first"] - s["steady"]) for s in got[name]) * 1e3

    rows = [
        [
            name,
            f"{med(name, 'first'):.2f} ms",
            f"{med(name, 'steady') * 1e3:.0f} µs",
            f"{extra(name):.2f} ms",
            f"{med(name, 'setup'):.0f} ms",
        ]
        for name in PATHS
    ]
    worst = max(extra(name) for name in PATHS)
    return {
        "title": "First request of a process",
        "table": c.table(
            [
                "path",
                "first request",
                "steady request",
                "first - steady",
                "setup before it (imports, load, activate)",
            ],
            rows,
        ),
        "targets": [
            (
                "the first request of a process costs ≤ 5 ms (beyond the steady state)",
                worst <= 5.0,
                f"worst {worst:.2f} ms",
            )
        ],
        "notes": [f"medians over {len(got[PATHS[0]])} fresh processes per path, interleaved"],
        "data": {name: got[name] for name in PATHS},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer processes")
    parser.add_argument("--runs", type=int, default=None)
    args = parser.parse_args(argv)
    print(c.show(run(args.quick, args.runs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
