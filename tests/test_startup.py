"""What a pytest process loads and does before its first test: only what it needs.

Every process imports the plugin, and in `pytest_configure` the run's state and the
output guard; an xdist controller runs no test, so it reads no cassette and loads no
YAML. Imports are checked in fresh interpreters (this one has loaded everything).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hl_testkit.contract.schemas import SchemaSet
from hl_testkit.errors import HlTestkitError
from hl_testkit.recording.run import HlRun
from hl_testkit.secrets import scrub
from hl_testkit.secrets.scrub import ScrubError, Secret, scrub_body
from hl_testkit.settings import Settings

KEY = "hl_sk_startup_0123456789abcdef"
SECRETS = [Secret("HUMANLOOP_API_KEY", KEY)]
NEVER_AT_START = {
    "yaml",
    "brotli",
    "hl_testkit.cassettes.file",
    "hl_testkit.cassettes.store",
    "hl_testkit.secrets.layers",  # the leak guard's decoders: a save needs them, replay not
    "hl_testkit.contract.schemas",  # the schemas: with the first body checked
}


def modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code`."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_the_plugin_the_run_and_the_output_guard_load_no_yaml_nor_brotli() -> None:
    loaded = modules_after(
        "import hl_testkit.plugin, hl_testkit.recording.run, hl_testkit.secrets.output_guard"
    )
    assert {"hl_testkit.secrets.scrub", "hl_testkit.recording.run"} <= loaded
    assert loaded & NEVER_AT_START == set()


def test_reading_a_cassette_still_loads_yaml() -> None:
    # The other side of the check above: `modules_after` sees what an import pulls in.
    assert "yaml" in modules_after("import hl_testkit.cassettes.file")


def test_the_leak_guard_loads_its_decoders_when_it_first_looks() -> None:
    # In a fresh interpreter: a key gzipped, then base64-encoded, is still found by the
    # decoders (`layers`) that `find_leaks` loads on its first call.
    code = f"""
import base64, gzip, sys
from hl_testkit.secrets.scrub import Secret, find_leaks
before = "hl_testkit.secrets.layers" in sys.modules
hidden = base64.b64encode(gzip.compress({KEY!r}.encode())).decode()
leaks = find_leaks("ok\\n" + hidden, [Secret("HUMANLOOP_API_KEY", {KEY!r})])
print(before, [(leak.form, leak.line) for leak in leaks])
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split(" ", 1) == ["False", "[('base64 > gzip', 2)]\n"]


# -- brotli, looked up with the first br body ---------------------------------------------


def test_a_br_body_is_decoded_by_brotli_looked_up_on_first_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    brotli = pytest.importorskip("brotli")
    monkeypatch.setattr(scrub, "_BROTLI", scrub._NOT_LOOKED_UP)  # as in a fresh process
    body = f'{{"detail": "bad key {KEY}"}}'.encode()
    lazy = scrub_body(brotli.compress(body), {"Content-Encoding": "br"}, SECRETS)
    assert scrub._BROTLI is brotli
    # The same answer as the plain body's: the lazily found decoder is the real one.
    assert lazy == scrub_body(body, {}, SECRETS) == b'{"detail": "bad key <HUMANLOOP_API_KEY>"}'


def test_without_brotli_installed_a_br_body_is_still_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scrub, "_BROTLI", scrub._NOT_LOOKED_UP)
    monkeypatch.setitem(sys.modules, "brotli", None)  # `import brotli` raises ImportError
    monkeypatch.setitem(sys.modules, "brotlicffi", None)
    with pytest.raises(ScrubError, match="install the brotli package"):
        scrub_body(b"\x8b\x02\x80", {"Content-Encoding": "br"}, SECRETS)
    assert scrub._BROTLI is None


# -- the xdist controller -------------------------------------------------------------------

PROBE = """
import json, os, sys


def pytest_unconfigure(config):
    who = getattr(config, "workerinput", {}).get("workerid", "controller")
    with open(os.path.join(os.environ["HL_PROBE_DIR"], who + ".json"), "w") as out:
        json.dump(sorted(sys.modules), out)
"""

ONE_REPLAY = """
def test_get(sessions):
    assert sessions.get(id="sesh_startup").body["id"] == "sesh_startup"


def test_plain():
    pass
"""

