"""What the benchmark scripts share: timing, statistics, tables and the test data.

Every figure is a median over many samples with its spread (the 25th-75th
percentile range, whose width is the IQR); ratios compare medians measured
in the same run, so a noisy machine moves both sides of a ratio alike.

The data is real: bodies are fetched once from the stand-in server
(`hl_testkit.standin`), then written as an hl-testkit cassette, a plain
vcrpy cassette and `responses` registrations, so that every tool answers the
very same requests with the very same bytes.
"""

from __future__ import annotations

import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

#: The base URL cassettes are written under (hl-testkit's canonical one).
API = "https://api.humanloop.com/v4"
PROJECT = "pr_bench"


# -- statistics --------------------------------------------------------------------------


@dataclass
class Stat:
    """Samples of one quantity (µs per operation, or seconds per run)."""

    samples: list[float] = field(default_factory=list)
    #: Where samples are taken in rounds, tools in turn: each round's median (`paired`).
    rounds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def q1(self) -> float:
        return self._quartiles()[0]

    @property
    def q3(self) -> float:
        return self._quartiles()[2]

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    def _quartiles(self) -> tuple[float, float, float]:
        if len(self.samples) < 2:
            value = self.samples[0]
            return value, value, value
        q1, q2, q3 = statistics.quantiles(self.samples, n=4)
        return q1, q2, q3

    def as_data(self) -> dict[str, Any]:
        return {"median": self.median, "q1": self.q1, "q3": self.q3, "n": len(self.samples)}


def sample(
    batch: Callable[[], int],
    *,
    budget: float,
    min_samples: int = 7,
    max_samples: int = 200,
    reset: Callable[[], None] | None = None,
) -> Stat:
    """Per-operation times in µs: `batch()` runs some operations and returns how many.

    `reset()` (untimed) runs before each batch. Samples are taken until `budget`
    seconds have passed and at least `min_samples` were taken. The garbage
    collector is off while a batch runs (collected between batches).
    """
    stat = Stat()
    deadline = time.perf_counter() + budget
    while len(stat.samples) < max_samples and (
        len(stat.samples) < min_samples or time.perf_counter() < deadline
    ):
        if reset is not None:
            reset()
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            count = batch()
            elapsed = time.perf_counter() - t0
        finally:
            gc.enable()
        stat.samples.append(elapsed / max(count, 1) * 1e6)
    return stat


def batch_size(one: Callable[[], object], target: float = 0.02, limit: int = 10**6) -> int:
    """How many calls of `one` take about `target` seconds (at least 1)."""
    t0 = time.perf_counter()
    one()
    once = max(time.perf_counter() - t0, 1e-7)
    return max(1, min(limit, int(target / once)))


def fmt_us(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:,.1f} ms"
    if value >= 100:
        return f"{value:,.0f} µs"
    return f"{value:,.1f} µs"


def fmt_s(value: float) -> str:
    return f"{value:.2f} s"


def cell(stat: Stat, unit: Callable[[float], str] = fmt_us) -> str:
    """`median [q1-q3]`."""
    return f"{unit(stat.median)} [{unit(stat.q1)}-{unit(stat.q3)}]"


