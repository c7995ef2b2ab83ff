"""vcrpy is loaded without the optional HTTP clients a process has not imported
(`hl_testkit.recording.lazy_clients`), and each is patched when it arrives.

Every run here is a fresh process (or pytester's in-process run with the
library taken out of `sys.modules`), so "first import" is a real first import.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests import test_aiohttp_compressed as compressed
from tests.json_api import json_api

CLIENTS = ("httpx", "aiohttp")
compressed_api = compressed.compressed_api  # its loopback API, a fixture here too


@pytest.fixture
def api() -> Iterator[tuple[str, list[str]]]:
    """A loopback JSON API answering `{"path": ...}`; yields its base URL and the paths asked."""
    asked: list[str] = []

    def answer(request: BaseHTTPRequestHandler) -> object:
        asked.append(request.path)
        return {"path": request.path}

    with json_api(answer) as base:
        yield base, asked


@pytest.fixture(autouse=True)
def _no_live_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HUMANLOOP_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def _alone(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str
) -> pytest.RunResult:
    """A subprocess where only hl-testkit's and xdist's plugins load (no plugin of this
    venv that imports httpx or aiohttp itself)."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    plugins = ("-p", "hl_testkit.plugin", "-p", "xdist.plugin", "-p", "no:cacheprovider")
    return pytester.runpytest_subprocess(*plugins, *args, timeout=120)


GET = """
import asyncio
import sys

BASE = {base!r}
LIB = {lib!r}


def get(path):
    if LIB == "httpx":
        import httpx

        with httpx.Client() as client:
            return client.get(BASE + path).json()
    import aiohttp

    async def fetch():
        async with aiohttp.ClientSession() as session:
            async with session.get(BASE + path) as response:
                return await response.json()

    return asyncio.run(fetch())
"""


