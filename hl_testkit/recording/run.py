"""One pytest run's hl-testkit state, and what happens around each cassette test."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import pytest

from hl_testkit.drift.ignores import Ignores
from hl_testkit.errors import HlTestkitError
from hl_testkit.recording.network import NetworkGuard
from hl_testkit.recording.summary import RunStats
from hl_testkit.recording.target import Endpoint, Target
from hl_testkit.secrets import scrub
from hl_testkit.settings import Settings, record_mode_for_test

if TYPE_CHECKING:
    from hl_testkit.contract.schemas import SchemaSet
    from hl_testkit.recording.marker import MarkerOptions
    from hl_testkit.recording.recorder import Recording, SaveResult
    from hl_testkit.recording.validation import SchemaOutcome

# What only a test needs (the recorder, marker, paths, validation, the schemas, the drift
# lines of a re-record) is imported where it is used: `HlRun.start` runs in every process, an
# xdist controller included, which runs no test.


@dataclass
class HlRun:
    settings: Settings
    target: Target
    guard: NetworkGuard
    stats: RunStats = field(default_factory=RunStats)
    diff_ignores: Ignores = field(default_factory=Ignores)
    #: See `schemas`.
    built_schemas: SchemaSet | None = None

    @property
    def schemas(self) -> SchemaSet:
        """The run's schemas, built once per run: validators are never rebuilt per test."""
        if self.built_schemas is None:
            self.built_schemas = _schema_set(self.settings)
        return self.built_schemas

    @classmethod
    def start(cls, settings: Settings, *, runs_tests: bool = True) -> HlRun:
        """The run's state; `runs_tests` False in an xdist controller (see `runs_no_test`)."""
        ignores = Ignores.of(settings.diff_ignore, "ini hl_diff_ignore")  # bad: a usage error
        # A user's schema files and routes are checked now (a bad one: a usage error);
        # the built-ins alone cannot fail, and wait for the first body (a controller has none).
        schemas = _schema_set(settings) if settings.schema_dir or settings.routes else None
        guard = NetworkGuard(settings.allow_hosts, children=settings.guard_children)
        guard.policy = "loopback" if settings.record_mode == "none" else "open"
        guard.install()
        if runs_tests:  # the workers do it: the controller loads no cassette code (nor YAML)
            from hl_testkit.cassettes import store

            store.cleanup_temp_files(settings.cassette_dir)
        return cls(settings, Target(settings), guard, diff_ignores=ignores, built_schemas=schemas)

    def stop(self) -> None:
        self.guard.uninstall()
        self.target.close()


def _schema_set(settings: Settings) -> SchemaSet:
    from hl_testkit.contract.schemas import Route, SchemaSet

    return SchemaSet.with_extra(
        settings.schema_dir, map(Route.parse, settings.routes), profile=settings.schema_profile
    )


def runs_no_test(config: pytest.Config) -> bool:
    """Is this process an xdist controller, whose workers run the tests?"""
    # What xdist itself asks before it starts workers (a distribution mode, workers to
    # start, not --collect-only); a worker has `workerinput`. Without xdist: no `dist`.
    option = config.option
    distributes = getattr(option, "dist", "no") != "no" and bool(getattr(option, "tx", None))
    return distributes and not option.collectonly and not hasattr(config, "workerinput")


#: The run's `HlRun`, on `config.stash` (set in `pytest_configure`).
RUN_KEY = pytest.StashKey[HlRun]()
#: Set on `item.stash` by the makereport hook when the item's setup or call failed.
FAILED_KEY = pytest.StashKey[bool]()


def run_for(config: pytest.Config) -> HlRun:
    """This pytest run's hl-testkit state."""
    return config.stash[RUN_KEY]


def item_failed(item: pytest.Item) -> bool:
    """Did `item` fail (or not run to its end)? Then its recording is not saved."""
    return item.stash.get(FAILED_KEY, False)


def marker_options(item: pytest.Item) -> MarkerOptions:
    """`@pytest.mark.hl_cassette(...)` on `item`, checked (see `hl_testkit.recording.marker`)."""
    from hl_testkit.recording import marker

    return marker.parse(item.get_closest_marker("hl_cassette"))