def ratio(a: Stat, b: Stat) -> str:
    return f"{a.median / b.median:.2f}x"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A Markdown table (readable as plain text too)."""
    rows = [list(map(str, r)) for r in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep, *map(line, rows)])


# -- verdicts -----------------------------------------------------------------------------

#: How sure a verdict must be: the median's interval below covers it at least this often.
CONFIDENCE = 0.9


def paired(measured: Sequence[float], floor: Sequence[float]) -> list[float]:
    """Each round's ratio of two quantities measured side by side in that round.

    This machine drifts by more than some targets' margins within one run (the same
    code measured 1.28x in one run and 1.47x in another); a round's two figures
    drift together, so their ratio cancels what they share."""
    if len(measured) != len(floor) or not measured:
        raise ValueError(f"unpaired rounds: {len(measured)} against {len(floor)}")
    return [a / b for a, b in zip(measured, floor, strict=True)]


def median_interval(values: Sequence[float]) -> tuple[float, float, float]:
    """(low, high, coverage): the order statistics x(k) and x(n+1-k) around the median
    of `values`, k as large as keeps the coverage at least `CONFIDENCE` (a distribution-
    free interval: the count below the true median is Binomial(n, 1/2)). Fewer than 5
    values cannot reach 0.9: their whole range, and its smaller coverage."""
    ordered, n = sorted(values), len(values)
    k, tail = 1, 0.5**n  # tail: P(Binomial(n, 1/2) <= k - 1)
    while k < (n + 1) // 2:
        next_tail = tail + math.comb(n, k) * 0.5**n
        if 1 - 2 * next_tail < CONFIDENCE:
            break
        k, tail = k + 1, next_tail
    return ordered[k - 1], ordered[n - k], 1 - 2 * tail


def worst(verdicts: Iterable[bool | None]) -> bool | None:
    """One verdict of several (a target at every N): missed anywhere, else undecided
    anywhere, else met."""
    seen = set(verdicts)
    return False if False in seen else None if None in seen else True


def verdict(ratios: Sequence[float], limit: float) -> tuple[bool | None, str]:
    """Whether this run says the per-round ratio's median is at most `limit`: True or
    False when its interval lies on one side, None when the interval holds `limit`
    (the run cannot tell, whatever its median says)."""
    low, high, coverage = median_interval(ratios)
    ok = True if high <= limit else False if low > limit else None
    return ok, (
        f"per-round median {statistics.median(ratios):.2f}x, "
        f"{coverage:.0%} interval {low:.2f}-{high:.2f}x over {len(ratios)} rounds"
    )


VERDICTS = {True: "MET", False: "NOT MET", None: "WITHIN NOISE"}


# -- the machine ---------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def version_of(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    dists = (
        "hl-testkit",
        "pytest",
        "requests",
        "urllib3",
        "vcrpy",
        "responses",
        "pytest-recording",
        "pytest-xdist",
        "jsonschema",
        "jsonschema-rs",
        "PyYAML",
    )
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu_model(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        **{dist: version_of(dist) for dist in dists},
    }


def machine_lines() -> list[str]:
    info = machine()
    tools = ", ".join(f"{k} {v}" for k, v in list(info.items())[4:])
    return [
        f"nproc {info['nproc']}; CPU {info['cpu']}; {info['python']}; {info['platform']}",
        tools,
    ]


# -- data -------------------------------------------------------------------------------------


def session_id(n: int) -> str:
    return f"sesh_bench{n:06d}"


PROJECTS = 50


def project_id(k: int) -> str:
    return f"{PROJECT}{k:02d}"


def bench_seed(sessions: int) -> Any:
    """A stand-in seed: `sessions` sessions spread over `PROJECTS` projects."""
    from hl_testkit.standin.seed import parse_seed

    return parse_seed(
        {
            "projects": [{"id": project_id(k), "name": f"Benchmark {k}"} for k in range(PROJECTS)],
            "sessions": [
                {
                    "id": session_id(n),
                    "reference_id": f"conversation-{n}",
                    "datapoints": [
                        {
                            "project_id": project_id(n % PROJECTS),
                            "inputs": {"question": f"How do I do thing {n}?"},
                            "output": "Like this.",
                        }
                    ],
                }
                for n in range(sessions)
            ],
        }
    )


def target(n: int) -> str:
    """The n-th distinct request: four session gets, then one page of a list."""
    if n % 5 != 4:
        return f"/sessions/{session_id(n)}"
    j = n // 5
    return f"/sessions?project_id={project_id(j % PROJECTS)}&page={j // PROJECTS + 1}&size=2"


def call(client: Any, n: int) -> Callable[[], Any]:
    """`target(n)` as a `SessionsClient` call."""
    if n % 5 != 4:
        sid = session_id(n)
        return lambda: client.get(id=sid)
    j = n // 5
    project, page = project_id(j % PROJECTS), j // PROJECTS + 1
    return lambda: client.list(project_id=project, page=page, size=2)


@dataclass(frozen=True)
class Exchange:
    """One request (a path under the API, with query) and the stand-in's answer."""

    method: str
    target: str  # e.g. "/sessions/sesh_bench000001" or "/sessions?project_id=...&page=2"
    status: int
    reason: str
    content_type: str
    body: bytes

    @property
    def url(self) -> str:
        return API + self.target


