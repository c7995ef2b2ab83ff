"""The pytest plugin: hooks and fixtures only. The thinking lives in `run`,
`recorder`, `settings` and friends; this module wires them to pytest.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from hl_testkit import scenarios
from hl_testkit.settings import add_options

if TYPE_CHECKING:
    from hl_testkit.client import SessionsClient
    from hl_testkit.recording.recorder import Recording
    from hl_testkit.secrets.scrub import ScrubRules

# Only option registration loads with the plugin: pytest imports it in every process
# (an xdist controller runs no test), so the recording machinery (`recording.run` and
# what it needs) loads in `pytest_configure`, the rest with the first test that uses it.


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)
    scenarios.add_options(parser)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """`test_*.hl.yaml` scenario files (ini hl_scenario_glob): see `hl_testkit.scenarios`."""
    return scenarios.collect_file(file_path, parent)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "hl_cassette(name=None, record_mode=None, schema=True, **vcr_config): per-test "
        "cassette options for hl-testkit (name is relative to the test module's cassette "
        "directory; schema=False turns the body check off, a name picks another schema).",
    )
    from hl_testkit.errors import HlTestkitError
    from hl_testkit.recording.run import RUN_KEY, HlRun, runs_no_test
    from hl_testkit.secrets.output_guard import PLUGIN_NAME, OutputGuard
    from hl_testkit.settings import Settings

    try:
        settings = Settings.from_config(config)
        config.stash[RUN_KEY] = HlRun.start(settings, runs_tests=not runs_no_test(config))
    except HlTestkitError as exc:  # bad option, ini value, schema dir or route
        raise pytest.UsageError(str(exc)) from None
    guard = OutputGuard.for_run(config, settings.secret_env, settings.base_url)
    config.pluginmanager.register(guard, PLUGIN_NAME)


def pytest_runtest_setup(item: pytest.Item) -> None:
    from hl_testkit.recording import marker

    marker.warn_if_unused(item)  # a marker on a test without a cassette changes nothing


def pytest_unconfigure(config: pytest.Config) -> None:
    from hl_testkit.recording.run import RUN_KEY

    run = config.stash.get(RUN_KEY, None)
    if run is not None:
        run.stop()
        del config.stash[RUN_KEY]


def pytest_report_header(config: pytest.Config) -> str:
    from hl_testkit.recording.run import run_for

    return run_for(config).settings.header()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if call.excinfo is None and not report.failed:
        return report
    from hl_testkit.errors import HlTestkitError
    from hl_testkit.recording import unreachable
    from hl_testkit.recording.run import FAILED_KEY, short_failure

    if report.when in ("setup", "call"):
        # A failed test's recording is not saved; nor one that did not run to its end
        # (an xfailed test failed too, and a test skipped halfway recorded only half).
        item.stash[FAILED_KEY] = True
    if report.failed and call.excinfo is not None and call.excinfo.errisinstance(HlTestkitError):
        report.longrepr = short_failure(item, call.excinfo)
    elif report.failed and call.excinfo is not None:
        report.longrepr = unreachable.message(item, call.excinfo) or report.longrepr
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the stats to the controller
        from hl_testkit.recording.run import run_for

        workeroutput["hl_testkit"] = run_for(session.config).stats.as_data()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    output = getattr(node, "workeroutput", {}).get("hl_testkit")
    if output:
        from hl_testkit.recording.run import run_for

        run_for(node.config).stats.merge(output)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    from hl_testkit.recording.run import run_for

    lines = run_for(config).stats.lines()
    if lines:
        terminalreporter.write_sep("-", "hl-testkit")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="module")
def hl_vcr_config() -> dict[str, Any]:
    """Override to pass vcrpy settings (e.g. `ignore_hosts`) or a `record_mode`."""
    return {}


@pytest.fixture(scope="module")
def hl_scrub_rules(pytestconfig: pytest.Config) -> ScrubRules:
    """Override to scrub more: `return hl_scrub_rules.extended(field_names=[...], ...)`."""
    from hl_testkit.recording.run import run_for, scrub_rules

    return scrub_rules(run_for(pytestconfig).settings)


@pytest.fixture
def hl_cassette(
    request: pytest.FixtureRequest, hl_vcr_config: dict[str, Any], hl_scrub_rules: ScrubRules
) -> Iterator[Recording]:
    """The test's cassette, active for all HTTP the test makes."""
    from hl_testkit.recording.run import item_failed, run_for, use_cassette
    from hl_testkit.secrets.output_guard import guard_of, worth_hiding

    item = request.node
    steps = use_cassette(
        run_for(request.config),
        item,
        hl_vcr_config,
        hl_scrub_rules,
        lambda: item_failed(item),
    )
    recording = next(steps)
    guard = guard_of(request.config)
    if guard is not None:  # the key in use and the rules' values: kept out of all output
        live = recording.recorded_against == "live"
        guard.remember(worth_hiding(recording.secrets, recording.api_key, live))
    yield recording
    yield from steps  # the save, after the test


@pytest.fixture
def sessions(hl_cassette: Recording) -> Iterator[SessionsClient]:
    """A `SessionsClient` whose traffic goes through the test's cassette."""
    from hl_testkit.client import SessionsClient  # requests loads with the first such test

    with SessionsClient(hl_cassette.api_key, base_url=hl_cassette.base_url) as client:
        if hl_cassette.record_mode == "none":
            # Replay reaches no network: skip requests' per-call proxy, netrc and CA
            # bundle lookups in the environment (a third of a replayed call's cost).
            client.http.trust_env = False
        # In direct replay its calls are answered from the cassette's index like every
        # requests client's (recording.requests_replay), not through vcrpy's stubs.
        if hl_cassette.direct_record:
            from hl_testkit.recording.record_adapter import RecordAdapter

            # Recorded through a real urllib3 pool, not vcrpy's stubs; what it leaves
            # (proxies, streamed bodies) to the adapter it replaces, i.e. to vcrpy.
            fallback = client.http.get_adapter(client.base_url)
            client.http.mount(client.base_url, RecordAdapter(hl_cassette, fallback))
        yield client


@pytest.fixture
def hl_humanloop(hl_cassette: Recording) -> Any:
    """The official SDK (`humanloop.Humanloop`, extra `hl-testkit[sdk]`) bound to the
    test's cassette, with the same base URL and key rules as `sessions`."""
    from hl_testkit.sdk import humanloop_client

    return humanloop_client(hl_cassette)
