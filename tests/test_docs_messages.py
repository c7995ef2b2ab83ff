"""Every message quoted in README.md and docs/*.md is one the program prints.

The convention: a fenced block tagged ```` ```text message ```` quotes output. The
block must appear, line by line and in order, in the output of one of the runs
below (real pytest and `hl-testkit` runs in scratch projects), where

- `<lowercase words>` (`<cassette>`, `<tmp>`, `<node id>`) stands for any text
  within the line; uppercase ones (`<HUMANLOOP_API_KEY>`) are literal;
- a line `...` stands for any number of lines.

So a change of wording fails this test until the docs say the same. An untagged
block must be one of the few listed in `NOT_YET_PRODUCED` (output that needs a
situation this file does not build yet): a new untagged block fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import other_plugins

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BIN = Path(sys.executable).parent
_FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.S | re.M)

#: Untagged blocks (doc, first line) still to be given a producing run here.
NOT_YET_PRODUCED = {
    ("scenarios.md", "_____________________________ scenario list_pages[last] __________"),
    ("troubleshooting.md", "a br (brotli) encoded body cannot be checked for secrets: install "),
    ("troubleshooting.md", "cassette <path>: could not take its lock <path>.lock within 30s; a"),
    ("troubleshooting.md", "hl-testkit refused to write <path>: it would hold HUMANLOOP_API_KE"),
    ("troubleshooting.md", "hl-testkit's JSON Schemas are missing: neither <pkg>/_schemas (ins"),
    ("troubleshooting.md", "test_env.hl.yaml:13: scenario 'mismatch', step 1 (get): the respon"),
}

#: Untagged blocks (doc, first line) whose wording another test compares, by test.
CHECKED_ELSEWHERE = {
    ("drift.md", "---------------------------------- hl-testkit --------------------"): (
        "test_plugin_diff.py::test_the_summary_quoted_in_the_docs_is_what_a_run_prints"
    ),
    (
        "drift.md",
        "hl-testkit diff: HEAD → working tree",
    ): "test_diff.py::test_the_example_in_the_docs_is_what_diff_prints",
    ("troubleshooting.md", "  cassette: <cassette> (9 interactions, record mode none)"): (
        "test_plugin_shared_cassettes.py::test_a_request_only_another_test_recorded_is_a_miss_naming_it"
    ),
    ("troubleshooting.md", "  drift: <cassette>, interaction 0: GET /sessions/sesh_demo -> 200"): (
        "test_plugin_schema.py::test_strict_rules_are_drift_unless_the_strict_profile_is_asked_for"
    ),
    ("troubleshooting.md", "@pytest.mark.hl_cassette(name='a\\x00b'): a cassette name is a non-"): (
        "test_hostile_cassettes.py::test_a_marker_name_with_nul_is_a_clear_error"
    ),
    ("troubleshooting.md", "hl-testkit blocked a ctypes lookup of the C function connect() whi"): (
        "test_network_bypass.py::test_every_bypass_fails_with_the_guards_message"
    ),
}


def blocks() -> Iterator[tuple[str, int, str, str]]:
    """(doc, line, info string, text) of every fenced block."""
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            yield doc.name, line, match.group(1).strip(), match.group(2)


MESSAGES = [(doc, line, text) for doc, line, info, text in blocks() if info == "text message"]


def _line_pattern(line: str) -> re.Pattern[str]:
    parts = re.split(r"(<[a-z][a-z _-]*>)", line.rstrip())
    return re.compile(
        "".join(".+?" if re.fullmatch(r"<[a-z][a-z _-]*>", p) else re.escape(p) for p in parts)
    )


def quoted_in(block: str, output: str) -> bool:
    """Does `output` hold `block`'s lines, in order, contiguous but for `...` lines?"""
    wanted = [None if line.strip() == "..." else _line_pattern(line) for line in block.splitlines()]
    lines = [line.rstrip() for line in output.splitlines()]

    def from_here(w: int, o: int) -> bool:
        if w == len(wanted):
            return True
        pattern = wanted[w]
        if pattern is None:
            return any(from_here(w + 1, k) for k in range(o, len(lines) + 1))
        return o < len(lines) and bool(pattern.fullmatch(lines[o])) and from_here(w + 1, o + 1)

    return any(from_here(0, start) for start in range(len(lines)))