def fetch(server: Any, targets: Iterable[str]) -> list[Exchange]:
    """GET each target from the stand-in (plain requests) and keep the answers."""
    import requests

    out = []
    with requests.Session() as http:
        for target in targets:
            response = http.get(
                server.base_url + target,
                headers={"X-API-KEY": server.api_key, "Accept": "application/json"},
            )
            out.append(
                Exchange(
                    "GET",
                    target,
                    response.status_code,
                    response.reason,
                    response.headers.get("Content-Type", "application/json"),
                    response.content,
                )
            )
    return out


def save_exchanges(path: Path, exchanges: Sequence[Exchange]) -> Path:
    """The exchanges as JSON rows (the body in base64), for another process to serve or
    replay: `load_exchanges` reads them back."""
    import base64

    rows = [
        [e.target, e.status, e.reason, e.content_type, base64.b64encode(e.body).decode()]
        for e in exchanges
    ]
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def load_exchanges(path: Path) -> list[Exchange]:
    import base64

    rows = json.loads(path.read_text(encoding="utf-8"))
    return [Exchange("GET", t, s, r, ct, base64.b64decode(b)) for t, s, r, ct, b in rows]


def hl_cassette_text(exchanges: Sequence[Exchange]) -> str:
    """The exchanges as an hl-testkit cassette (what recording would have written)."""
    from hl_testkit.cassettes import file as cassette_file
    from hl_testkit.cassettes.model import (
        CassetteData,
        Interaction,
        RecordedRequest,
        RecordedResponse,
    )

    interactions = [
        Interaction(
            RecordedRequest(e.method, e.url, {"Accept": "application/json"}, None),
            RecordedResponse(e.status, e.reason, {"Content-Type": e.content_type}, e.body),
        )
        for e in exchanges
    ]
    return cassette_file.dumps(CassetteData(interactions, "stand-in", "2026-01-01"))


def vcrpy_cassette_text(exchanges: Sequence[Exchange]) -> str:
    """The exchanges as a plain vcrpy cassette (its own YAML format)."""
    from vcr.request import Request
    from vcr.serialize import serialize
    from vcr.serializers import yamlserializer

    requests = [
        Request(e.method, e.url, None, {"Accept": "application/json", "X-API-KEY": "key"})
        for e in exchanges
    ]
    responses = [
        {
            "status": {"code": e.status, "message": e.reason},
            "headers": {"Content-Type": [e.content_type]},
            "body": {"string": e.body},
        }
        for e in exchanges
    ]
    return str(serialize({"requests": requests, "responses": responses}, yamlserializer))


def responses_data(exchanges: Sequence[Exchange]) -> list[dict[str, Any]]:
    """The exchanges as keyword arguments of `responses.add`."""
    return [
        {
            "method": e.method,
            "url": e.url,
            "body": e.body,
            "status": e.status,
            "content_type": e.content_type,
        }
        for e in exchanges
    ]


# -- running things ------------------------------------------------------------------------


