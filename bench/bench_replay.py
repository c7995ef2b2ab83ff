"""Replay cost per request: hl-testkit vs plain vcrpy vs `responses` vs the stand-in.

    .venv/bin/python bench/bench_replay.py [--quick] [--sizes 10,100,1000,5000]

One cassette of N distinct requests (session gets and list pages, answered
by the stand-in once and then frozen) for each N. Each tool answers the very
same requests with the very same bytes, through the same `SessionsClient`
(requests underneath):

  hl-testkit   the `sessions` fixture's path: SessionsClient -> requests ->
               vcrpy's stub -> hl-testkit's cassette (record mode none); the
               fixture's client skips requests' environment lookups in replay
  hl (own client)  the same cassette, from a client the test made itself
               (requests with its per-call proxy/netrc lookups)
  vcrpy        `vcr.use_cassette` on its own YAML cassette, default matchers
  responses    `responses.RequestsMock` with one registration per request
  stand-in     the real HTTP server over loopback (its seed always holds the
               largest N's sessions, so its cost does not depend on N)

Per request: the median over batches of requests (each batch from a freshly
rewound cassette; loading the cassette is not counted here, it is shown as
"load" once per N) with the 25th-75th percentile range. Ratios are to
`responses` at the same N.
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
RATIOS = ("hl-testkit", "hl (own client)", "vcrpy", "stand-in")
TOOLS = ("hl-testkit", "hl (own client)", "vcrpy", "responses", "stand-in")


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
        calls, start = self.calls, self.next
        for k in range(start, start + self.size):
            calls[k % len(calls)]()
        self.next = (start + self.size) % len(calls)
        return self.size

    def round(self, budget: float) -> None:
        with self.context():
            if not self.size:  # first round: warm up, then size the batches (~20 ms)
                if self.reset:
                    self.reset()
                self.size = c.batch_size(self.calls[0], target=0.02, limit=len(self.calls))
                if self.reset:
                    self.reset()
                self.batch()
            got = c.sample(self.batch, budget=budget, min_samples=2, reset=self.reset)
            self.stat.samples += got.samples


def interleaved(tools: dict[str, Tool], budget: float, rounds: int = 5) -> dict[str, c.Stat]:
    """Round-robin over the tools, so that the machine's drift touches each alike."""
    for _ in range(rounds):
        for tool in tools.values():
            tool.round(budget / rounds)
    return {name: tool.stat for name, tool in tools.items()}


