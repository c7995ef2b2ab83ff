"""What a pytest process loads and does before its first test: only what it needs.

Every process imports the plugin, and in `pytest_configure` the run's state and the
output guard; an xdist controller runs no test, so it reads no cassette and loads no
YAML. Imports are checked in fresh interpreters (this one has loaded everything).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hl_testkit.secrets import scrub
from hl_testkit.secrets.scrub import ScrubError, Secret, scrub_body

NEVER_AT_START = {"yaml", "brotli", "hl_testkit.cassettes.file", "hl_testkit.cassettes.store"}


def modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code`."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_the_plugin_and_the_output_guard_load_no_yaml_nor_brotli() -> None:
    loaded = modules_after("import hl_testkit.plugin, hl_testkit.secrets.output_guard")
    assert "hl_testkit.secrets.scrub" in loaded
    assert loaded & NEVER_AT_START == set()


def test_reading_a_cassette_still_loads_yaml() -> None:
    # The other side of the check above: `modules_after` sees what an import pulls in.
    assert "yaml" in modules_after("import hl_testkit.cassettes.file")


# -- brotli, looked up with the first br body ---------------------------------------------

KEY = "hl_sk_startup_0123456789abcdef"
SECRETS = [Secret("HUMANLOOP_API_KEY", KEY)]


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