def run(cmd: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Seconds `cmd` took; raises with its output when it fails."""
    return run_allowing(cmd, cwd, env, ())


def run_allowing(
    cmd: Sequence[str], cwd: Path, env: dict[str, str] | None, codes: Sequence[int]
) -> float:
    """Seconds `cmd` took; exit status 0 or one of `codes`, else it raises with the output."""
    t0 = time.perf_counter()
    done = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0 and done.returncode not in codes:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({done.returncode}) in {cwd}:\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return elapsed


def clean_env() -> dict[str, str]:
    """The environment for subprocess runs: no recording or API settings leak in.

    Bytecode caches on (PYTHONDONTWRITEBYTECODE dropped): installed packages
    (vcrpy, pytest-recording, responses) come with theirs, and an editable
    hl-testkit must not recompile its sources on every run where they would not.
    """
    env = dict(os.environ)
    for name in (
        "HL_RECORD_MODE",
        "HUMANLOOP_BASE_URL",
        "HUMANLOOP_API_KEY",
        "PYTEST_ADDOPTS",
        "PYTHONDONTWRITEBYTECODE",
    ):
        env.pop(name, None)
    return env


def python() -> str:
    return sys.executable


def dump_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def show(section: dict[str, Any]) -> str:
    """A section's title, table and targets, as printed and as written to the docs."""
    lines = [f"## {section['title']}", "", section["table"], ""]
    for name, ok, detail in section.get("targets", []):
        lines.append(f"- {VERDICTS[ok]}: {name} ({detail})")
    for note in section.get("notes", []):
        lines.append(f"- {note}")
    return "\n".join(lines).rstrip() + "\n"


# -- fair floors -----------------------------------------------------------------------------


def dict_adapter(exchanges: Sequence[Exchange], base_url: str = API) -> Any:
    """The replay floor: a requests transport adapter answering from a dict by URL.

    No matching beyond one dict lookup, no bookkeeping, no validation: what any
    replay through requests must at least cost (a `Response` built, requests'
    session machinery around it). Mount it on a session with `trust_env` off.
    """
    import requests
    from requests.adapters import BaseAdapter
    from requests.structures import CaseInsensitiveDict

    answers = {base_url + e.target: e for e in exchanges}

    class DictAdapter(BaseAdapter):  # type: ignore[misc]
        def send(self, request: Any, **kwargs: Any) -> Any:
            e = answers[request.url]
            response = requests.Response()
            response.status_code, response.reason, response.url = e.status, e.reason, request.url
            response.headers = CaseInsensitiveDict(
                {"Content-Type": e.content_type, "Content-Length": str(len(e.body))}
            )
            response._content, response.request = e.body, request
            return response

        def close(self) -> None:
            pass

    return DictAdapter()


def responses_one_callback(exchanges: Sequence[Exchange]) -> Any:
    """`responses` as a fair floor: ONE regex registration whose callback looks the
    answer up in a dict (one registration per URL would make `responses` scan its
    whole list on every call, O(N) by itself)."""
    import re

    import responses

    answers = {e.url: e for e in exchanges}
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)

    def callback(request: Any) -> tuple[int, dict[str, str], bytes]:
        e = answers[request.url]
        return e.status, {"Content-Type": e.content_type}, e.body

    mock.add_callback("GET", re.compile(re.escape(API) + "/.*"), callback=callback)
    return mock


SERVER_CODE = r"""
import base64, json, socket, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

answers = {
    t: (s, r, ct, base64.b64decode(b)) for t, s, r, ct, b in json.load(open(sys.argv[1]))
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the live API

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self):
        status, reason, content_type, body = answers[self.path[len("/v4"):]]
        self.send_response(status, reason)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
"""


class OutOfProcessServer:
    """The exchanges served by another process over loopback: keep-alive, Nagle off.

    Recording is compared with plain requests to this server: an in-process
    server shares the test's interpreter lock and flatters the ratio.
    """

    def __init__(
        self, exchanges: Sequence[Exchange], workdir: Path, prefix: Sequence[str] = ()
    ) -> None:
        """`prefix`: a command the server runs under (valgrind, to count its instructions)."""
        data = save_exchanges(workdir / "exchanges.json", exchanges)
        self.process = subprocess.Popen(
            [*prefix, python(), "-c", SERVER_CODE, str(data)], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        port = int(self.process.stdout.readline())
        self.base_url = f"http://127.0.0.1:{port}/v4"
        self.api_key = "hl_sk_bench_server"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