def scrub_rules(settings: Settings) -> scrub.ScrubRules:
    """The default rules plus the names the ini file adds."""
    return scrub.DEFAULT_RULES.extended(
        header_names=settings.scrub_headers,
        query_names=settings.scrub_query,
        field_names=settings.scrub_fields,
    )


def use_cassette(
    run: HlRun,
    item: pytest.Item,
    vcr_config: dict[str, Any],
    rules: scrub.ScrubRules,
    test_failed: Any,
) -> Iterator[Recording]:
    """The story of one cassette test: load the cassette (and apply the age policy),
    run the test with the guard on and vcrpy active, check the bodies, save, and
    give the verdict."""
    from hl_testkit.recording.recorder import activated

    options = marker_options(item)
    schemas = _schemas_for(run, options.schema)
    config = dict(vcr_config)
    fixture_mode = config.pop("record_mode", None)
    config.update(options.vcr_config)  # the marker is more specific than the fixture
    mode = record_mode_for_test(run.settings, options.record_mode, fixture_mode)
    recording = _loaded(run, item, options.name, mode, rules)
    with _guarded(run, item, recording), activated(recording, config):
        yield recording
    outcome = _check_bodies(run, recording, schemas)
    # A schema failure alone does not stop the write: the cassette keeps the
    # body, marked, so the drift can be read and reported.
    result = _finish(run, recording, bool(test_failed()))
    problems = recording.misses + run.guard.blocked + _unused(run, recording)
    if outcome is not None and outcome.failures:
        # A scenario turns the check off in its file (`schema: false`), not with a marker.
        turn_off = getattr(item, "schema_off_hint", "@pytest.mark.hl_cassette(schema=False)")
        problems.append(outcome.message(recording, result.action == "written", turn_off))
    if problems and not test_failed():
        # The test caught our error and passed anyway: it still must not go green.
        pytest.fail("\n\n".join(problems), pytrace=False)


def _schemas_for(run: HlRun, choice: bool | str) -> SchemaSet | None:
    """The schemas a test's bodies are checked with: None when the check is off."""
    if isinstance(choice, str) and choice not in run.schemas.names:
        raise HlTestkitError(
            f"@pytest.mark.hl_cassette(schema={choice!r}): no schema of that name; "
            f"known schemas: {', '.join(run.schemas.names)} (add yours with ini hl_schema_dir)"
        )
    if not run.settings.schema_check or choice is False:
        return None
    return run.schemas.overriding_success(choice) if isinstance(choice, str) else run.schemas


def _loaded(
    run: HlRun, item: pytest.Item, name: str | None, mode: str, rules: scrub.ScrubRules
) -> Recording:
    """The test's cassette, loaded, after the age policy (which may re-record it)."""
    endpoint = run.target.endpoint(mode)
    recording = new_recording(run, item.nodeid, name, mode, endpoint, rules)
    recording.load()
    if expired(run.settings, recording):
        endpoint = _apply_age_policy(run, recording) or endpoint
    if endpoint.kind == "standin":
        run.target.reset()
    return recording


def _apply_age_policy(run: HlRun, recording: Recording) -> Endpoint | None:
    """Warn, fail, or turn the test into a re-record (then: the endpoint it records on)."""
    message = (
        f"hl-testkit: cassette {recording.path} was recorded on {recording.recorded_at}, "
        f"longer ago than hl_max_cassette_age = {run.settings.max_age_text} allows. "
        f"{recording.hint}"
    )
    if run.settings.on_expired == "fail":
        pytest.fail(message, pytrace=False)
    if run.settings.on_expired == "warn":
        warnings.warn(ExpiredCassetteWarning(message), stacklevel=1)
        return None
    # rerecord: this test records afresh against the configured target
    recording.record_mode = "rewrite"
    recording.refresh_date = True
    endpoint = run.target.endpoint("rewrite")
    recording.base_url, recording.api_key = endpoint.base_url, endpoint.api_key
    recording.recorded_against = endpoint.recorded_against
    recording.load()
    return endpoint


def _guarded(run: HlRun, item: pytest.Item, recording: Recording) -> AbstractContextManager[None]:
    """The network guard for the test: closed in replay, open while recording."""
    from hl_testkit.recording import paths

    return run.guard.scoped(
        "closed" if recording.record_mode == "none" else "open",
        context=f" while {item.nodeid} replays {recording.path}",
        hint="A replayed test answers from its cassette only; to record, run "
        f"{paths.rerecord_command(item.nodeid, 'new_episodes')}. ",
    )


