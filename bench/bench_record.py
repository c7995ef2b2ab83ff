"""Recording cost per request: hl-testkit vs plain `requests` to the same stand-in.

    .venv/bin/python bench/bench_record.py [--quick] [--n 1000]

N distinct requests (session gets and list pages) to the stand-in server on
loopback, from the same `SessionsClient`:

  plain requests   no recorder at all: the floor
  hl-testkit       what the `hl_cassette` + `sessions` fixtures do in record mode
                   `once` on a new cassette, minus pytest: vcrpy's stubs, our
                   cassette (scrubbing each exchange as it is recorded), and the
                   final `Recording.finish`: lock, merge, YAML dump, leak guard,
                   atomic write and fsync -- all of it counted, divided by N.

Rounds alternate between the two (a fresh cassette each round); the figure
is the median per request over the rounds, with the 25th-75th percentile range.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c


def run(quick: bool = False, n: int = 1000) -> dict[str, Any]:
    from hl_testkit.client import SessionsClient
    from hl_testkit.recording.recorder import Recording, activated
    from hl_testkit.secrets import scrub
    from hl_testkit.standin import StandinServer

    rounds = 5 if quick else 11
    plain, hl = c.Stat(), c.Stat()
    save = c.Stat()
    written = 0
    with tempfile.TemporaryDirectory(prefix="hl-bench-record-") as tmp:
        server = StandinServer(seed=c.bench_seed(n)).start()
        try:
            client = SessionsClient(server.api_key, base_url=server.base_url)
            calls = [c.call(client, k) for k in range(n)]
            for call in calls[: min(n, 50)]:  # warm up the server and the connection
                call()
            for r in range(rounds):
                t0 = time.perf_counter()
                for call in calls:
                    call()
                plain.samples.append((time.perf_counter() - t0) / n * 1e6)

                path = Path(tmp) / f"round{r}" / "test_record.yaml"
                recording = Recording(
                    path=path,
                    record_mode="once",
                    base_url=server.base_url,
                    nodeid="bench_record.py::test_record",
                    api_key=server.api_key,
                    recorded_against="stand-in",
                    secrets=scrub.known_secrets(
                        os.environ, extra={"HUMANLOOP_API_KEY": server.api_key}
                    ),
                )
                t0 = time.perf_counter()
                recording.load()
                with activated(recording, {}):
                    for call in calls:
                        call()
                t1 = time.perf_counter()
                result = recording.finish(test_failed=False)
                t2 = time.perf_counter()
                if result.action != "written" or result.interactions != n:
                    raise RuntimeError(f"recording did not save {n} interactions: {result}")
                written = path.stat().st_size
                hl.samples.append((t2 - t0) / n * 1e6)
                save.samples.append((t2 - t1) * 1e3)
            client.close()
        finally:
            server.stop()
    rows = [
        ["plain requests", c.cell(plain), "1.00x"],
        ["hl-testkit (record + save)", c.cell(hl), c.ratio(hl, plain)],
    ]
    slower = hl.median / plain.median
    return {
        "title": f"Recording, per request (N = {n:,}, stand-in on loopback)",
        "table": c.table(["client", "per request", "÷ plain requests"], rows),
        "targets": [
            (
                f"recording at N={n:,} ≤ 1.3x plain requests to the same server",
                slower <= 1.3,
                f"{slower:.2f}x",
            )
        ],
        "notes": [
            f"the final save of {n:,} interactions ({written / 1024:,.0f} KiB of YAML) took "
            f"{c.cell(save, lambda v: f'{v:,.0f} ms')}, included above",
        ],
        "data": {"plain": plain.as_data(), "hl-testkit": hl.as_data(), "save_ms": save.as_data()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args(argv)
    print(c.show(run(args.quick, args.n)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