def measure_size(
    n: int, exchanges: list[c.Exchange], server: Any, workdir: Path, budget: float
) -> dict[str, Any]:
    import contextlib

    import responses
    import vcr

    from hl_testkit.client import SessionsClient
    from hl_testkit.recording.recorder import Recording, activated
    from hl_testkit.recording.target import REPLAY_API_KEY
    from hl_testkit.secrets import scrub

    out: dict[str, Any] = {}
    api = c.API
    clients: list[Any] = []

    def calls_for(client: Any) -> list[Callable[[], Any]]:
        clients.append(client)
        return [c.call(client, k) for k in range(n)]

    # hl-testkit: what the `hl_cassette` + `sessions` fixtures set up, minus pytest.
    hl_path = workdir / f"hl_{n}.yaml"
    hl_path.write_text(c.hl_cassette_text(exchanges), encoding="utf-8")
    recording = Recording(
        path=hl_path,
        record_mode="none",
        base_url=api,
        nodeid="bench_replay.py::test_replay",
        api_key=REPLAY_API_KEY,
        secrets=scrub.known_secrets(os.environ, extra={"HUMANLOOP_API_KEY": REPLAY_API_KEY}),
    )
    t0 = time.perf_counter()
    recording.load()
    out["hl-testkit load"] = time.perf_counter() - t0

    def hl_reset() -> None:
        recording._next.clear()
        recording.played.clear()

    # vcrpy on its own cassette, default matchers (method, scheme, host, port, path, query).
    vcr_path = workdir / f"vcrpy_{n}.yaml"
    vcr_path.write_text(c.vcrpy_cassette_text(exchanges), encoding="utf-8")
    t0 = time.perf_counter()
    with vcr.VCR(record_mode="none").use_cassette(str(vcr_path)):
        out["vcrpy load"] = time.perf_counter() - t0
    # vcrpy re-reads the file on each entry: one cassette object, re-entered instead.
    vcr_cassette = vcr.VCR(record_mode="none").use_cassette(str(vcr_path))
    loaded: dict[str, Any] = {}

    @contextlib.contextmanager
    def vcr_context() -> Any:
        with vcr_cassette as cass:
            loaded["cassette"] = cass
            yield

    # responses: one registration per request.
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    for kwargs in c.responses_data(exchanges):
        mock.add(**kwargs)

    @contextlib.contextmanager
    def responses_context() -> Any:  # `with mock:` would drop the registrations on exit
        mock.start()
        try:
            yield
        finally:
            mock.stop(allow_assert=False)

    fixture_client = SessionsClient(REPLAY_API_KEY, base_url=api)
    fixture_client.http.trust_env = False  # as the `sessions` fixture does in replay
    tools = {
        "hl-testkit": Tool(lambda: activated(recording, {}), calls_for(fixture_client), hl_reset),
        "hl (own client)": Tool(
            lambda: activated(recording, {}),
            calls_for(SessionsClient(REPLAY_API_KEY, base_url=api)),
            hl_reset,
        ),
        "vcrpy": Tool(
            vcr_context,
            calls_for(SessionsClient("key", base_url=api)),
            lambda: loaded["cassette"].rewind(),
        ),
        "responses": Tool(responses_context, calls_for(SessionsClient("key", base_url=api))),
        # The stand-in over loopback (keep-alive connection, as a test's client has).
        "stand-in": Tool(
            contextlib.nullcontext,
            calls_for(SessionsClient(server.api_key, base_url=server.base_url)),
        ),
    }
    out.update(interleaved(tools, budget * len(tools)))
    for client in clients:
        client.close()
    return out


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


def report(results: dict[int, dict[str, Any]]) -> dict[str, Any]:
    times = [[f"{n:,}", *(c.cell(r[tool]) for tool in TOOLS)] for n, r in results.items()]
    ratios = [
        [
            f"{n:,}",
            *(c.ratio(r[tool], r["responses"]) for tool in RATIOS),
            f"{r['hl-testkit load'] * 1e3:,.1f} ms / {r['vcrpy load'] * 1e3:,.1f} ms",
        ]
        for n, r in results.items()
    ]
    tables = "\n\n".join(
        [
            c.table(["N", *(f"{tool}, per request" for tool in TOOLS)], times),
            c.table(
                ["N", *(f"{tool} ÷ responses" for tool in RATIOS), "cassette load (hl / vcrpy)"],
                ratios,
            ),
        ]
    )
    sizes = list(results)
    hl = {n: results[n]["hl-testkit"] for n in sizes}
    flat = hl[sizes[-1]].median / hl[sizes[0]].median
    worst = max(hl[n].median / results[n]["responses"].median for n in sizes)
    targets = [
        (
            "replay per request ≤ 1.0x responses at every N",
            worst <= 1.0,
            f"worst hl ÷ responses = {worst:.2f}x",
        ),
        (
            f"replay flat: N={sizes[-1]:,} within 1.2x of N={sizes[0]:,}",
            flat <= 1.2,
            f"N={sizes[-1]:,} ÷ N={sizes[0]:,} = {flat:.2f}x",
        ),
    ]
    return {
        "title": "Replay, per request",
        "table": tables,
        "targets": targets,
        "data": {
            str(n): {k: (v.as_data() if isinstance(v, c.Stat) else v) for k, v in r.items()}
            for n, r in results.items()
        },
    }


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
