"""Replay cost per request: hl-testkit vs plain vcrpy vs `responses` vs the stand-in.

    .venv/bin/python bench/bench_replay.py [--quick] [--sizes 10,100,1000,5000]

One cassette of N distinct requests (session gets and list pages, answered
by the stand-in once and then frozen) for each N. Each tool answers the very
same requests with the very same bytes, through the same `SessionsClient`
(requests underneath):

  sessions     the `sessions` fixture's path in replay: trust_env off, requests'
               HTTPAdapter.send answering from the recording's index (direct
               replay, hl_testkit.recording.requests_replay)
  dict adapter THE FLOOR for it: the same client, trust_env off, a transport
               adapter answering from a dict by URL (no matching, no bookkeeping)
  sessions via vcrpy  the fixture's client as it was before direct replay
               (trust_env off, through vcrpy's stubs): the "before" of this run
  hl_cassette + requests  the same cassette, from a client the test made
               itself (requests with trust_env on): requests' HTTPAdapter.send
               answering from the recording's index (direct replay)
  hl_cassette + requests via vcrpy  that client as before direct replay
               (through vcrpy's stubs and urllib3): the "before" of this run
  responses    THE FLOOR for that: `responses.RequestsMock` with ONE regex
               registration whose callback answers from a dict (trust_env on)
  vcrpy        `vcr.use_cassette` on its own YAML cassette, default matchers
  stand-in     the real HTTP server over loopback, in this process (its seed
               always holds the largest N's sessions)

Per request: the median over batches of about 20 ms of requests (a cassette is
rewound, timed, each time its N requests have all been played; loading the
cassette is not counted here, it is shown as "load" once per N) with the
25th-75th percentile range. Ratios are to
each tool's floor at the same N.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

SIZES = (10, 100, 1000, 5000)


class Tool:
    """One way to answer the requests: a context that activates it, the calls, a rewind."""

    def __init__(
        self,
        context: Callable[[], Any],
        calls: list[Callable[[], Any]],
        reset: Callable[[], None] | None = None,
    ) -> None:
        self.context, self.calls, self.reset = context, calls, reset
        self.stat = c.Stat()
        self.size = 0
        self.next = 0

    def batch(self) -> int:
        """`size` calls, on from where the last batch stopped; once past the last one, a
        tool with a rewind is rewound (timed: its own cost) and goes on from the first,
        so that a batch is ~20 ms at every N, not at most N calls (at N=10, a few ms:
        the untimed work before each batch then weighed on its first calls)."""
        calls, start, reset = self.calls, self.next, self.reset
        n = len(calls)
        for k in range(start, start + self.size):
            if reset is not None and k > start and k % n == 0:
                reset()
            calls[k % n]()
        self.next = (start + self.size) % n
        return self.size

    def round(self, budget: float) -> None:
        with self.context():
            if not self.size:  # first round: warm up, then size the batches (~20 ms)
                self.size = self.warm_size(target=0.02)
            got = c.sample(self.batch, budget=budget, min_samples=2, reset=self.reset)
            self.stat.samples += got.samples
            self.stat.rounds.append(got.median)

    def warm_size(self, target: float) -> int:
        """Calls per batch (about `target` seconds), timed once the path is warm.

        A path's first calls pay one-off costs (lazy imports, first lookups): timed,
        they made its batches shorter than another tool's (5 calls against 16), and
        the untimed work before each batch (the rewind, a collection, cold caches after
        it) then weighed on a larger share of its calls."""
        k = min(len(self.calls), 20)
        elapsed = 0.0
        for _ in range(2):  # the first pass warms, the second is timed
            if self.reset:
                self.reset()
            t0 = time.perf_counter()
            for call in self.calls[:k]:
                call()
            elapsed = time.perf_counter() - t0
        if self.reset:
            self.reset()
        return max(1, int(target * k / max(elapsed, 1e-7)))


def interleaved(tools: dict[str, Tool], budget: float, rounds: int = 25) -> dict[str, c.Stat]:
    """Round-robin over the tools, so that the machine's drift touches each alike."""
    for _ in range(rounds):
        for tool in tools.values():
            tool.round(budget / rounds)
    return {name: tool.stat for name, tool in tools.items()}


def measure_size(
    n: int, exchanges: list[c.Exchange], server: Any, workdir: Path, budget: float
) -> dict[str, Any]:
    tools, out, clients = make_tools(n, exchanges, server, workdir)
    out.update(interleaved(tools, budget * len(tools)))
    for client in clients:
        client.close()
    return out