# -- the runs --------------------------------------------------------------------------------


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUMANLOOP_", "HL_"))}
    env["PYTEST_ADDOPTS"] = other_plugins.addopts()  # not the outside one: only ours
    env.pop("PYTHONUNBUFFERED", None)  # stdout and stderr interleave as on a pipe
    return {**env, "PATH": f"{BIN}{os.pathsep}{env['PATH']}", "COLUMNS": "80", **extra}


def _run(args: list[str], cwd: Path, **env: str) -> str:
    done = subprocess.run(
        args,
        cwd=cwd,
        env=_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one stream, in the order written, as on a terminal
        text=True,
        timeout=120,
        check=False,
    )
    return done.stdout


def _pytest(cwd: Path, *args: str, **env: str) -> str:
    return _run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd, **env)


def _project(root: Path, files: dict[str, str], ini: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pytest.ini").write_text(f"[pytest]\n{ini}", encoding="utf-8")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


RECORDED = """
    def test_y(sessions):
        sessions.get(id="sesh_demo")
        sessions.create()
        for page in (1, 2, 3):
            sessions.list(project_id="pr_demo", page=page, size=10)
        sessions.get(id="sesh_demo")

    def test_once(sessions):
        sessions.get(id="sesh_demo")

    def test_method(sessions):
        sessions.create()
"""

REPLAYED = """
    def test_y(sessions):
        sessions.list(project_id="pr_demo", page=4, size=10)

    def test_once(sessions):
        sessions.get(id="sesh_demo")
        sessions.get(id="sesh_demo")

    def test_method(sessions):
        sessions.get(id="sesh_demo")

    def test_new(sessions):
        sessions.list(project_id="pr_demo", page=1, size=10)

    def test_net(hl_cassette):
        import socket

        socket.create_connection(("127.0.0.1", 9))
"""


def _misses(root: Path) -> Iterator[str]:
    project = _project(root, {"tests/test_x.py": RECORDED}, "hl_record_mode = once\n")
    yield _pytest(project)  # the header of configuration.md
    (project / "tests" / "test_x.py").write_text(textwrap.dedent(REPLAYED), encoding="utf-8")
    yield _pytest(project, "--hl-record-mode=none")


BAD_SETTINGS: list[tuple[str, dict[str, str], tuple[str, ...]]] = [
    ("hl_max_cassette_age = 30 days\n", {}, ()),
    ("hl_on_expired = ignore\n", {}, ()),
    ("hl_record_mode = replay\n", {}, ()),
    ("", {"HL_RECORD_MODE": "replay"}, ()),
    ("", {}, ("--hl-record-mode=replay",)),
    ("hl_strict = maybe\n", {}, ()),
    ("hl_schema_strict = maybe\n", {}, ()),
    ("hl_schema_dir = nope\n", {}, ()),
    ("hl_routes =\n    GET /projects/{id} 200 project\n", {}, ()),
]


def _settings(root: Path) -> Iterator[str]:
    for n, (ini, env, args) in enumerate(BAD_SETTINGS):
        project = _project(root / str(n), {"test_it.py": "def test_it():\n    pass\n"}, ini)
        yield _pytest(project, *args, **env)


MARKERS = """
    import pytest

    @pytest.mark.hl_cassette(nmae="x")
    def test_typo(sessions):
        pass

    @pytest.mark.hl_cassette(name=42)
    def test_not_a_name(sessions):
        pass

    @pytest.mark.hl_cassette("shared", "once")
    def test_two_positionals(sessions):
        pass

    @pytest.mark.hl_cassette(name="../../../outside")
    def test_outside(sessions):
        pass

    @pytest.mark.hl_cassette(record_mode="bogus")
    def test_bad_mode(sessions):
        pass

    @pytest.mark.hl_cassette(record_mode="once")
    def test_no_cassette():
        pass
"""

FIXTURE = """
    import pytest

    @pytest.fixture(scope="module")
    def hl_vcr_config():
        return {"serializer": "json", "match_on": ["uri"]}

    def test_it(hl_cassette):
        pass
"""


def _markers(root: Path) -> Iterator[str]:
    project = _project(root, {"tests/test_x.py": MARKERS, "tests/test_fixture.py": FIXTURE})
    yield _pytest(project, "tests/test_x.py")
    # Refused where the cassette would be written; mode once (typed) wins over the marker's.
    yield _pytest(project, "tests/test_x.py", "--hl-record-mode=once", "-k", "outside")
    yield _pytest(project, "tests/test_fixture.py")
    (project / "tests" / "test_fixture.py").write_text(
        textwrap.dedent(FIXTURE).replace(
            '"serializer": "json", "match_on": ["uri"]', '"record_mode": "bogus"'
        ),
        encoding="utf-8",
    )
    yield _pytest(project, "tests/test_fixture.py")


BAD_SCENARIOS = """\
scenarios:
  - name: x
    steps:
      - create: {}
        save: {session_id: body.id}
      - get: {id: "{session_id}"}
        expcet: {status: 200}
      - delete: {id: "{session_id}"}
      - get: {}
  - name: y
    steps:
      - get: {id: "{session_id}"}
  - name: quoted
    steps:
      - create: {}
        expect: {status: "201"}
"""

ENV_SCENARIO = """\
vars:
  size: {env: HL_SIZE, default: 10}
scenarios:
  - name: sized
    steps:
      - list: {project_id: pr_demo, size: "{size}"}
"""


def _scenarios(root: Path) -> Iterator[str]:
    project = _project(root / "bad", {"test_bad.hl.yaml": BAD_SCENARIOS})
    yield _pytest(project)
    # docs/scenarios.md's file: the same mistakes, scenario y described, none quoted.
    typo = BAD_SCENARIOS.split("  - name: quoted")[0].replace(
        "  - name: y\n", "  - name: y\n    description: a step before any save\n"
    )
    yield _pytest(_project(root / "typo", {"test_typo.hl.yaml": typo}))
    project = _project(root / "env", {"test_env.hl.yaml": ENV_SCENARIO})
    yield _pytest(project, "--hl-record-mode=once", HL_SIZE="abc")


AFTER_THE_RUN = """
    import socket

    import pytest

    def test_y(sessions):
        sessions.list(project_id="pr_demo", page=1, size=10)
        sessions.get(id="sesh_demo")

    def test_old(sessions):
        sessions.get(id="sesh_demo")

    @pytest.mark.hl_cassette(schema="nosuch")
    def test_unknown_schema(sessions):
        pass

    def test_create(sessions):
        sessions.create()

    def test_api_error(sessions):
        sessions.get(id="sesh_missing")

    def test_far_host():
        socket.create_connection(("93.184.216.34", 80))

    def test_name_lookup():
        socket.getaddrinfo("example.com", 443)
"""


def _after_the_run(root: Path) -> Iterator[str]:
    """Strict mode, an expired cassette, a broken body, the summary, blocked hosts."""
    ini = "hl_strict = true\nhl_max_cassette_age = 30d\nhl_on_expired = fail\n"
    project = _project(root, {"tests/test_x.py": AFTER_THE_RUN}, ini)
    yield _pytest(project, "--hl-record-mode=once", "-k", "not far and not lookup")
    test = project / "tests" / "test_x.py"
    test.write_text(
        textwrap.dedent(AFTER_THE_RUN).replace(
            '    sessions.get(id="sesh_demo")\n\ndef test_old', "\ndef test_old"
        ),
        encoding="utf-8",
    )
    cassettes = project / "cassettes" / "tests" / "test_x"
    old = cassettes / "test_old.yaml"
    old.write_text(re.sub(r"recorded_at: .*", "recorded_at: '2020-01-01'", old.read_text()))
    page = cassettes / "test_y.yaml"
    broken = re.sub(r"(\n {8}page:) 1", r"\1 one", page.read_text(encoding="utf-8"), count=1)
    broken = re.sub(r"(\n {8}total:) 23", r"\1 -1\n        extra_prop: 1", broken, count=1)
    page.write_text(broken, encoding="utf-8")
    cut = cassettes / "test_create.yaml"  # its last line cut short, as by a crashed copy
    cut.write_bytes(cut.read_bytes()[:-3])
    yield _pytest(project, "--hl-schema-strict")
    yield _run([str(BIN / "hl-testkit"), "scan", "cassettes"], project)


def _short_secret_and_schema_drift_while_recording(root: Path) -> Iterator[str]:
    short = (
        "from hl_testkit.secrets.scrub import DEFAULT_RULES; "
        "DEFAULT_RULES.extended(values={'X': 'X'})"
    )
    yield _run([sys.executable, "-c", short], REPO)
    # The API "changed": our schema for a created session now wants a field it lacks.
    schema = '{"type": "object", "required": ["nope"]}'
    files = {"my_schemas/session_created.json": schema, "tests/test_x.py": RECORDED}
    project = _project(root, files, "hl_schema_dir = my_schemas\n")
    yield _pytest(project, "--hl-record-mode=once", "-k", "test_method")


def _cli(root: Path) -> Iterator[str]:
    tree = root / "cassettes"
    tree.mkdir(parents=True)
    good = REPO / "cassettes/tests/test_recorded_sessions/test_list_every_page.yaml"
    (tree / "test_good.yaml").write_bytes(good.read_bytes())
    (tree / "test_bad.yaml").write_text("interactions: [unclosed\n", encoding="utf-8")
    for args in (["bogus"], ["check", "cassettes"], ["ls", "cassettes"]):
        yield _run([str(BIN / "hl-testkit"), *args], root)
    # A real key's value, an sk- key and a random token, one per line.
    leaky = root / "leaky" / "cassettes" / "tests" / "test_x" / "test_y.yaml"
    leaky.parent.mkdir(parents=True)
    leaky.write_text(
        "interactions:\n  key: hl_sk_0123456789abcdefREAL\n"
        "  other: sk-proj-4f9Qz8LmN2xR7tVb1KcW3yHs\n"
        '  foo_token: "q8ZxL2mV9rT4nB7cK1wY5pF3hJ6dS0gA"\n',
        encoding="utf-8",
    )
    scan = [str(BIN / "hl-testkit"), "scan", "cassettes"]
    yield _run(scan, root / "leaky", HUMANLOOP_API_KEY="hl_sk_0123456789abcdefREAL")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """What the program prints in every situation the docs quote (about 30 runs)."""
    root = tmp_path_factory.mktemp("messages")
    found: list[str] = []
    for name, runs in (
        ("misses", _misses),
        ("settings", _settings),
        ("markers", _markers),
        ("scenarios", _scenarios),
        ("cli", _cli),
        ("after", _after_the_run),
        ("recording", _short_secret_and_schema_drift_while_recording),
    ):
        found += runs(root / name)
    return found


# -- the tests -------------------------------------------------------------------------------


def test_the_docs_quote_messages() -> None:
    assert len(MESSAGES) >= 10
    assert {doc for doc, _, _ in MESSAGES} >= {"README.md", "troubleshooting.md"}


@pytest.mark.parametrize(
    ("doc", "line", "block"), MESSAGES, ids=[f"{doc}:{line}" for doc, line, _ in MESSAGES]
)
def test_a_quoted_message_is_what_the_program_prints(
    doc: str, line: int, block: str, outputs: list[str]
) -> None:
    if not any(quoted_in(block, output) for output in outputs):
        pytest.fail(
            f"{doc}:{line}: no run prints this block; fix the doc (or the program), "
            f"or add the situation to tests/test_docs_messages.py:\n{block}\n"
            + "\n".join(f"--- run {n} ---\n{o[-3000:]}" for n, o in enumerate(outputs))
        )


def test_every_untagged_block_is_a_known_exception() -> None:
    untagged = {
        (doc, text.splitlines()[0][:66]) for doc, _, info, text in blocks() if not info and text
    }
    new = untagged - NOT_YET_PRODUCED - set(CHECKED_ELSEWHERE)
    assert not new, (
        f"untagged blocks {sorted(new)}: tag output the program prints ```text message (this "
        "file checks it), and anything else with its language (```sh, ```ini, ```python)"
    )
    assert not NOT_YET_PRODUCED - untagged, "tagged or gone: remove them from NOT_YET_PRODUCED"
    assert not set(CHECKED_ELSEWHERE) - untagged, "tagged or gone: remove from CHECKED_ELSEWHERE"


@pytest.mark.parametrize("where", sorted(set(CHECKED_ELSEWHERE.values())))
def test_the_tests_that_check_untagged_blocks_exist(where: str) -> None:
    path, name = where.split("::")
    assert f"def {name}" in (REPO / "tests" / path).read_text(encoding="utf-8"), where


def test_the_matcher_can_fail() -> None:
    assert quoted_in("a <path> b\n...\nend", "x\na /tmp/q b\nmore\nend\n")
    assert not quoted_in("a <path> b\nend", "a /tmp/q b\nmore\nend\n")
    assert not quoted_in("<HUMANLOOP_API_KEY>", "secret\n")
