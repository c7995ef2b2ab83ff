"""Recording cost per request: hl-testkit vs plain `requests` to the same server.

    .venv/bin/python bench/bench_record.py [--quick] [--n 1000]

N distinct requests (session gets and list pages) to a keep-alive HTTP/1.1
server in another process (TCP_NODELAY; it answers the bytes the stand-in
gave once), from the same `SessionsClient`:

  plain requests   no recorder at all: the floor
  sessions         what the `sessions` fixture does in record mode `once` on a
                   new cassette, minus pytest: the client records through
                   `record_adapter` (a real urllib3 pool, not vcrpy's stubs),
                   scrubbing each exchange as it is recorded, then the final
                   `Recording.finish`: lock, merge, YAML dump, leak guard, atomic
                   write and fsync -- all of it counted, divided by N
  hl_cassette +    the same with a test's own requests client, recorded through
  requests         vcrpy's stubs (what every client but `sessions` goes through)

Rounds rotate among the three (a fresh cassette each round); the figure is the
median per request over the rounds, with the 25th-75th percentile range. The
target's verdict is on each round's ratio to that round's plain requests (their
median, and the interval around it that says whether the run can tell).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c


def run(quick: bool = False, n: int = 1000) -> dict[str, Any]:
    from hl_testkit.standin import StandinServer

    with tempfile.TemporaryDirectory(prefix="hl-bench-record-") as tmp:
        with StandinServer(seed=c.bench_seed(n)) as standin:  # the answers, fetched once
            exchanges = c.fetch(standin, [c.target(k) for k in range(n)])
        server = c.OutOfProcessServer(exchanges, Path(tmp))
        try:
            stats = measure(server, n, Path(tmp), rounds=7 if quick else 21)
        finally:
            server.stop()
    section = report(n, *stats)
    lock = lock_hold(500 if quick else 2000, 1 if quick else 3)
    add_lock_report(section, lock)
    return section


def add_lock_report(section: dict[str, Any], lock: dict[str, Any]) -> None:
    """The lock-hold table, its target and data, added to the recording section."""
    stats, n = lock["stats"], lock["n"]
    rows = [
        [case, c.cell(stats[case, "now"], _ms), c.cell(stats[case, "all locked"], _ms)]
        for case in ("new", "re-record")
    ]
    title = (
        f"\n\nHolding the cassette's lock while saving {n:,} interactions "
        f"({lock['size'] / 2**20:.1f} MiB), per save:\n\n"
    )
    section["table"] += title + c.table(
        ["save", "lock held (drafted outside the lock)", "lock held (all under the lock)"], rows
    )
    worst = max(stats[case, "now"].median for case in ("new", "re-record"))
    section["targets"].append(
        (f"saving {n:,} interactions holds the lock ≤ 1 s", worst <= 1.0, f"worst {worst:.3f} s")
    )
    section["notes"].append(
        "lock: `store.update` drafts the save (read, parse, merge, YAML, leak guard) before "
        "taking the lock and, once it holds it, writes the draft if the file is still the "
        "one the draft read (else it does it all again under the lock); 'all under the lock' "
        "is the previous way, measured in the same run. A re-record of an existing cassette "
        "(mode all) re-reads and rewrites the whole file"
    )
    section["data"]["lock_s"] = {f"{k[0]}/{k[1]}": v.as_data() for k, v in stats.items()}


PATHS = ("sessions", "hl_cassette + requests")
TARGET = 1.3


def target_name(n: int) -> str:
    return f"sessions recording at N={n:,} ≤ {TARGET}x plain requests to the same server"


def measure(
    server: Any, n: int, tmp: Path, rounds: int
) -> tuple[c.Stat, dict[str, c.Stat], dict[str, c.Stat], int]:
    """Rounds rotate: plain requests, then each recording path (a fresh cassette each)."""
    from hl_testkit.client import SessionsClient

    plain = c.Stat()
    hl = {path: c.Stat() for path in PATHS}
    save = {path: c.Stat() for path in PATHS}
    written = 0
    client = SessionsClient(server.api_key, base_url=server.base_url)
    calls = [c.call(client, k) for k in range(n)]
    for call in calls[: min(n, 50)]:  # warm up the server and the connection
        call()
    for r in range(rounds):
        t0 = time.perf_counter()
        for call in calls:
            call()
        plain.samples.append((time.perf_counter() - t0) / n * 1e6)
        for path in PATHS:
            own = client if path != "sessions" else None
            total, saving, written = record_round(server, n, tmp / f"{r}-{path[:8]}", own)
            hl[path].samples.append(total / n * 1e6)
            save[path].samples.append(saving * 1e3)
    client.close()
    return plain, hl, save, written


def record_round(server: Any, n: int, where: Path, own: Any) -> tuple[float, float, int]:
    """One recording of the N requests and its save: (seconds in all, seconds saving,
    bytes written). `own` is the test's own client (vcrpy's path); None: the `sessions`
    fixture's client, made and mounted as the fixture does."""
    from hl_testkit.client import SessionsClient
    from hl_testkit.recording.record_adapter import RecordAdapter
    from hl_testkit.recording.recorder import Recording, activated
    from hl_testkit.secrets import scrub

    path = where / "test_record.yaml"
    recording = Recording(
        path=path,
        record_mode="once",
        base_url=server.base_url,
        nodeid="bench_record.py::test_record",
        api_key=server.api_key,
        recorded_against="stand-in",
        secrets=scrub.known_secrets(os.environ, extra={"HUMANLOOP_API_KEY": server.api_key}),
    )
    t0 = time.perf_counter()
    recording.load()
    with activated(recording, {}):
        client = own or SessionsClient(server.api_key, base_url=server.base_url)
        if own is None:
            assert recording.direct_record
            fallback = client.http.get_adapter(client.base_url)
            client.http.mount(client.base_url, RecordAdapter(recording, fallback))
        for k in range(n):
            c.call(client, k)()
        if own is None:
            client.close()
    t1 = time.perf_counter()
    result = recording.finish(test_failed=False)
    t2 = time.perf_counter()
    if result.action != "written" or result.interactions != n:
        raise RuntimeError(f"recording did not save {n} interactions: {result}")
    return t2 - t0, t2 - t1, path.stat().st_size