def make_tools(
    n: int, exchanges: list[c.Exchange], server: Any, workdir: Path
) -> tuple[dict[str, Tool], dict[str, Any], list[Any]]:
    """Every tool, ready to answer the N requests: (tools by name, the cassettes' load
    times, the clients to close). `server` is the stand-in (only its `base_url` and
    `api_key` are read here)."""
    import contextlib

    from hl_testkit.client import SessionsClient
    from hl_testkit.recording.recorder import activated
    from hl_testkit.recording.target import REPLAY_API_KEY

    out: dict[str, Any] = {}
    api = c.API
    clients: list[Any] = []

    def calls_for(client: Any) -> list[Callable[[], Any]]:
        clients.append(client)
        return [c.call(client, k) for k in range(n)]

    recording, out["hl-testkit load"] = hl_recording(exchanges, workdir / f"hl_{n}.yaml")

    @contextlib.contextmanager
    def via_vcrpy() -> Any:  # the cassette with direct replay of own clients off
        from hl_testkit.recording import requests_replay

        saved, requests_replay.enabled = requests_replay.enabled, False
        try:
            with activated(recording, {}):
                yield
        finally:
            requests_replay.enabled = saved

    def hl_reset() -> None:
        recording._next.clear()
        recording.played.clear()
        recording.played_at.clear()

    vcr_context, vcr_rewind, out["vcrpy load"] = vcrpy_tool(exchanges, workdir / f"vcrpy_{n}.yaml")
    responses_context = responses_tool(exchanges)
    # The `sessions` fixture in replay: trust_env off, answered by requests_replay.
    fixture_client = SessionsClient(REPLAY_API_KEY, base_url=api)
    fixture_client.http.trust_env = False
    # The `sessions` fixture's client before direct replay: through vcrpy's stubs.
    vcrpy_client = SessionsClient(REPLAY_API_KEY, base_url=c.API)
    vcrpy_client.http.trust_env = False
    # The floor: the same client, trust_env off, a transport adapter answering from a dict.
    floor_client = SessionsClient("key", base_url=api)
    floor_client.http.trust_env = False
    floor_client.http.mount(api, c.dict_adapter(exchanges))
    tools = {
        "sessions": Tool(lambda: activated(recording, {}), calls_for(fixture_client), hl_reset),
        "dict adapter": Tool(contextlib.nullcontext, calls_for(floor_client)),
        "sessions via vcrpy": Tool(via_vcrpy, calls_for(vcrpy_client), hl_reset),
        "hl_cassette + requests": Tool(
            lambda: activated(recording, {}),
            calls_for(SessionsClient(REPLAY_API_KEY, base_url=api)),
            hl_reset,
        ),
        "hl_cassette + requests via vcrpy": Tool(
            via_vcrpy, calls_for(SessionsClient(REPLAY_API_KEY, base_url=api)), hl_reset
        ),
        "responses": Tool(responses_context, calls_for(SessionsClient("key", base_url=api))),
        "vcrpy": Tool(
            vcr_context,
            calls_for(SessionsClient("key", base_url=api)),
            vcr_rewind,
        ),
        # The stand-in over loopback (in this process; one connection per request).
        "stand-in": Tool(
            contextlib.nullcontext,
            calls_for(SessionsClient(server.api_key, base_url=server.base_url)),
        ),
    }
    return tools, out, clients


def hl_recording(exchanges: list[c.Exchange], path: Path) -> tuple[Any, float]:
    """What the `hl_cassette` fixture sets up in replay, minus pytest: (it, load seconds)."""
    from hl_testkit.recording.recorder import Recording
    from hl_testkit.recording.target import REPLAY_API_KEY
    from hl_testkit.secrets import scrub

    path.write_text(c.hl_cassette_text(exchanges), encoding="utf-8")
    recording = Recording(
        path=path,
        record_mode="none",
        base_url=c.API,
        nodeid="bench_replay.py::test_replay",
        api_key=REPLAY_API_KEY,
        secrets=scrub.known_secrets(os.environ, extra={"HUMANLOOP_API_KEY": REPLAY_API_KEY}),
    )
    t0 = time.perf_counter()
    recording.load()
    return recording, time.perf_counter() - t0


def vcrpy_tool(
    exchanges: list[c.Exchange], path: Path
) -> tuple[Callable[[], Any], Callable[[], None], float]:
    """vcrpy on its own cassette, default matchers: (context, rewind, load seconds)."""
    import contextlib

    import vcr

    path.write_text(c.vcrpy_cassette_text(exchanges), encoding="utf-8")
    t0 = time.perf_counter()
    with vcr.VCR(record_mode="none").use_cassette(str(path)):
        load = time.perf_counter() - t0
    # vcrpy re-reads the file on each entry: one cassette object, re-entered instead.
    vcr_cassette = vcr.VCR(record_mode="none").use_cassette(str(path))
    loaded: dict[str, Any] = {}

    @contextlib.contextmanager
    def vcr_context() -> Any:
        with vcr_cassette as cass:
            loaded["cassette"] = cass
            yield

    return vcr_context, lambda: loaded["cassette"].rewind(), load


