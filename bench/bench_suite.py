"""A generated 200-test suite under hl-testkit, pytest-recording and `responses`.

    .venv/bin/python bench/bench_suite.py [--quick] [--tests 200] [--runs 5]

Three projects, generated in a temporary directory, run the same 200 tests
(10 modules of 20), each making 3 requests (get a session, get another, list a
page) through the same `SessionsClient` and asserting on the answers. Each
tool answers from data frozen from the stand-in once:

  hl-testkit        the `sessions` fixture, one hl-testkit cassette per test,
                    replayed (record mode none), every body checked against its
                    JSON Schema (the default); `-p hl_testkit.plugin`
  pytest-recording  `@pytest.mark.vcr`, one vcrpy cassette per test,
                    `--record-mode=none`; `-p pytest_recording.plugin`
  responses         `@responses.activate` and 3 `responses.add` per test, bodies
                    in a Python module; no plugin

Plugin autoloading is off (PYTEST_DISABLE_PLUGIN_AUTOLOAD=1) and each tool
loads its own plugin (and xdist's) by name: a project where only that tool
is installed, not every plugin of this repository's venv (also measured once,
with -n 2). Wall time of whole `pytest -q` subprocesses, serial and with `-n 2`
(pytest-xdist), runs interleaved across the tools; one warm-up run each
first (so `__pycache__` is written). The floor of each tool under `-n 2`:
the same command on a project with no tests (a controller and two workers
start, load their plugins, find nothing and stop), in the same rounds. Plugin
import cost: `pytest --co -q` on a project with no tests, with hl-testkit's
plugin loaded and with no plugin.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

TOOLS = ("hl-testkit", "pytest-recording", "responses")
PER_MODULE = 20
#: `workers` of the floor runs: `-n 2` on the project with no tests.
FLOOR = -2
#: `workers` of the runs with every installed plugin autoloaded: `-n 2`, hl-testkit and
#: pytest-recording (how the earlier figures were taken, in this repository's venv).
AUTOLOAD = -3

CONFTEST_CLIENT = """
import pytest

from hl_testkit.client import SessionsClient

API = "https://api.humanloop.com/v4"


@pytest.fixture
def sessions():
    with SessionsClient("key", base_url=API) as client:
        yield client
"""

TEST_BODY = """
    first = sessions.get(id="{a}").body
    assert first["id"] == "{a}"
    second = sessions.get(id="{b}").body
    assert second["id"] == "{b}"
    page = sessions.list(project_id="{project}", page={page}, size=2).body
    assert page["page"] == {page} and len(page["records"]) == 2
"""


def _calls(t: int) -> tuple[int, int, int]:
    """Test t's requests, as indexes for `_common.target` (two gets and a list page)."""
    return 5 * t, 5 * t + 1, 5 * t + 4


def _test_fields(t: int) -> dict[str, Any]:
    a, b, listed = _calls(t)
    j = listed // 5
    return {
        "a": c.session_id(a),
        "b": c.session_id(b),
        "project": c.project_id(j % c.PROJECTS),
        "page": j // c.PROJECTS + 1,
    }