def _check_bodies(
    run: HlRun, recording: Recording, schemas: SchemaSet | None
) -> SchemaOutcome | None:
    """Every body against its schema; with --hl-schema-strict, drift into the summary."""
    if schemas is None:
        return None
    from hl_testkit.recording.validation import check_recording

    # The drift report walks every body: only made when it is shown.
    outcome = check_recording(recording, schemas, drift=run.settings.schema_strict)
    if run.settings.schema_strict:
        run.stats.drift += [f"{f.where}: {'; '.join(map(str, f.drift))}" for f in outcome.drift]
    return outcome


def _unused(run: HlRun, recording: Recording) -> list[str]:
    """Counts the test's own unplayed interactions; with --hl-strict, the failure."""
    replaying = recording.record_mode in ("none", "once")
    unused_count = recording.unplayed_count if replaying else 0
    run.stats.counts["unused"] += unused_count
    unused = recording.unplayed if unused_count and run.settings.strict else []
    if not unused:
        return []
    listed = "\n".join(
        f"  #{recording.loaded.index(i)} {i.request.method} {i.request.uri}" for i in unused
    )
    return [
        f"hl-testkit (--hl-strict): {recording.path} holds {len(unused)} interaction(s) "
        f"this test did not play:\n{listed}\n{recording.hint}"
    ]


def new_recording(
    run: HlRun,
    nodeid: str,
    name: str | None,
    mode: str,
    endpoint: Endpoint,
    rules: scrub.ScrubRules,
) -> Recording:
    """The (not yet loaded) cassette of the test `nodeid`, or the one its marker names."""
    from hl_testkit.recording import paths
    from hl_testkit.recording.recorder import Recording

    secrets = scrub.known_secrets(
        os.environ,
        run.settings.secret_env,
        extra={
            **rules.values,
            **scrub.userinfo_secrets(run.settings.base_url),
            "HUMANLOOP_API_KEY": endpoint.api_key,
        },
    )
    # A key in a parametrize id must not reach the file name nor `recorded_by:`.
    nodeid = scrub.scrub_text(nodeid, secrets)
    default = paths.cassette_path_for(run.settings.cassette_dir, nodeid)
    path = (
        default
        if name is None
        else paths.cassette_path_for(run.settings.cassette_dir, nodeid, name)
    )
    return Recording(
        path=path,
        record_mode=mode,
        base_url=endpoint.base_url,
        api_key=endpoint.api_key,
        nodeid=nodeid,
        recorded_against=endpoint.recorded_against,
        secrets=secrets,
        rules=rules,
        # Format 1 interactions of a test's own default-named cassette are its own.
        owns_unattributed=path == default,
    )


def _finish(run: HlRun, recording: Recording, failed: bool) -> SaveResult:
    """Save (or not) and count it; for a rewritten cassette, what changed in meaning."""
    # `once` adding to a cassette that already existed is not called a re-record.
    once_added = recording.record_mode == "once" and recording.existed
    result = recording.finish(failed)
    run.stats.record(recording, result)
    if result.action == "written" and result.before is not None and not once_added:
        from hl_testkit.drift import command as diff_command

        changes = diff_command.recorded_changes(
            recording.path,
            result.before,
            result.after,
            run.schemas,
            run.diff_ignores,
            detailed=run.settings.diff,
        )
        run.stats.changed += [scrub.scrub_text(line, recording.secrets) for line in changes]
    return result


class ExpiredCassetteWarning(UserWarning):
    """A cassette older than ini hl_max_cassette_age."""


def expired(settings: Settings, recording: Recording) -> bool:
    if settings.max_age is None or not recording.existed or not recording.recorded_at:
        return False
    made = datetime.fromisoformat(recording.recorded_at).replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc) - made > settings.max_age


def short_failure(item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    """hl-testkit's own errors, shown as the test's line plus our message.

    The frames between the test and us (requests, urllib3, vcrpy) only hide
    the message; the message already says what to do.
    """
    from hl_testkit.recording.unreachable import at_test_line

    return str(excinfo.value) + at_test_line(item, excinfo)