CASSETTE = """\
format: hl-testkit-cassette/2
recorded_against: stand-in
interactions:
- request:
    method: GET
    uri: https://api.humanloop.com/v4/sessions/sesh_startup
    headers: {}
    body: null
  response:
    status: 200
    reason: OK
    headers:
      Content-Type: application/json
    body:
      json:
        id: sesh_startup
        projects: []
        datapoints_count: 0
        created_at: '2024-01-01T00:00:00Z'
"""


def _leftovers(folder: Path) -> list[Path]:
    """A killed writer's temp file and lock file, old enough to be removed."""
    made = [folder / ".test_get.yaml.x1.hl-tmp", folder / "gone.yaml.lock"]
    for path in made:
        path.write_text("left behind", encoding="utf-8")
        old = time.time() - 3600
        os.utime(path, (old, old))
    return made


def test_the_controller_loads_no_yaml_and_the_workers_still_clean_up(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("xdist")
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HUMANLOOP_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    probes = pytester.mkdir("probes")
    monkeypatch.setenv("HL_PROBE_DIR", str(probes))
    # Only the plugins named below: others installed here (schemathesis, ...) load YAML.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    # The probe plugin importable by the controller and by each worker.
    monkeypatch.setenv("PYTHONPATH", str(pytester.path))
    pytester.makepyfile(hl_probe=PROBE, test_startup=ONE_REPLAY)
    folder = pytester.path / "cassettes" / "test_startup"
    folder.mkdir(parents=True)
    (folder / "test_get.yaml").write_text(CASSETTE, encoding="utf-8")
    leftovers = _leftovers(folder)

    result = pytester.runpytest_subprocess(
        "-p", "hl_testkit.plugin", "-p", "xdist.plugin", "-p", "hl_probe", "-n", "2"
    )

    result.assert_outcomes(passed=2)
    loaded = {
        probe.stem: set(json.loads(probe.read_text(encoding="utf-8"))) for probe in probes.iterdir()
    }
    assert set(loaded) == {"controller", "gw0", "gw1"}
    assert "hl_testkit.secrets.output_guard" in loaded["controller"]
    assert loaded["controller"] & NEVER_AT_START == set()
    # The worker that replayed the cassette read it (with YAML), as before.
    assert any("yaml" in modules for who, modules in loaded.items() if who != "controller")
    # The controller no longer removes a killed writer's leftovers: its workers do.
    assert [path for path in leftovers if path.exists()] == []


@pytest.mark.parametrize(
    "args",
    [["-p", "no:xdist"], ["-n", "0"], ["--dist", "load"]],  # the last two: xdist, no worker
    ids=["no xdist", "-n 0", "--dist without workers"],
)
def test_a_process_that_runs_the_tests_cleans_up(
    pytester: pytest.Pytester, args: list[str]
) -> None:
    pytester.makepyfile(test_startup=ONE_REPLAY)
    folder = pytester.path / "cassettes" / "test_startup"
    folder.mkdir(parents=True)
    (folder / "test_get.yaml").write_text(CASSETTE, encoding="utf-8")
    leftovers = _leftovers(folder)
    pytester.runpytest(*args).assert_outcomes(passed=2)
    assert [path for path in leftovers if path.exists()] == []


# -- the built-in schemas, built with the first body checked -------------------------------


@pytest.mark.parametrize("profile", ["default", "strict"])
def test_the_built_in_schemas_wait_for_first_use_and_are_the_set_start_built(
    tmp_path: Path, profile: str
) -> None:
    settings = Settings("none", "default", False, tmp_path, None, None, (), schema_profile=profile)
    run = HlRun.start(settings, runs_tests=False)
    try:
        assert run.built_schemas is None  # nothing of the user's to check at start
        # What `start` built before: the process's one built-in set of the profile.
        assert run.schemas is SchemaSet.default(profile)
        assert run.schemas is run.built_schemas
    finally:
        run.stop()


def test_a_users_routes_are_checked_at_start(tmp_path: Path) -> None:
    bad = ("GET /projects/{id} 200 project",)  # no schema named project
    settings = Settings("none", "default", False, tmp_path, None, None, (), routes=bad)
    with pytest.raises(HlTestkitError, match="no schema named 'project'"):
        HlRun.start(settings, runs_tests=False)
