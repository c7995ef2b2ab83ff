"""The output guard: nothing pytest prints or keeps for a run shows a known secret.

Cassettes are scrubbed by `hl_testkit.recording.recorder`; this covers everything else
a run leaves in CI logs and artifacts. Every form of every known secret
(`hl_testkit.secrets.scrub.scrub_text`) becomes its placeholder in:

* reports (`pytest_runtest_makereport`, `pytest_make_collect_report`): the
  failure text (`longrepr`, whatever `-l`/`--tb` put in it), captured
  stdout/stderr/log sections, the node id and location. pytest's terminal
  summary, `-rA`, JUnit XML, xdist and the last-failed cache are all made
  from these reports;
* the terminal stream itself: lines written before a report exists (the
  `-v` line naming the test, the warnings summary, live logging);
* log records, as they are made (a record factory, not a handler filter:
  pytest swaps its capture handlers at every test phase, and `--log-file`,
  `caplog` and third-party handlers should all get scrubbed records);
* files pytest writes at the end: the JUnit XML and the cache entries that
  hold node ids (`cache/lastfailed`, `cache/nodeids`, `cache/stepwise`),
  rewritten after the cache provider wrote them, each string as its reader
  sees it, entities and escapes decoded (`artifacts`): `record_xml_attribute`
  and `record_testsuite_property` values too. A node id with a secret in it
  is stored with the placeholder, so `--lf` cannot select that test again.

It costs nothing while no secret is known: every hook returns at once, and
neither the stream nor the record factory is touched.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hl_testkit.secrets import artifacts, scrub
from hl_testkit.secrets.scrub import Secret
from hl_testkit.secrets.scrubbed_stream import ScrubbedStream

#: Where the run's guard is registered with pytest's plugin manager.
PLUGIN_NAME = "hl-testkit-output-guard"
CACHE_KEYS = ("cache/lastfailed", "cache/nodeids", "cache/stepwise")


class OutputGuard:
    """A pytest plugin object: the run's known secrets, and the hooks that scrub output."""

    def __init__(self, config: pytest.Config, secrets: Iterable[Secret] = ()) -> None:
        self.config = config
        self.secrets: tuple[Secret, ...] = ()
        self._replace: Callable[[str], str] = str
        self._factory: Any = None
        self._previous_factory: Any = None
        self.remember(secrets)

    @classmethod
    def for_run(
        cls, config: pytest.Config, secret_env: Iterable[str], base_url: str | None
    ) -> OutputGuard:
        """The secrets of the environment (`known_secrets`) and of the base URL's userinfo."""
        extra = scrub.userinfo_secrets(base_url)
        return cls(config, scrub.known_secrets(os.environ, secret_env, extra))

    def remember(self, secrets: Iterable[Secret]) -> None:
        """Scrub these too, from now on (a test's scrub-rule values, the key in use)."""
        merged = {s.value: s for s in self.secrets}
        for secret in secrets:
            merged.setdefault(secret.value, secret)
        if len(merged) == len(self.secrets):
            return
        self.secrets = tuple(sorted(merged.values(), key=lambda s: (-len(s.value), s.source)))
        self._replace = scrub.replacer(self.secrets)  # every terminal write goes through it
        self._install_log_scrubbing()

    def text(self, text: str) -> str:
        return self._replace(text) if self.secrets and text else text

    # -- reports ------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: sees the final report
    def pytest_runtest_makereport(self) -> Iterator[None]:
        report = yield
        if self.secrets:
            self.scrub_report(report)
        return report

    @pytest.hookimpl(tryfirst=True)  # before the terminal, junitxml and the cache read it
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # Node ids are scrubbed here, not in makereport: an xdist worker checks that its
        # report's id is its item's, and its controller (where this runs) prints them.
        # The text was scrubbed in makereport (on the worker, under xdist).
        if self.secrets and not hasattr(self.config, "workerinput"):
            self.scrub_ids(report)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_make_collect_report(self) -> Iterator[None]:
        report = yield
        if self.secrets:
            self.scrub_report(report)
            if not hasattr(self.config, "workerinput"):
                self.scrub_ids(report)
        return report

    def scrub_ids(self, report: Any) -> None:
        """`report`'s node id and location (a CollectReport computes its location)."""
        report.nodeid = self.text(report.nodeid)
        location = getattr(report, "location", None)
        if isinstance(report, pytest.TestReport) and location is not None:
            path, line, domain = location
            report.location = (self.text(path), line, self.text(domain))

    def scrub_report(self, report: Any) -> None:
        """`report`'s failure text and captured sections, scrubbed in place."""
        report.sections = [(title, self.text(content)) for title, content in report.sections]
        if getattr(report, "user_properties", None):  # record_property: JUnit XML, reportlog
            report.user_properties = [_scrubbed(p, self.text) for p in report.user_properties]
        if isinstance(getattr(report, "wasxfail", None), str):  # an xfail's reason
            report.wasxfail = self.text(report.wasxfail)
        longrepr = report.longrepr
        if isinstance(longrepr, tuple):  # a skip: (path, line, reason)
            report.longrepr = (self.text(str(longrepr[0])), longrepr[1], self.text(longrepr[2]))
        elif longrepr is not None:
            text = str(longrepr)  # what -l, --tb=long and the JUnit XML would show
            clean = self.text(text)
            if clean != text:  # the structured form is kept when it holds nothing
                report.longrepr = clean

    # -- the terminal -------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)  # before the terminal writes its header
    def pytest_sessionstart(self) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        writer = getattr(reporter, "_tw", None)
        # pytest has no public way to filter what its terminal writer prints; its one
        # file attribute is the narrowest place that sees every line.
        if writer is not None and not isinstance(getattr(writer, "_file", None), ScrubbedStream):
            writer._file = ScrubbedStream(writer._file, self.text)  # secrets added later too

    # -- files written at the end -------------------------------------------------------

    @pytest.hookimpl(trylast=True)  # after the cache provider and junitxml wrote theirs
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.secrets:
            return
        cache = getattr(self.config, "cache", None)
        if cache is not None:
            for key in CACHE_KEYS:
                value = cache.get(key, None)
                if value is not None:
                    clean = artifacts.scrub_json(value, self.text)
                    if clean != value:
                        cache.set(key, clean)
        xml_path = getattr(self.config.option, "xmlpath", None)
        if xml_path and not hasattr(self.config, "workerinput"):
            artifacts.scrub_xml_file(Path(xml_path), self.text)

    def pytest_unconfigure(self) -> None:
        if self._factory is not None and logging.getLogRecordFactory() is self._factory:
            logging.setLogRecordFactory(self._previous_factory)
        self._factory = None  # if another factory wraps ours, ours now passes records on

    # -- log records --------------------------------------------------------------------

    def _install_log_scrubbing(self) -> None:
        if self._factory is not None or not self.secrets:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if self._factory is not None:
                self.scrub_record(record)
            return record

        self._previous_factory, self._factory = previous, factory
        logging.setLogRecordFactory(factory)

    def scrub_record(self, record: logging.LogRecord) -> None:
        """The record's message (its arguments merged in) and traceback, scrubbed."""
        try:
            message = record.getMessage()
        except Exception:  # a broken format: logging reports it when it is emitted
            return
        clean = self.text(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self.text(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = self.text(record.stack_info)


def _scrubbed(prop: tuple[str, object], text: Callable[[str], str]) -> tuple[str, object]:
    """A `record_property` pair; a value holding a secret becomes its scrubbed text (the
    text JUnit XML writes of it), any other is kept as the test gave it."""
    name, value = prop
    shown = str(value)
    clean = text(shown)
    return (text(name), value if clean == shown else clean)


def worth_hiding(secrets: Iterable[Secret], key_in_use: str, live: bool) -> list[Secret]:
    """`secrets` less the key in use when it is not a live one: the replay key and the
    stand-in's are public, and hiding them would put every replayed test through the
    scrubber for nothing."""
    return [s for s in secrets if live or s.value != key_in_use]


def guard_of(config: pytest.Config) -> OutputGuard | None:
    guard = config.pluginmanager.get_plugin(PLUGIN_NAME)
    return guard if isinstance(guard, OutputGuard) else None