def report(
    n: int, plain: c.Stat, hl: dict[str, c.Stat], save: dict[str, c.Stat], written: int
) -> dict[str, Any]:
    rows = [["plain requests", c.cell(plain), "1.00x", "-", "-"]]
    for path in PATHS:
        share = save[path].median * 1e3 / n / hl[path].median
        rows.append(
            [
                f"{path} (record + save)",
                c.cell(hl[path]),
                c.ratio(hl[path], plain),
                c.cell(save[path], lambda v: f"{v:,.0f} ms"),
                f"{share:.0%}",
            ]
        )
    ok, detail = c.verdict(c.paired(hl["sessions"].samples, plain.samples), TARGET)
    header = ["client", "per request", "÷ plain requests", "final save", "save's share"]
    return {
        "title": f"Recording, per request (N = {n:,}, keep-alive server in another process)",
        "table": c.table(header, rows),
        "targets": [(target_name(n), ok, detail)],
        "notes": [
            "floor: plain requests (the same `SessionsClient`, one keep-alive connection) to "
            "an HTTP/1.1 server in another process with TCP_NODELAY, answering the stand-in's "
            "bytes from a dict: an in-process server would share the interpreter lock with the "
            "client and flatter the ratio, a slow one would hide the recorder's cost",
            "the target is on the `sessions` fixture's path (its client records through a "
            "transport adapter on a real urllib3 pool, not vcrpy's stubs); `hl_cassette + "
            "requests` is a test's own client, recorded through vcrpy's stubs, shown for scale",
            f"final save: `Recording.finish` of {n:,} interactions ({written / 1024:,.0f} KiB "
            "of YAML: merge, YAML dump, leak guard, lock, atomic write, fsync), included in the "
            "per-request figure; its share is of the whole",
        ],
        "data": {
            "plain": plain.as_data(),
            **{path: hl[path].as_data() for path in PATHS},
            **{f"save_ms/{path}": save[path].as_data() for path in PATHS},
        },
    }


# -- the lock while saving ---------------------------------------------------------------


def big_interactions(n: int, body_bytes: int = 2600) -> list[Any]:
    """`n` distinct interactions of a test, each a JSON answer of about `body_bytes`."""
    import json as json_

    from hl_testkit.cassettes.model import Interaction, RecordedRequest, RecordedResponse

    out = []
    for k in range(n):
        body = {
            "id": c.session_id(k),
            "datapoints": [
                {"inputs": {"question": f"q{k}-{j} " + "x" * 40}}
                for j in range(body_bytes // 68)  # 68 bytes of JSON each
            ],
        }
        text = json_.dumps(body)
        out.append(
            Interaction(
                RecordedRequest("GET", f"{c.API}/sessions/{c.session_id(k)}", {"Accept": "*/*"}),
                RecordedResponse(200, "OK", {"Content-Type": "application/json"}, text.encode()),
            )
        )
    return out


def lock_hold(n: int = 2000, rounds: int = 3) -> dict[str, Any]:
    """Seconds the cassette's lock is held by one save of `n` interactions (`Recording.finish`):
    now (drafted outside the lock) and with every step under the lock (as before), alternating.
    Two saves: a new cassette, and a re-record (mode `all`) of a cassette holding them,
    with a changed answer (the whole file re-read, merged and rewritten)."""
    import contextlib
    import dataclasses

    from hl_testkit.cassettes import store
    from hl_testkit.recording.recorder import Recording

    held: list[float] = []
    original = store._locked

    @contextlib.contextmanager
    def timed(*args: Any, **kwargs: Any) -> Any:
        with original(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                yield
            finally:
                held.append(time.perf_counter() - t0)

    interactions = big_interactions(n)
    last = interactions[-1]
    answer = dataclasses.replace(last.response, body=b'{"id":"changed"}')
    changed = [*interactions[:-1], dataclasses.replace(last, response=answer)]
    ways = ("now", "all locked")
    stats = {(case, way): c.Stat() for case in ("new", "re-record") for way in ways}
    size = 0
    with tempfile.TemporaryDirectory(prefix="hl-bench-lock-") as tmp:
        for r in range(rounds):
            for way in ("now", "all locked"):
                path = Path(tmp) / f"{r}-{way.replace(' ', '_')}.yaml"
                for case, mode, recorded in (
                    ("new", "once", interactions),
                    ("re-record", "all", changed),
                ):
                    recording = Recording(
                        path=path, record_mode=mode, base_url=c.API, nodeid="b.py::t"
                    )
                    recording.load()
                    recording.recorded = list(recorded)
                    held.clear()
                    with contextlib.ExitStack() as stack:
                        stack.enter_context(mock_attr(store, "_locked", timed))
                        if way == "all locked":
                            stack.enter_context(mock_attr(store, "_draft", lambda *a: None))
                        result = recording.finish(test_failed=False)
                    if result.action != "written":
                        raise RuntimeError(f"{case}: {result}")
                    stats[case, way].samples.append(held[0])
                    size = path.stat().st_size
    return {"stats": stats, "size": size, "n": n}


@contextlib.contextmanager
def mock_attr(target: Any, name: str, value: Any) -> Any:
    saved = getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, saved)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args(argv)
    print(c.show(run(args.quick, args.n)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