def responses_tool(exchanges: list[c.Exchange]) -> Callable[[], Any]:
    """`responses`, fair: one regex registration, its callback answering from a dict."""
    import contextlib

    mock = c.responses_one_callback(exchanges)

    @contextlib.contextmanager
    def responses_context() -> Any:  # `with mock:` would drop the registrations on exit
        mock.start()
        try:
            yield
        finally:
            mock.stop(allow_assert=False)

    return responses_context


def run(quick: bool = False, sizes: tuple[int, ...] = SIZES) -> dict[str, Any]:
    from hl_testkit.standin import StandinServer

    budget = 0.5 if quick else 1.5
    results: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="hl-bench-replay-") as tmp:
        server = StandinServer(seed=c.bench_seed(max(sizes))).start()
        try:
            everything = c.fetch(server, [c.target(k) for k in range(max(sizes))])
            bad = [e for e in everything if e.status != 200]
            if bad:
                raise RuntimeError(f"the stand-in answered {bad[0].status} to {bad[0].target}")
            for n in sizes:
                results[n] = measure_size(n, everything[:n], server, Path(tmp), budget)
                print(f"  replay N={n}: done", file=sys.stderr)
        finally:
            server.stop()
    return report(results)


#: (measured, its floor, the target ratio): each tool against the one it is fairly compared with.
RATIOS = (
    ("sessions", "dict adapter", 2.0),
    ("sessions via vcrpy", "dict adapter", None),
    ("hl_cassette + requests", "responses", 1.0),
    ("hl_cassette + requests via vcrpy", "responses", None),
    ("vcrpy", "responses", None),
    ("stand-in", "dict adapter", None),
)
TOOLS = (
    "sessions",
    "dict adapter",
    "sessions via vcrpy",
    "hl_cassette + requests",
    "hl_cassette + requests via vcrpy",
    "responses",
    "vcrpy",
    "stand-in",
)


def report(results: dict[int, dict[str, Any]]) -> dict[str, Any]:
    times = [[f"{n:,}", *(c.cell(r[tool]) for tool in TOOLS)] for n, r in results.items()]
    ratios = [
        [
            f"{n:,}",
            *(c.ratio(r[tool], r[floor]) for tool, floor, _ in RATIOS),
            f"{r['hl-testkit load'] * 1e3:,.1f} ms / {r['vcrpy load'] * 1e3:,.1f} ms",
        ]
        for n, r in results.items()
    ]
    tables = "\n\n".join(
        [
            c.table(["N", *(f"{tool}, per request" for tool in TOOLS)], times),
            c.table(
                [
                    "N",
                    *(f"{tool} ÷ {floor}" for tool, floor, _ in RATIOS),
                    "cassette load (hl / vcrpy)",
                ],
                ratios,
            ),
        ]
    )
    return {
        "title": "Replay, per request",
        "table": tables,
        "targets": targets(results),
        "notes": [
            "floors: `dict adapter` is requests with a transport adapter answering from a "
            "dict, `trust_env` off (what the `sessions` fixture's client also turns off): no "
            "replay through requests can cost less. `responses` is one regex registration "
            "whose callback answers from a dict, `trust_env` on as in a test's own client "
            "(one registration per URL would make it scan its list on every call, O(N) "
            "itself): the fair peer of `hl_cassette` with the test's own requests client",
        ],
        "data": {
            str(n): {k: (v.as_data() if isinstance(v, c.Stat) else v) for k, v in r.items()}
            for n, r in results.items()
        },
    }


def target_name(tool: str, floor: str, limit: float) -> str:
    return f"{tool} replay ≤ {limit:.1f}x {floor} at every N"


def targets(results: dict[int, dict[str, Any]]) -> list[tuple[str, bool | None, str]]:
    sizes = list(results)
    out = []
    for tool, floor, limit in RATIOS:
        if limit is None:
            continue
        verdicts = {
            n: c.verdict(c.paired(results[n][tool].rounds, results[n][floor].rounds), limit)
            for n in sizes
        }
        out.append(
            (
                target_name(tool, floor, limit),
                c.worst(ok for ok, _ in verdicts.values()),
                "; ".join(f"N={n:,}: {detail}" for n, (_, detail) in verdicts.items()),
            )
        )
    hl = {n: results[n]["sessions"] for n in sizes}
    flat = hl[sizes[-1]].median / hl[sizes[0]].median
    out.append(
        (
            f"replay flat: N={sizes[-1]:,} within 1.2x of N={sizes[0]:,}",
            flat <= 1.2,
            f"N={sizes[-1]:,} ÷ N={sizes[0]:,} = {flat:.2f}x",
        )
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter sampling")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    args = parser.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(","))
    section = run(args.quick, sizes)
    print(c.show(section))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
