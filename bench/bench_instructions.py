"""Instructions per request, counted by valgrind: the ratio targets the clock cannot decide.

    .venv/bin/python bench/bench_instructions.py [--quick]

On this shared 2-core VM, one round's wall-time ratio of recording to plain requests
ranges from 0.98x to 1.46x, so a target a few percent away is WITHIN NOISE however long
the run. The number of instructions a process executes (valgrind's cachegrind, its
`I refs`) does not depend on the machine's load: the same process counted twice differs
by about 0.01% (the reason CodSpeed, iai and SQLite measure with it). Each figure is the
difference between two processes that do the same setup and warm-up and differ only in
the measured work, divided by the requests that work made:

  replay     bench_replay's tools and floors (`sessions` and the dict adapter,
             `hl_cassette + requests` and `responses`) at N requests: a process that
             plays them once more after two warm passes, minus one that stops there
  recording  bench_record's round at N = 1,000 (the `sessions` path: its setup, the
             requests and the final save) and plain requests' N requests, each minus a
             process that only warms up. The client process is counted; the server's
             instructions are counted apart, under valgrind itself: both wall times
             wait for the server, so the target's ratio holds its work on both sides
             (the client's own ratio is shown too).

What it leaves out: the kernel (system calls, loopback TCP: alike on both sides of each
ratio, so leaving it out makes a ratio larger, not smaller), cache misses, and time
itself. It says what the code does, not how long a machine took: the clock's verdicts
stay in the other sections, and one that is WITHIN NOISE is decided by this one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c
import bench_record
import bench_replay

HERE = Path(__file__).resolve()
VALGRIND = ("valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null")
#: Set in a worker's environment: the server it starts runs under valgrind (counted apart).
SERVER_UNDER_VALGRIND = "HL_BENCH_COUNT_SERVER"
#: The replay ratios with a target: (tool, floor, limit).
REPLAY_PAIRS = tuple(ratio for ratio in bench_replay.RATIOS if ratio[2] is not None)
RECORD_TARGET = bench_record.TARGET
TITLE = "Instructions per request (valgrind): the ratios the clock cannot decide"
_REFS = re.compile(r"^==(\d+)== I\s+refs:\s+([\d,]+)\s*$", re.MULTILINE)


def instructions(stderr: str) -> int:
    """The one process's `I refs` in valgrind's summary (refused unless exactly one)."""
    found = _REFS.findall(stderr)
    if len(found) != 1:
        tail = stderr[-2000:]
        raise RuntimeError(f"expected one valgrind summary, found {len(found)}:\n{tail}")
    return int(found[0][1].replace(",", ""))


def per_request(measured: int, baseline: int, requests: int) -> float:
    """Instructions per request of the work one process did beyond the other."""
    if requests <= 0 or measured <= baseline:
        raise ValueError(f"no measured work: {measured:,} against {baseline:,} instructions")
    return (measured - baseline) / requests


def count(worker: Sequence[str], *, server: bool = False) -> int:
    """Instructions of a worker process (`server`: of the server it starts, instead)."""
    command = [c.python(), str(HERE), "--worker", *worker]
    env = {SERVER_UNDER_VALGRIND: "1"} if server else {}
    return counted(command if server else [*VALGRIND, *command], env)


def counted(command: Sequence[str], env: dict[str, str] | None = None) -> int:
    """The instructions valgrind counted for the one process it ran in `command`."""
    env = {**os.environ, "PYTHONHASHSEED": "0", **(env or {})}  # the same dict layouts
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}"
        )
    return instructions(done.stderr)


# -- the workers (run in their own process, under valgrind or with the server under it) --


def replay_worker(tool: str, exchanges_file: str, passes: int) -> None:
    exchanges = c.load_exchanges(Path(exchanges_file))
    server = type("NoServer", (), {"base_url": "http://127.0.0.1:9/v4", "api_key": "k"})()
    with tempfile.TemporaryDirectory() as tmp:
        tools, _, _ = bench_replay.make_tools(len(exchanges), exchanges, server, Path(tmp))
        one = tools[tool]
        with one.context():
            for _ in range(2 + passes):  # two warm passes, then the measured ones
                if one.reset:
                    one.reset()
                for call in one.calls:
                    call()


def record_worker(mode: str, exchanges_file: str) -> None:
    from hl_testkit.client import SessionsClient

    exchanges = c.load_exchanges(Path(exchanges_file))
    n = len(exchanges)
    prefix = VALGRIND if os.environ.get(SERVER_UNDER_VALGRIND) else ()
    with tempfile.TemporaryDirectory() as tmp:
        server = c.OutOfProcessServer(exchanges, Path(tmp), prefix=prefix)
        try:
            client = SessionsClient(server.api_key, base_url=server.base_url)
            calls = [c.call(client, k) for k in range(n)]
            for call in calls[:50]:  # warm: the connection, then a small recording
                call()
            bench_record.record_round(server, 20, Path(tmp) / "warm", None)
            if mode == "plain":
                for call in calls:
                    call()
            elif mode == "sessions":
                bench_record.record_round(server, n, Path(tmp) / "measured", None)
            client.close()
        finally:
            server.stop()


# -- the run -------------------------------------------------------------------------------


def run(quick: bool = False) -> dict[str, Any]:
    if shutil.which("valgrind") is None:
        note = "valgrind is not installed: instructions not counted (apt install valgrind)"
        return {"title": TITLE, "table": "-", "targets": [], "notes": [note], "data": {}}
    replay_n, record_n = (20, 200) if quick else (100, 1000)
    with tempfile.TemporaryDirectory(prefix="hl-bench-instructions-") as tmp:
        files = fetch_files(Path(tmp), replay_n, record_n)
        jobs = {
            **{
                (tool, passes): ("replay", tool, str(files["replay"]), str(passes))
                for tool in (name for pair in REPLAY_PAIRS for name in pair[:2])
                for passes in (0, 1)
            },
            **{(mode, "client"): ("record", mode, str(files["record"])) for mode in MODES},
        }
        server_jobs = {(mode, "server"): ("record", mode, str(files["record"])) for mode in MODES}
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            counted = {key: pool.submit(count, job) for key, job in jobs.items()}
            counted |= {
                key: pool.submit(count, job, server=True) for key, job in server_jobs.items()
            }
            refs = {key: future.result() for key, future in counted.items()}
    return report(refs, replay_n, record_n)


MODES = ("none", "plain", "sessions")


def fetch_files(tmp: Path, replay_n: int, record_n: int) -> dict[str, Path]:
    from hl_testkit.standin import StandinServer

    biggest = max(replay_n, record_n)
    with StandinServer(seed=c.bench_seed(biggest)) as standin:
        exchanges = c.fetch(standin, [c.target(k) for k in range(biggest)])
    return {
        "replay": c.save_exchanges(tmp / "replay.json", exchanges[:replay_n]),
        "record": c.save_exchanges(tmp / "record.json", exchanges[:record_n]),
    }


def report(refs: dict[tuple[str, str | int], int], replay_n: int, record_n: int) -> dict[str, Any]:
    replay = {
        tool: per_request(refs[tool, 1], refs[tool, 0], replay_n)
        for pair in REPLAY_PAIRS
        for tool in pair[:2]
    }
    client = {
        m: per_request(refs[m, "client"], refs["none", "client"], record_n) for m in MODES[1:]
    }
    server = {
        m: per_request(refs[m, "server"], refs["none", "server"], record_n) for m in MODES[1:]
    }
    rows = [
        [
            f"replay, N = {replay_n:,}",
            tool,
            _mi(replay[tool]),
            floor,
            _mi(replay[floor]),
            f"{replay[tool] / replay[floor]:.3f}x",
        ]
        for tool, floor, _ in REPLAY_PAIRS
    ]
    both = {m: client[m] + server[m] for m in MODES[1:]}
    rows.append(
        [
            f"recording, N = {record_n:,}",
            "sessions (client + server)",
            _mi(both["sessions"]),
            "plain requests (client + server)",
            _mi(both["plain"]),
            f"{both['sessions'] / both['plain']:.3f}x",
        ]
    )
    rows.append(
        [
            "",
            "sessions (client only)",
            _mi(client["sessions"]),
            "plain requests (client only)",
            _mi(client["plain"]),
            f"{client['sessions'] / client['plain']:.3f}x",
        ]
    )
    judged = [  # (the clock's target, how it is counted here, measured, floor, limit)
        (
            bench_replay.target_name(tool, floor, limit),
            f"replay at N = {replay_n:,}",
            replay[tool],
            replay[floor],
            limit,
        )
        for tool, floor, limit in REPLAY_PAIRS
    ]
    judged.append(
        (
            bench_record.target_name(record_n),
            "client and server",
            both["sessions"],
            both["plain"],
            RECORD_TARGET,
        )
    )
    decides = {name: _verdict(*figures) for name, _, *figures in judged}
    targets = [(f"{name}, in instructions ({how})", *decides[name]) for name, how, *_ in judged]
    header = ["measure", "tool", "instructions / request", "floor", "floor's", "ratio"]
    return {
        "title": TITLE,
        "table": c.table(header, rows),
        "targets": targets,
        "decides": decides,
        "notes": [
            f"the server's own instructions per request: {_mi(server['plain'])} for plain "
            f"requests, {_mi(server['sessions'])} while recording; the client's ratio alone "
            f"is {client['sessions'] / client['plain']:.3f}x",
            "each figure: (instructions of a process doing the measured work) - (of one that "
            "stops before it), over the requests made; PYTHONHASHSEED=0; valgrind --tool="
            "cachegrind --cache-sim=no",
        ],
        "data": {
            "replay": replay,
            "client": client,
            "server": server,
            "refs": {f"{a}/{b}": v for (a, b), v in refs.items()},
        },
    }


def _mi(value: float) -> str:
    return f"{value / 1e6:.3f} M"


def _verdict(measured: float, floor: float, limit: float) -> tuple[bool, str]:
    ratio = measured / floor
    return ratio <= limit, f"{_mi(measured)} ÷ {_mi(floor)} = {ratio:.3f}x"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, *rest = args.worker
        if kind == "replay":
            replay_worker(rest[0], rest[1], int(rest[2]))
        else:
            record_worker(rest[0], rest[1])
        return 0
    section = run(args.quick)
    print(c.show(section))
    print(json.dumps(section["data"]["refs"] if section["data"] else {}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
