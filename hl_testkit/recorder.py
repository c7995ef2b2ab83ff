"""A test's cassette (`Recording`): what it held, what was played and recorded.

vcrpy patches the HTTP clients (requests, urllib3 and so the official SDK,
httpx, aiohttp, ...) and asks a cassette whether it can answer each request;
`hl_testkit.vcr_cassette.HlCassette` (the only module importing `vcr`, loaded
by `activated` on first use) answers from a `Recording`, with our own file
format and our own matching (`hl_testkit.matching`), and never saves by
itself: `Recording.finish` decides what is written, once the test's outcome
is known.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hl_testkit import canonical, cassette_file, matching, paths, scrub, store
from hl_testkit.cassette_file import CassetteData, Interaction
from hl_testkit.errors import HlTestkitError
from hl_testkit.misses import MissReport

RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")

#: `hl_vcr_config` keys we pass on to vcrpy. The rest (serializer, match_on,
#: persister, ...) would fight hl-testkit's own format and matching.
VCR_CONFIG_KEYS = frozenset(
    {
        "before_record_request",
        "before_record_response",
        "custom_patches",
        "decode_compressed_response",
        "filter_headers",
        "filter_post_data_parameters",
        "filter_query_parameters",
        "ignore_hosts",
        "ignore_localhost",
    }
)


class CassetteMissError(HlTestkitError):
    """A request the cassette cannot answer, in a mode that may not record it."""


class LeakError(HlTestkitError):
    """A secret would have been written to a cassette; nothing was written."""


@dataclass
class SaveResult:
    action: str  # "written", "unchanged", "removed", "discarded", "read-only", "none"
    interactions: int = 0


@dataclass
class Recording:
    """One test's cassette: what it held, what was played and recorded."""

    path: Path
    record_mode: str
    base_url: str = field(repr=False)  # repr=False: its userinfo may hold a credential
    nodeid: str
    api_key: str = field(default="", repr=False)  # a Recording in a report shows no key
    recorded_against: str | None = None
    recorded_at: str | None = None
    refresh_date: bool = False  # set when an expired cassette is re-recorded
    secrets: list[scrub.Secret] = field(default_factory=list, repr=False)
    rules: scrub.ScrubRules = scrub.DEFAULT_RULES
    existed: bool = False
    loaded: list[Interaction] = field(default_factory=list)
    recorded: list[Interaction] = field(default_factory=list)
    played: list[Interaction] = field(default_factory=list)
    #: Where in `loaded` each of `played` is, in the same order: no scan of `loaded` needed.
    played_at: list[int] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    #: `vars:` of the cassette: read by `load`, written by `finish` (see CassetteData.vars).
    vars: dict[str, cassette_file.VarValue] = field(default_factory=dict)
    _index: matching.CassetteIndex = field(default_factory=matching.CassetteIndex)
    _next: dict[matching.RequestKey, int] = field(default_factory=dict)

    def load(self) -> None:
        """Read the cassette (not in rewrite mode, which starts afresh)."""
        data = (
            None if self.record_mode == "rewrite" else cassette_file.read(self.path, hint=self.hint)
        )
        self.existed = data is not None
        if data is not None:
            self.recorded_at = data.recorded_at
            self.vars = dict(data.vars)
            self.loaded = data.interactions
            self._index = matching.CassetteIndex.of(map(self._stored_key, self.loaded))

    # -- lookups ------------------------------------------------------------------

    def key_of(
        self, method: str, uri: str, body: bytes | str | None, headers: cassette_file.Headers
    ) -> matching.RequestKey:
        """A live request's key, scrubbed exactly as it would be when recorded."""
        stored_uri = scrub.scrub_uri(
            canonical.canonical_uri(uri, self.base_url), self.secrets, self.rules
        )
        clean_body = scrub.scrub_body(body, headers, self.secrets, self.rules)
        return matching.request_key(
            method, stored_uri, clean_body, canonical.api_prefix(stored_uri)
        )

    def clean(self, interaction: Interaction) -> Interaction:
        """Scrubbed of every secret, before it is kept anywhere."""
        return scrub.scrub_interaction(interaction, self.secrets, self.rules)

    def _stored_key(self, interaction: Interaction) -> matching.RequestKey:
        r = interaction.request
        return matching.request_key(r.method, r.uri, r.body, canonical.api_prefix(r.uri))

    def take(self, key: matching.RequestKey) -> Interaction | None:
        """The next unplayed recorded answer to `key`, in recorded order."""
        positions = self._index.positions(key)
        turn = self._next.get(key, 0)
        if turn >= len(positions):
            return None
        self._next[key] = turn + 1
        interaction = self.loaded[positions[turn]]
        self.played.append(interaction)
        self.played_at.append(positions[turn])
        return interaction

    def played_positions(self) -> list[tuple[int, Interaction]]:
        """(position in `loaded`, interaction) of what was played, in played order."""
        if len(self.played_at) == len(self.played):
            return list(zip(self.played_at, self.played, strict=True))
        where = {id(i): n for n, i in enumerate(self.loaded)}  # `played` was filled by hand
        return [(where[id(i)], i) for i in self.played]

    def miss(self, key: matching.RequestKey) -> CassetteMissError:
        report = MissReport(
            key=key,
            path=self.path,
            existed=self.existed,
            record_mode=self.record_mode,
            recorded=self._index.keys,
            already_played=len(self._index.positions(key)),
            nodeid=self.nodeid,
        )
        message = scrub.scrub_text(report.format(), self.secrets)
        self.misses.append(message)
        return CassetteMissError(message)

    # -- saving -------------------------------------------------------------------

    @property
    def unplayed(self) -> list[Interaction]:
        if not self.unplayed_count:
            return []
        played = {n for n, _ in self.played_positions()}
        return [i for n, i in enumerate(self.loaded) if n not in played]

    @property
    def unplayed_count(self) -> int:
        """How many loaded interactions were not played; costs what was played."""
        return len(self.loaded) - len({n for n, _ in self.played_positions()})

    def finish(self, test_failed: bool) -> SaveResult:
        """Write what was recorded, unless the test failed or nothing changed.

        The file is re-read under its lock and merged (another xdist worker may
        have recorded into the same cassette meanwhile), then written atomically.
        """
        if self.record_mode == "none" or (self.record_mode == "once" and self.existed):
            return SaveResult("read-only", len(self.loaded))
        if test_failed:
            return SaveResult("discarded" if self.recorded else "none")
        if not self.recorded and self.record_mode != "rewrite":
            return SaveResult("none", len(self.loaded))
        count = 0

        def compose(current: CassetteData | None) -> CassetteData | None:
            nonlocal count
            on_disk = current.interactions if current else []
            kept_vars = current.vars if current and self.record_mode != "rewrite" else {}
            if self.record_mode == "rewrite":
                out = list(self.recorded)
            elif self.record_mode == "all":
                replaced = {self._stored_key(i) for i in self.recorded}
                out = [i for i in on_disk if self._stored_key(i) not in replaced]
                out += self.recorded
            else:  # once on a new file, new_episodes
                out = on_disk + self.recorded
            count = len(out)
            if not out:
                return None
            # An expired cassette re-recorded gets today's date even if nothing changed.
            date = store.today() if self.refresh_date else None
            return CassetteData(out, self.recorded_against, date, {**kept_vars, **self.vars})

        action = store.update(
            self.path,
            compose,
            hint=self.hint,
            overwrite_corrupt=self.record_mode == "rewrite",
            stamp=not self.refresh_date,
            before_write=self._guard_leaks,
        )
        return SaveResult(action, count)

    @property
    def hint(self) -> str:
        return f"Re-record it: {paths.rerecord_command(self.nodeid, 'rewrite')}"

    def _guard_leaks(self, text: str) -> None:
        """The last line of defence: no known secret, in any form, reaches the disk."""
        leaks = scrub.find_leaks(text, self.secrets)
        if leaks:
            where = ", ".join(f"{leak.source} ({leak.form}) at line {leak.line}" for leak in leaks)
            raise LeakError(
                f"hl-testkit refused to write {self.path}: it would hold {where}. "
                "Nothing was written (a previous version, if any, is unchanged). "
                "A scrub rule is missing: "
                "add the field, header or query name (ini hl_scrub_fields / hl_scrub_headers "
                "/ hl_scrub_query) or a scrub function (the hl_scrub_rules fixture)."
            )


@contextlib.contextmanager
def activated(recording: Recording, vcr_config: dict[str, Any]) -> Iterator[Recording]:
    """Patch the HTTP clients so that every request goes through `recording`."""
    unknown = set(vcr_config) - VCR_CONFIG_KEYS
    if unknown:
        raise HlTestkitError(
            "hl_vcr_config or @pytest.mark.hl_cassette(...): "
            f"unsupported key(s) {sorted(unknown)}; "
            f"hl-testkit passes on only {sorted(VCR_CONFIG_KEYS)} "
            "(cassette format, matching and record mode are its own)."
        )
    # vcrpy, and the HTTP clients it patches, are imported on first use only; through
    # sys.modules (not the package attribute), so that a module dropped from it (as
    # pytester's in-process runs do) is imported afresh with the clients it patches.
    vcr_cassette = importlib.import_module("hl_testkit.vcr_cassette")
    with vcr_cassette.patched(recording, vcr_config):
        yield recording


def validate_record_mode(value: str, source: str) -> str:
    if value not in RECORD_MODES:
        raise HlTestkitError(
            f"{source}: record mode {value!r} is not one of {', '.join(RECORD_MODES)}"
        )
    return value


RequestHook = Callable[[Any], Any]