def generate(root: Path, tests: int, exchanges: dict[int, c.Exchange]) -> dict[str, Path]:
    """The three projects under `root`; returns tool -> project directory."""
    projects = {tool: root / tool for tool in TOOLS}
    modules = (tests + PER_MODULE - 1) // PER_MODULE
    for tool, project in projects.items():
        (project / "tests").mkdir(parents=True)
        (project / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n", encoding="utf-8")
        if tool != "hl-testkit":
            (project / "tests" / "conftest.py").write_text(CONFTEST_CLIENT, encoding="utf-8")
    data: dict[str, list[dict[str, Any]]] = {}
    for m in range(modules):
        name = f"test_gen{m:02d}"
        sources: dict[str, list[str]] = {tool: [] for tool in TOOLS}
        sources["hl-testkit"].append("")
        sources["pytest-recording"].append("import pytest\n")
        sources["responses"].append("import responses\n\nfrom _bench_data import DATA\n")
        for t in range(m * PER_MODULE, min(tests, (m + 1) * PER_MODULE)):
            fields = _test_fields(t)
            body = TEST_BODY.format(**fields)
            test = f"test_{t:04d}"
            used = [exchanges[k] for k in _calls(t)]
            sources["hl-testkit"].append(f"\ndef {test}(sessions):{body}")
            sources["pytest-recording"].append(f"\n@pytest.mark.vcr\ndef {test}(sessions):{body}")
            sources["responses"].append(
                f"\n@responses.activate\ndef {test}(sessions):\n"
                f"    for kwargs in DATA[{test!r}]:\n"
                f"        responses.add(**kwargs)\n{body}"
            )
            hl_path = projects["hl-testkit"] / "cassettes" / "tests" / name / f"{test}.yaml"
            hl_path.parent.mkdir(parents=True, exist_ok=True)
            hl_path.write_text(c.hl_cassette_text(used), encoding="utf-8")
            vcr_path = projects["pytest-recording"] / "tests" / "cassettes" / name / f"{test}.yaml"
            vcr_path.parent.mkdir(parents=True, exist_ok=True)
            vcr_path.write_text(c.vcrpy_cassette_text(used), encoding="utf-8")
            data[test] = [
                {**kw, "body": kw["body"].decode("utf-8")} for kw in c.responses_data(used)
            ]
        for tool in TOOLS:
            path = projects[tool] / "tests" / f"{name}.py"
            path.write_text("\n".join(sources[tool]), encoding="utf-8")
    (projects["responses"] / "tests" / "_bench_data.py").write_text(
        f"DATA = {json.dumps(data, indent=1)}\n", encoding="utf-8"
    )
    empty = root / "empty"
    (empty / "tests").mkdir(parents=True)
    (empty / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n", encoding="utf-8")
    projects["empty"] = empty
    return projects


#: Each tool's pytest plugin: (its module, loaded by name when autoloading is off; its
#: entry point's name, switched off by name for the other tools when autoloading is on).
PLUGINS = {
    "hl-testkit": ("hl_testkit.plugin", "hl_testkit"),
    "pytest-recording": ("pytest_recording.plugin", "recording"),
}
#: What each tool is run with, either way.
OPTIONS = {"pytest-recording": ["--record-mode=none"]}


def command(tool: str, workers: int, autoload: bool = False) -> list[str]:
    """`pytest` for `tool`: by default with plugin autoloading off and only the tool's own
    plugin (and xdist's for -n) loaded, as in a project where only that tool is installed
    (`responses` has none: `@responses.activate` in the tests); `autoload` loads every
    plugin installed here (schemathesis, hypothesis, anyio, ...), the other tools' switched
    off by name."""
    cmd = [c.python(), "-m", "pytest", "-q", "-p", "no:cacheprovider", *OPTIONS.get(tool, [])]
    if autoload:
        others = [name for other, (_, name) in PLUGINS.items() if other != tool]
        cmd += [arg for name in others for arg in ("-p", f"no:{name}")]
    else:
        if tool in PLUGINS:
            cmd += ["-p", PLUGINS[tool][0]]
        if workers:
            cmd += ["-p", "xdist.plugin"]
    cmd += ["-n", str(workers)] if workers else ["-p", "no:xdist"]
    return cmd


def autoload_env(env: dict[str, str], autoload: bool) -> dict[str, str]:
    out = dict(env)
    if autoload:
        out.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    else:
        out["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return out


def run(quick: bool = False, tests: int = 200, runs: int | None = None) -> dict[str, Any]:
    from hl_testkit.standin import StandinServer

    runs = runs or (3 if quick else 11)  # 7 made the interval the whole range; 11 drops 2 a side
    env = c.clean_env()
    needed = sorted({k for t in range(tests) for k in _calls(t)})
    with tempfile.TemporaryDirectory(prefix="hl-bench-suite-") as tmp:
        server = StandinServer(seed=c.bench_seed(max(needed) + 1)).start()
        try:
            fetched = c.fetch(server, [c.target(k) for k in needed])
        finally:
            server.stop()
        exchanges = dict(zip(needed, fetched, strict=True))
        projects = generate(Path(tmp), tests, exchanges)

        configs = [(tool, workers) for workers in (0, 2) for tool in TOOLS]
        floors = [(tool, FLOOR) for tool in TOOLS]  # no tests, -n 2: exit status 5
        floors += [(tool, AUTOLOAD) for tool in TOOLS[:2]]
        stats = {config: c.Stat() for config in configs + floors}
        alone, everything = autoload_env(env, False), autoload_env(env, True)

        def once(tool: str, workers: int) -> float:
            if workers == FLOOR:
                return c.run_allowing(command(tool, 2), projects["empty"], alone, (5,))
            if workers == AUTOLOAD:
                return c.run(command(tool, 2, autoload=True), projects[tool], everything)
            return c.run(command(tool, workers), projects[tool], alone)

        for config in configs + floors:  # warm-up: bytecode caches, and a check that it passes
            once(*config)
        for r in range(runs):
            for config in configs + floors if r % 2 == 0 else reversed(configs + floors):
                stats[config].samples.append(once(*config))
            print(f"  suite run {r + 1}/{runs}: done", file=sys.stderr)

        # Plugin import cost: collecting nothing, with and without hl-testkit.
        base = [c.python(), "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider"]
        loaded = [*base, "-p", PLUGINS["hl-testkit"][0]]
        imports = {"with hl-testkit": c.Stat(), "without": c.Stat()}
        empty = projects["empty"]
        for _ in range(2):  # warm up
            c.run_allowing(loaded, empty, alone, codes=(5,))
        for _ in range(max(5, runs * 2)):
            imports["with hl-testkit"].samples.append(c.run_allowing(loaded, empty, alone, (5,)))
            imports["without"].samples.append(c.run_allowing(base, empty, alone, (5,)))
    return report(stats, imports, tests)


def report(
    stats: dict[tuple[str, int], c.Stat], imports: dict[str, c.Stat], tests: int
) -> dict[str, Any]:
    rows = []
    for workers in (0, 2):
        base = stats[("pytest-recording", workers)]
        for tool in TOOLS:
            s = stats[(tool, workers)]
            rows.append(
                [
                    "serial" if not workers else f"-n {workers}",
                    tool,
                    c.cell(s, c.fmt_s),
                    c.ratio(s, base),
                ]
            )
    for tool in TOOLS:
        floor = stats[(tool, FLOOR)]
        rows.append(["-n 2, no tests (floor)", tool, c.cell(floor, c.fmt_s), ""])
    for tool in TOOLS[:2]:
        s = stats[(tool, AUTOLOAD)]
        base = stats[("pytest-recording", AUTOLOAD)]
        rows.append(["-n 2, every plugin here", tool, c.cell(s, c.fmt_s), c.ratio(s, base)])
    with_hl, without = imports["with hl-testkit"], imports["without"]
    rows.append(["`pytest --co -q`, no tests", "with hl-testkit", c.cell(with_hl, c.fmt_s), ""])
    rows.append(["`pytest --co -q`, no tests", "no plugin", c.cell(without, c.fmt_s), ""])

    def versus(workers: int) -> float:
        return stats[("hl-testkit", workers)].median / stats[("pytest-recording", workers)].median

    cost = (with_hl.median - without.median) * 1e3
    ok, detail = c.verdict(  # each run's pair, taken one after the other
        c.paired(stats[("hl-testkit", 2)].samples, stats[("pytest-recording", 2)].samples), 0.75
    )

    def above_floor(tool: str) -> float:
        return stats[(tool, 2)].median - stats[(tool, FLOOR)].median

    floor_note = (
        "floor: each tool's `-n 2` command on a project with no tests (the controller and "
        "both workers start, load their plugins and stop); above it, with -n 2: "
        + ", ".join(f"{tool} {above_floor(tool):.2f} s" for tool in TOOLS)
        + f" (hl-testkit ÷ pytest-recording above the floor: "
        f"{above_floor('hl-testkit') / above_floor('pytest-recording'):.2f}x)"
        if above_floor("pytest-recording") > 0
        else "floor: each tool's `-n 2` command on a project with no tests"
    )
    return {
        "title": f"A generated {tests}-test suite (3 requests each), wall time of `pytest`",
        "table": c.table(["run", "tool", "wall time", "÷ pytest-recording"], rows),
        "targets": [
            (
                f"the {tests}-test suite under -n 2 ≤ 0.75x pytest-recording's wall time",
                ok,
                f"hl-testkit ÷ pytest-recording, medians {versus(2):.2f}x (serial: "
                f"{versus(0):.2f}x); {detail}",
            )
        ],
        "notes": [
            f"plugin import cost (with - without, medians): {cost:,.0f} ms",
            "each tool runs as in a project where only it is installed: plugin autoloading "
            "off (PYTEST_DISABLE_PLUGIN_AUTOLOAD=1), its own plugin and xdist's loaded by "
            "name. 'every plugin here' is the same -n 2 run with this repository's venv "
            "autoloading all its plugins (schemathesis, hypothesis, anyio: about 0.45 s of "
            "imports in each of the three processes, for every tool alike), how the figure "
            "was taken before; it is shown, not targeted",
            "with -n 2, xdist starts three processes (a controller and two workers) on two "
            "cores, each paying pytest's start-up before any test, and each worker imports "
            "vcrpy for both hl-testkit and pytest-recording (pytest-recording's also imports "
            "aiohttp and httpx, installed here, to patch them; hl-testkit's only when a test "
            "imports them): on a suite this short that fixed cost is most of the wall time, "
            "so the -n 2 ratio stays nearer 1 than the serial one",
            floor_note,
        ],
        "data": {
            **{_data_name(tool, w): s.as_data() for (tool, w), s in stats.items()},
            **{f"import {k}": s.as_data() for k, s in imports.items()},
        },
    }


def _data_name(tool: str, workers: int) -> str:
    if workers == FLOOR:
        return f"{tool} floor n=2"
    return f"{tool} autoload n=2" if workers == AUTOLOAD else f"{tool} n={workers}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    parser.add_argument("--tests", type=int, default=200)
    parser.add_argument("--runs", type=int, default=None)
    args = parser.parse_args(argv)
    print(c.show(run(args.quick, args.tests, args.runs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