def _recorded_paths(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [urlsplit(interaction["request"]["uri"]).path for interaction in data["interactions"]]


# -- a requests-only worker ----------------------------------------------------------------


REQUESTS_ONLY = """
import sys

import pytest
import requests

BASE = {base!r}


@pytest.mark.parametrize("n", range(4))
def test_requests(hl_cassette, n):
    assert requests.get(f"{{BASE}}/only/{{n}}").json() == {{"path": f"/v4/only/{{n}}"}}
    assert "vcr" in sys.modules  # vcrpy is loaded and active ...
    assert "aiohttp" not in sys.modules and "httpx" not in sys.modules  # ... without them
"""


def test_a_worker_using_only_requests_never_imports_aiohttp_or_httpx(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, api: tuple[str, list[str]]
) -> None:
    base, asked = api
    pytester.makepyfile(test_only=REQUESTS_ONLY.format(base=base))
    _alone(pytester, monkeypatch, "-n", "2", "--hl-record-mode=once").assert_outcomes(passed=4)
    assert sorted(asked) == [f"/v4/only/{n}" for n in range(4)]
    asked.clear()
    _alone(pytester, monkeypatch, "-n", "2").assert_outcomes(passed=4)  # replayed
    assert asked == []


# -- first imported inside a test, with the cassette active ----------------------------------


INSIDE = (
    GET
    + """

def test_inside(hl_cassette):
    {precondition}
    assert get({path!r}) == {{"path": "/v4" + {path!r}}}


def test_after():
    # No cassette: vcrpy's patches are off, the real method reaches the real server.
    import vcr.patch

    if LIB == "httpx":
        import httpx

        assert httpx.HTTPTransport.handle_request is vcr.patch._HttpxHttpTransport_handle_request
        assert not hasattr(httpx.HTTPTransport.handle_request, "__wrapped__")
    else:
        import aiohttp

        assert aiohttp.ClientSession._request is vcr.patch._AiohttpClientSessionRequest
        assert not hasattr(aiohttp.ClientSession._request, "__wrapped__")
    assert get("/after") == {{"path": "/v4/after"}}
"""
)


FIRST_IMPORT = "assert LIB not in sys.modules  # its first import is in get(), cassette active"


def _inside(base: str, lib: str, path: str, precondition: str = FIRST_IMPORT) -> str:
    return INSIDE.format(base=base, lib=lib, path=path, precondition=precondition)


@pytest.mark.parametrize("lib", CLIENTS)
def test_a_client_first_imported_inside_a_test_records_replays_and_misses(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    api: tuple[str, list[str]],
    lib: str,
) -> None:
    base, asked = api
    pytester.makepyfile(test_inside=_inside(base, lib, "/first"))
    _alone(pytester, monkeypatch, "--hl-record-mode=once").assert_outcomes(passed=2)
    assert asked == ["/v4/first", "/v4/after"]
    cassette = pytester.path / "cassettes" / "test_inside" / "test_inside.yaml"
    assert _recorded_paths(cassette) == ["/v4/first"]

    asked.clear()
    _alone(pytester, monkeypatch, "test_inside.py::test_inside").assert_outcomes(passed=1)  # replay
    assert asked == []  # answered by the cassette, the network closed

    pytester.makepyfile(test_inside=_inside(base, lib, "/second"))
    missed = _alone(pytester, monkeypatch, "test_inside.py::test_inside")
    missed.assert_outcomes(failed=1)
    missed.stdout.fnmatch_lines(["*the cassette has no answer for this request*", "*/second*"])
    assert asked == []


NESTED = """
import sys

import hl_testkit.recording.vcr_cassette  # vcrpy loaded here, in the outer process

LIB = {lib!r}
RUN = ("-p", "hl_testkit.plugin", "-p", "no:cacheprovider")


def test_two_in_process_runs(pytester):
    assert LIB not in sys.modules
    pytester.makepyfile(test_inside={inside!r})
    pytester.runpytest("--hl-record-mode=once", *RUN).assert_outcomes(passed=2)
    assert LIB not in sys.modules  # dropped by pytester: the next run imports it again
    pytester.runpytest(*RUN).assert_outcomes(passed=2)  # replay
"""


@pytest.mark.parametrize("lib", CLIENTS)
def test_a_client_imported_again_in_process_is_patched_again(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    api: tuple[str, list[str]],
    lib: str,
) -> None:
    """pytester's in-process runs drop what they imported: in a process where vcrpy is
    loaded, the second run imports the library again (a new module, new classes), first
    inside a test each time. (In a fresh process: this one's vcrpy may be eager.)"""
    base, asked = api
    pytester.makepyfile(test_nested=NESTED.format(lib=lib, inside=_inside(base, lib, "/first")))
    _alone(pytester, monkeypatch, "-p", "pytester").assert_outcomes(passed=1)
    # Recorded, then replayed: only the requests made without a cassette reached it.
    assert asked == ["/v4/first", "/v4/after", "/v4/after"]


HELD_BACK = (
    "from hl_testkit.recording import lazy_clients; "
    "assert LIB not in sys.modules and LIB in lazy_clients.held_back()"
)
REPEATED = """
import gc
import sys
import types

RUN = ("--hl-record-mode=once", "-p", "hl_testkit.plugin", "-p", "no:cacheprovider")
INNER = {inner!r}


def _alive(name):
    gc.collect()
    return sum(isinstance(o, types.ModuleType) and o.__name__ == name for o in gc.get_objects())


def test_runs(pytester):
    assert "vcr" not in sys.modules  # each in-process run imports vcrpy, and drops it
    pytester.makepyfile(test_inner=INNER)
    alive = []
    for n in range(5):
        pytester.runpytest(*RUN).assert_outcomes(passed=2)
        assert "vcr" not in sys.modules
        (pytester.path / "cassettes").rename(pytester.path / f"cassettes-{{n}}")
        alive.append((_alive("vcr.patch"), _alive("{lib}")))
    assert alive == [(1, 1)] * 5  # the last run's, until the next: none kept longer
"""


@pytest.mark.parametrize("lib", CLIENTS)
def test_in_process_runs_load_vcrpy_lazily_each_time_and_keep_no_old_copy(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    api: tuple[str, list[str]],
    lib: str,
) -> None:
    """pytester drops vcrpy after each in-process run while `lazy_clients` stays loaded:
    each run loads it lazily again (the library held back, then imported and recorded in
    the test) and no earlier run's vcrpy or library is kept alive (memory stays flat)."""
    base, asked = api
    inner = _inside(base, lib, "/again", HELD_BACK)
    pytester.makepyfile(test_repeated=REPEATED.format(inner=inner, lib=lib))
    _alone(pytester, monkeypatch, "-p", "pytester").assert_outcomes(passed=1)
    # Each run recorded (in a test, the library first imported there), then reached it
    # with no cassette, all five through the vcrpy that run loaded.
    assert asked == ["/v4/again", "/v4/after"] * 5


# -- imported before any cassette, or between two tests ----------------------------------


BETWEEN = (
    GET
    + """

def test_1_no_client(hl_cassette):
    assert LIB not in sys.modules


def test_2_import_without_cassette():
    __import__(LIB)


def test_3_client(hl_cassette):
    assert get("/between") == {{"path": "/v4/between"}}
"""
)


@pytest.mark.parametrize("lib", CLIENTS)
@pytest.mark.parametrize("where", ["conftest", "between"])
def test_a_client_imported_before_the_cassette_records_and_replays(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    api: tuple[str, list[str]],
    lib: str,
    where: str,
) -> None:
    base, asked = api
    source = BETWEEN.format(base=base, lib=lib)
    if where == "conftest":  # today's path: imported before vcrpy loads, so not held back
        pytester.makeconftest(f"import {lib}")
        source = source.replace("assert LIB not in sys.modules", "assert LIB in sys.modules")
    pytester.makepyfile(test_between=source)
    _alone(pytester, monkeypatch, "--hl-record-mode=once").assert_outcomes(passed=3)
    assert asked == ["/v4/between"]
    cassette = pytester.path / "cassettes" / "test_between" / "test_3_client.yaml"
    assert _recorded_paths(cassette) == ["/v4/between"]
    asked.clear()
    _alone(pytester, monkeypatch).assert_outcomes(passed=3)
    assert asked == []


# -- invisible to user code ----------------------------------------------------------------


INVISIBLE = """
import importlib.util
import sys

from hl_testkit.recording import lazy_clients


def test_nothing_shows(hl_cassette):
    assert "vcr" in sys.modules
    assert not any(module is None for module in sys.modules.values())
    assert not any(isinstance(f, lazy_clients._HeldBack) for f in sys.meta_path)
    for name in ("tornado", "httplib2", "botocore", "httpx2"):  # not installed here
        assert importlib.util.find_spec(name) is None
        try:
            __import__(name)
        except ModuleNotFoundError as error:
            assert "held back" not in str(error)
    spec = importlib.util.find_spec("aiohttp")
    assert spec is not None and spec.origin and spec.origin.endswith("__init__.py")
    import aiohttp

    assert sys.modules["aiohttp"] is aiohttp and aiohttp.__file__ == spec.origin
    assert type(aiohttp.__spec__.loader).__name__ == "SourceFileLoader"
    assert aiohttp.__loader__ is aiohttp.__spec__.loader
    assert importlib.util.find_spec("aiohttp") is aiohttp.__spec__
"""


@pytest.mark.parametrize("how", ["in-process", "-n 2"])
def test_holding_back_is_invisible_to_user_code(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    pytester.makepyfile(test_invisible=INVISIBLE)
    if how == "in-process":
        for name in [name for name in sys.modules if name.partition(".")[0] == "aiohttp"]:
            monkeypatch.delitem(sys.modules, name)
        result = pytester.runpytest("--hl-record-mode=once", "-p", "no:cacheprovider")
    else:
        result = _alone(pytester, monkeypatch, "-n", "2", "--hl-record-mode=once")
    result.assert_outcomes(passed=1)


# -- the same patches as the eager import ---------------------------------------------------


DUMP = """
import json
import sys
import types

{first}
import httpx, aiohttp
import vcr.patch


def name(obj):
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    return obj.__module__ + "." + obj.__qualname__


class Cassette:
    _path = "x"
    custom_patches = ()


resets = sorted(
    [name(p.getter()), p.attribute, name(p.new)] for p in vcr.patch.reset_patchers()
)
patches = sorted(
    [name(p.getter()), p.attribute]
    for p in vcr.patch.CassettePatcherBuilder(Cassette()).build()
    if hasattr(p, "getter")
)
print(json.dumps({{"resets": resets, "patches": patches}}))
"""


def _dump(first: str) -> object:
    script = DUMP.format(first=first)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(out.stdout)


def test_a_library_imported_after_lazy_vcrpy_is_patched_and_reset_as_by_eager_vcrpy() -> None:
    lazy = _dump("import hl_testkit.recording.vcr_cassette")
    eager = _dump("import httpx, aiohttp, vcr")
    assert lazy == eager
    assert isinstance(eager, dict)
    targets = {target for target, _ in eager["patches"]}
    assert {"httpx.HTTPTransport", "aiohttp.client.ClientSession"} <= targets


# -- another vcrpy ---------------------------------------------------------------------------


def _vcrpy_copy(tmp_path: Path, module: str, old: str, new: str) -> Path:
    """This vcrpy copied, `old` replaced by `new` in `module`: a future layout."""
    copy = tmp_path / "vcr"
    spec = importlib.util.find_spec("vcr")  # not imported here: this process stays as it is
    assert spec is not None
    assert spec.origin is not None
    shutil.copytree(Path(spec.origin).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    source = (copy / module).read_text(encoding="utf-8")
    assert old in source
    (copy / module).write_text(source.replace(old, new, 1), encoding="utf-8")
    return tmp_path


def _run(path: Path, script: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(path), os.getcwd()])}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


LATE_HTTPX = """
import sys
import hl_testkit.recording.vcr_cassette
assert "httpx" not in sys.modules
import httpx
print("patched")
"""

HTTPX_TRY = "try:\n    import httpx\nexcept ImportError:  # pragma: no cover\n    pass\n"


def test_a_vcrpy_that_saves_httpx_differently_fails_loudly_on_its_import(tmp_path: Path) -> None:
    # A vcrpy that binds a placeholder when httpx is missing: merging cannot make it right.
    placeholder = HTTPX_TRY.replace("    pass\n", "    _HttpxHttpTransport_handle_request = None\n")
    path = _vcrpy_copy(tmp_path, "patch.py", HTTPX_TRY, placeholder)
    result = _run(path, LATE_HTTPX)
    assert result.returncode != 0
    assert "LazyClientError" in result.stderr
    # As docs/troubleshooting.md quotes it (its "(...)" is the reason, which varies).
    assert (
        "hl-testkit loaded vcrpy without httpx (not imported yet) and httpx was imported "
        "later, but this vcrpy does not patch it as it does when httpx is imported first ("
    ) in " ".join(result.stderr.split())
    assert "patched" not in result.stdout


def test_a_vcrpy_importing_httpx_elsewhere_gets_it_eagerly(tmp_path: Path) -> None:
    # Another of its modules imports httpx at import: it is not held back from that one.
    old = "from .patch import CassettePatcherBuilder, validate_skip_patchers\n"
    path = _vcrpy_copy(tmp_path, "cassette.py", old, "import httpx  # noqa\n" + old)
    result = _run(
        path,
        """
        import sys
        import hl_testkit.recording.vcr_cassette
        from hl_testkit.recording import lazy_clients
        import vcr.patch

        assert "httpx" in sys.modules and "httpx" not in lazy_clients.held_back()
        import httpx

        assert vcr.patch._HttpxHttpTransport_handle_request is httpx.HTTPTransport.handle_request
        assert "aiohttp" not in sys.modules  # the others still held back
        print("eager", vcr.__file__)
        """,
    )
    assert result.returncode == 0, result.stderr
    assert f"eager {tmp_path}" in result.stdout


def test_a_library_imported_unannounced_is_merged_on_the_next_activation() -> None:
    # As after pytester restored sys.meta_path without the watch and dropped the module.
    result = _run(
        Path(os.getcwd()),
        """
        import sys
        from hl_testkit.recording import lazy_clients, vcr_cassette
        import httpx
        import vcr.patch

        first = httpx.HTTPTransport.handle_request
        assert vcr.patch._HttpxHttpTransport_handle_request is first
        for name in [name for name in sys.modules if name.partition(".")[0] == "httpx"]:
            del sys.modules[name]
        sys.meta_path.remove(lazy_clients._watch)
        import httpx

        assert httpx.HTTPTransport.handle_request is not first  # a new module, unannounced
        assert vcr.patch._HttpxHttpTransport_handle_request is first
        lazy_clients.catch_up()  # what vcr_cassette.patched does first
        assert vcr.patch._HttpxHttpTransport_handle_request is httpx.HTTPTransport.handle_request
        assert lazy_clients._watch in sys.meta_path
        print("merged")
        """,
    )
    assert result.returncode == 0, result.stderr
    assert "merged" in result.stdout


def test_aiohttp_first_imported_inside_a_test_stores_compressed_bodies_decoded(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, compressed_api: list[str]
) -> None:
    """The arrival also brings `vcr_cassette`'s aiohttp fix (a body aiohttp decoded is
    stored without its Content-Encoding), as when aiohttp was imported first."""
    base = compressed_api.pop(0)
    first = (
        "    if coding == 'gzip':  # the first test\n        assert 'aiohttp' not in sys.modules\n"
    )
    first_import = first + "    import aiohttp\n\n"
    inside = compressed.AIOHTTP_TEST.replace("import aiohttp\n", "", 1)
    inside = inside.replace("    async def get():", first_import + "    async def get():")
    pytester.makepyfile(test_aio="import sys\n" + inside.format(base=base))
    _alone(pytester, monkeypatch, "--hl-record-mode=once").assert_outcomes(passed=3)
    for coding in compressed.CODINGS:
        path = pytester.path / "cassettes" / "test_aio" / f"test_get[{coding}].yaml"
        (interaction,) = yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"]
        assert interaction["response"]["body"] == {"text": json.dumps(compressed.payload(coding))}
        assert "content-encoding" not in {h.lower() for h in interaction["response"]["headers"]}
    compressed_api.clear()
    _alone(pytester, monkeypatch).assert_outcomes(passed=3)
    assert compressed_api == []


FAKE_CURL = """
import httpx


class CurlTransport(httpx.HTTPTransport):
    def handle_request(self, request):
        return super().handle_request(request)


class AsyncCurlTransport(httpx.AsyncHTTPTransport):
    async def handle_async_request(self, request):
        return await super().handle_async_request(request)
"""


def test_a_library_importing_another_held_back_one_gets_both_merged(tmp_path: Path) -> None:
    # A stand-in for httpx-curl-cffi (not installed here), which imports httpx itself.
    (tmp_path / "httpx_curl_cffi").mkdir()
    (tmp_path / "httpx_curl_cffi" / "__init__.py").write_text(FAKE_CURL, encoding="utf-8")
    result = _run(
        tmp_path,
        """
        import sys
        from hl_testkit.recording import lazy_clients, vcr_cassette
        import vcr.patch as patch

        assert {"httpx", "httpx_curl_cffi"} <= lazy_clients.held_back()
        import httpx_curl_cffi as curl
        import httpx

        assert patch._HttpxCurlTransport_handle_request is curl.CurlTransport.handle_request
        assert patch._HttpxHttpTransport_handle_request is httpx.HTTPTransport.handle_request
        for name in [name for name in sys.modules if name.partition(".")[0] == "httpx"]:
            del sys.modules[name]
        import httpx as again  # httpx alone, a new module: its own originals replaced

        assert again is not httpx
        assert patch._HttpxHttpTransport_handle_request is again.HTTPTransport.handle_request
        assert patch._HttpxCurlTransport_handle_request is curl.CurlTransport.handle_request
        print("merged")
        """,
    )
    assert result.returncode == 0, result.stderr
    assert "merged" in result.stdout
