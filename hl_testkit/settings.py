"""Run-wide settings, resolved once per run from the command line, environment and ini.

The one precedence rule, for every setting: what is typed for this run beats
what is written in files. In order: command line, environment variable,
`@pytest.mark.hl_cassette(...)`, the `hl_vcr_config` fixture, ini file, default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal

import pytest

from hl_testkit.errors import HlTestkitError

TargetKind = Literal["replay", "live", "standin"]

#: The record modes, as vcrpy names them.
RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")


def validate_record_mode(value: str, source: str) -> str:
    if value not in RECORD_MODES:
        raise HlTestkitError(
            f"{source}: record mode {value!r} is not one of {', '.join(RECORD_MODES)}"
        )
    return value


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup(
        "hl-testkit", "hl-testkit: record and replay the Humanloop sessions API"
    )
    group.addoption(
        "--hl-record-mode",
        choices=RECORD_MODES,
        default=None,
        help="none (default: replay only, network blocked), once, new_episodes, all, "
        "rewrite. Also HL_RECORD_MODE or ini hl_record_mode.",
    )
    group.addoption(
        "--hl-cassette-dir",
        default=None,
        help="where cassettes live (default: <rootdir>/cassettes; ini hl_cassette_dir).",
    )
    group.addoption(
        "--hl-base-url",
        default=None,
        help="record against this API base URL (or HUMANLOOP_BASE_URL). With neither it nor "
        "HUMANLOOP_API_KEY set, recording uses the embedded stand-in server.",
    )
    group.addoption(
        "--hl-allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="a host that tests may reach in replay (repeatable; '*' allows all). "
        "Also ini hl_allow_hosts.",
    )
    _add_check_options(group)
    _add_ini_keys(parser)
    _add_guard_children(group, parser)


def _add_check_options(group: pytest.OptionGroup) -> None:
    """Options on what is checked: schemas, drift, unused interactions, re-record diffs."""
    group.addoption(
        "--hl-no-schema",
        action="store_true",
        default=False,
        help="do not check response bodies against their JSON Schemas this run.",
    )
    group.addoption(
        "--hl-schema-strict",
        action="store_true",
        default=None,
        help="also report drift: properties the schemas do not name, and what only the "
        "strict schema profile refuses (path and rule); not failures. Ini hl_schema_strict.",
    )
    group.addoption(
        "--hl-schema-profile",
        choices=("default", "strict"),
        default=None,
        help="the schemas that fail a test: default (no stricter than the API contract) or "
        "strict (RFC 3339 dates, id alphabets, non-negative counts, no null). "
        "Ini hl_schema_profile.",
    )
    group.addoption(
        "--hl-strict",
        action="store_true",
        default=None,
        help="fail a test whose cassette holds interactions it did not play (ini hl_strict).",
    )
    group.addoption(
        "--hl-diff",
        action="store_true",
        default=False,
        help="after recording, print what changed in each rewritten cassette, per "
        "interaction (the end-of-run summary counts them without it).",
    )


def _add_ini_keys(parser: pytest.Parser) -> None:
    parser.addini(
        "hl_diff_ignore",
        "paths whose changes do not count (body.created_at, body.records[*].id), one a line; "
        "read by --hl-diff and hl-testkit diff",
        type="linelist",
        default=[],
    )
    parser.addini("hl_strict", "fail on unused interactions", type="bool", default=False)
    parser.addini(
        "hl_max_cassette_age", "e.g. 30d, 12h, 2w: older cassettes are expired", default=""
    )
    parser.addini("hl_on_expired", "warn (default), fail or rerecord", default="warn")
    parser.addini("hl_record_mode", "default record mode (none)", default="")
    parser.addini(
        "hl_schema_strict",
        "report drift (extra properties, strict rules)",
        type="bool",
        default=False,
    )
    parser.addini("hl_schema_profile", "default or strict: the schemas that fail", default="")
    parser.addini("hl_schema_dir", "directory of schema files adding to or overriding ours")
    parser.addini(
        "hl_routes",
        "more routes, one per line: METHOD /path/{param} STATUS SCHEMA",
        type="linelist",
        default=[],
    )
    parser.addini("hl_cassette_dir", "cassette directory, relative to rootdir", default="")
    parser.addini("hl_allow_hosts", "hosts tests may reach in replay", type="linelist", default=[])
    parser.addini(
        "hl_secret_env",
        "more environment variables whose values are secrets to scrub",
        type="linelist",
        default=[],
    )
    parser.addini("hl_scrub_headers", "more header names to scrub", type="linelist", default=[])
    parser.addini(
        "hl_scrub_query", "more query parameter names to scrub", type="linelist", default=[]
    )
    parser.addini("hl_scrub_fields", "more JSON field names to scrub", type="linelist", default=[])


def _add_guard_children(group: pytest.OptionGroup, parser: pytest.Parser) -> None:
    group.addoption(
        "--hl-guard-children",
        action="store_true",
        default=None,
        help="extend the network guard to child Python processes (subprocess, "
        "multiprocessing spawn); ini hl_guard_children.",
    )
    parser.addini(
        "hl_guard_children", "network guard in child Python processes", type="bool", default=False
    )


@dataclass(frozen=True)
class Settings:
    record_mode: str
    record_mode_from: str  # where the mode came from, for the report header
    record_mode_forced: bool  # set on the command line or in the environment
    cassette_dir: Path
    # repr=False: settings in a report show neither the key nor a URL's userinfo.
    base_url: str | None = field(repr=False)  # as configured; None means "not configured"
    api_key: str | None = field(repr=False)
    allow_hosts: tuple[str, ...]
    strict: bool = False
    max_age: timedelta | None = None
    max_age_text: str = ""
    on_expired: str = "warn"
    schema_check: bool = True
    schema_strict: bool = False
    schema_profile: str = "default"
    schema_dir: Path | None = None
    routes: tuple[str, ...] = ()
    secret_env: tuple[str, ...] = ()
    scrub_headers: tuple[str, ...] = ()
    scrub_query: tuple[str, ...] = ()
    scrub_fields: tuple[str, ...] = ()
    guard_children: bool = False
    diff: bool = False
    diff_ignore: tuple[str, ...] = ()

    @property
    def target(self) -> TargetKind:
        return self.target_for(self.record_mode)

    def target_for(self, record_mode: str) -> TargetKind:
        """Replay needs no server; recording goes live when anything live is configured."""
        if record_mode == "none":
            return "replay"
        return "live" if (self.base_url or self.api_key) else "standin"

    @classmethod
    def from_config(cls, config: pytest.Config) -> Settings:
        mode, source = _record_mode(config)
        raw_dir = config.getoption("hl_cassette_dir") or config.getini("hl_cassette_dir")
        cassette_dir = config.rootpath / (raw_dir or "cassettes")
        allow = [*config.getoption("hl_allow_host"), *config.getini("hl_allow_hosts")]
        return cls(
            record_mode=mode,
            record_mode_from=source,
            record_mode_forced=source in ("--hl-record-mode", "HL_RECORD_MODE"),
            cassette_dir=cassette_dir,
            base_url=config.getoption("hl_base_url")
            or os.environ.get("HUMANLOOP_BASE_URL")
            or None,
            api_key=os.environ.get("HUMANLOOP_API_KEY") or None,
            allow_hosts=tuple(allow),
            strict=bool(config.getoption("hl_strict") or _ini_flag(config, "hl_strict")),
            guard_children=bool(
                config.getoption("hl_guard_children") or _ini_flag(config, "hl_guard_children")
            ),
            max_age=parse_age(str(config.getini("hl_max_cassette_age"))),
            max_age_text=str(config.getini("hl_max_cassette_age")).strip(),
            on_expired=_on_expired(str(config.getini("hl_on_expired"))),
            schema_check=not config.getoption("hl_no_schema"),
            schema_strict=bool(
                config.getoption("hl_schema_strict") or _ini_flag(config, "hl_schema_strict")
            ),
            schema_profile=_schema_profile(config),
            schema_dir=config.rootpath / schema_dir
            if (schema_dir := config.getini("hl_schema_dir"))
            else None,
            routes=tuple(config.getini("hl_routes")),
            secret_env=tuple(config.getini("hl_secret_env")),
            scrub_headers=tuple(config.getini("hl_scrub_headers")),
            scrub_query=tuple(config.getini("hl_scrub_query")),
            scrub_fields=tuple(config.getini("hl_scrub_fields")),
            diff=bool(config.getoption("hl_diff")),
            diff_ignore=tuple(config.getini("hl_diff_ignore")),
        )

    def header(self) -> str:
        # Here, not at the top: the plugin imports this module for its options alone.
        from hl_testkit.secrets.scrub import without_userinfo

        where = {
            "replay": "replay only, network blocked beyond loopback",
            "live": "recording against the live API at "
            + (without_userinfo(self.base_url) if self.base_url else "the default base URL"),
            "standin": "recording against the embedded stand-in server "
            "(no HUMANLOOP_API_KEY, HUMANLOOP_BASE_URL or --hl-base-url)",
        }[self.target]
        return (
            f"hl-testkit: record mode {self.record_mode} (from {self.record_mode_from}); "
            f"{where}; cassettes in {self.cassette_dir}"
        )


_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_age(text: str) -> timedelta | None:
    """`30d`, `12h`, `2w`, `90m` → a timedelta; empty → None (no age policy)."""
    text = text.strip()
    if not text:
        return None
    number, unit = text[:-1], text[-1:].lower()
    if unit not in _UNITS or not number.isdigit():
        raise HlTestkitError(
            f"ini hl_max_cassette_age = {text!r}: expected a whole number and a unit "
            "(m, h, d or w), e.g. 30d"
        )
    return timedelta(**{_UNITS[unit]: int(number)})


def _schema_profile(config: pytest.Config) -> str:
    text = config.getoption("hl_schema_profile") or str(config.getini("hl_schema_profile"))
    text = text.strip() or "default"
    if text not in ("default", "strict"):
        raise HlTestkitError(f"ini hl_schema_profile = {text!r}: expected default or strict")
    return text


def _on_expired(text: str) -> str:
    if text not in ("warn", "fail", "rerecord"):
        raise HlTestkitError(f"ini hl_on_expired = {text!r}: expected warn, fail or rerecord")
    return text


def _ini_flag(config: pytest.Config, name: str) -> bool:
    """A true/false ini key; pytest's own error does not say which key it read."""
    try:
        return bool(config.getini(name))
    except (ValueError, pytest.UsageError) as exc:  # pytest 9 wraps the ValueError
        raise HlTestkitError(
            f"hl-testkit: ini {name}: {exc}; write {name} = true or {name} = false "
            "(also accepted: yes/no, on/off, 1/0)"
        ) from None


def _record_mode(config: pytest.Config) -> tuple[str, str]:
    for value, source in (
        (config.getoption("hl_record_mode"), "--hl-record-mode"),
        (os.environ.get("HL_RECORD_MODE"), "HL_RECORD_MODE"),
        (config.getini("hl_record_mode"), "ini hl_record_mode"),
    ):
        if value:
            return validate_record_mode(str(value), source), source
    return "none", "default"


def record_mode_for_test(
    settings: Settings, marker_mode: str | None, fixture_mode: str | None
) -> str:
    """The mode for one test, by the precedence rule above."""
    if settings.record_mode_forced:
        return settings.record_mode
    for value, source in (
        (marker_mode, "@pytest.mark.hl_cassette(record_mode=...)"),
        (fixture_mode, "hl_vcr_config['record_mode']"),
    ):
        if value:
            return validate_record_mode(value, source)
    return settings.record_mode
