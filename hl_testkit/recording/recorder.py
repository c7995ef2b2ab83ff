"""A test's cassette (`Recording`): what it held, what was played and recorded.

vcrpy patches the HTTP clients (requests, urllib3 and so the official SDK,
httpx, aiohttp, ...) and asks a cassette whether it can answer each request;
`hl_testkit.recording.vcr_cassette.HlCassette` (the only module importing `vcr`, loaded
by `activated` on first use) answers from a `Recording`, with our own file
format and our own matching (`hl_testkit.cassettes.matching`), and never saves by
itself: `Recording.finish` decides what is written, once the test's outcome
is known.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hl_testkit.cassettes import canonical, matching, store
from hl_testkit.cassettes import file as cassette_file
from hl_testkit.cassettes.model import CassetteData, Headers, Interaction, VarValue
from hl_testkit.errors import ApiBoundaryError, HlTestkitError
from hl_testkit.recording import paths
from hl_testkit.recording.misses import MissReport
from hl_testkit.secrets import scrub

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
    #: The cassette as the save found it and as it composed it (for what a re-record
    #: changed): no file, or not saved, is None.
    before: CassetteData | None = None
    after: CassetteData | None = None


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
    #: Do the cassette's unattributed (format 1) interactions belong to this test? Yes
    #: in its own default-named cassette; in one shared by name they are everyone's.
    owns_unattributed: bool = True
    loaded: list[Interaction] = field(default_factory=list)
    recorded: list[Interaction] = field(default_factory=list)
    played: list[Interaction] = field(default_factory=list)
    #: Where in `loaded` each of `played` is, in the same order: no scan of `loaded` needed.
    played_at: list[int] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    #: May requests clients be answered straight from the index (requests_replay)?
    #: Set while the cassette is activated: record mode none, no request hook.
    direct_replay: bool = False
    #: May the `sessions` client record without vcrpy's stubs (record_adapter)? Set while
    #: the cassette is activated: a recording mode, no request or response hook.
    direct_record: bool = False
    #: `vars:` of the cassette: read by `load`, written by `finish` (see CassetteData.vars).
    vars: dict[str, VarValue] = field(default_factory=dict)
    _index: matching.CassetteIndex = field(default_factory=matching.CassetteIndex)
    _next: dict[matching.RequestKey, int] = field(default_factory=dict)
    #: Key → positions in `loaded` this test may play: its own, then unattributed ones.
    _playable: dict[matching.RequestKey, list[int]] = field(default_factory=dict)
    _own_count: int = 0

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
            self._index = matching.CassetteIndex.of(map(matching.stored_key, self.loaded))
            self._index_playable()

    def _index_playable(self) -> None:
        own: dict[matching.RequestKey, list[int]] = {}
        common: dict[matching.RequestKey, list[int]] = {}
        for n, interaction in enumerate(self.loaded):
            if self.owns(interaction):
                own.setdefault(self._index.keys[n], []).append(n)
            elif interaction.recorded_by is None:
                common.setdefault(self._index.keys[n], []).append(n)
        self._own_count = sum(map(len, own.values()))
        # A test's own answers come first: another test's unattributed copy of the same
        # request is played only when this test recorded fewer of it.
        self._playable = {k: own.get(k, []) + common.get(k, []) for k in own.keys() | common}

    @property
    def holds_own(self) -> bool:
        """Does the cassette hold interactions of this test? (`once` records when not.)"""
        return self._own_count > 0

    def owns(self, interaction: Interaction) -> bool:
        """Was `interaction` recorded by this test (see `owns_unattributed`)?"""
        if interaction.recorded_by is None:
            return self.owns_unattributed
        return interaction.recorded_by == self.nodeid

    # -- lookups ------------------------------------------------------------------

    def key_of(
        self, method: str, uri: str, body: bytes | str | None, headers: Headers
    ) -> matching.RequestKey:
        """A live request's key, scrubbed exactly as it would be when recorded."""
        return self.key_and_uri(method, uri, body, headers)[0]

    def key_and_uri(
        self, method: str, uri: str, body: bytes | str | None, headers: Headers
    ) -> tuple[matching.RequestKey, str, bytes | None]:
        """`key_of`, and the URI and body as they are stored (canonical, scrubbed) that
        the key is made of: a recording passes them on to `clean` rather than scrub them
        again."""
        stored_uri = scrub.scrub_uri(
            canonical.canonical_uri(uri, self.base_url), self.secrets, self.rules
        )
        # Headers matter only to decode a body (Content-Encoding, Content-Type). No body
        # (None or empty) has no key body either: no scrubbing to do.
        clean_body = scrub.scrub_body(body, headers, self.secrets, self.rules) if body else None
        key = matching.request_key(method, stored_uri, clean_body, canonical.api_prefix(stored_uri))
        return key, stored_uri, clean_body

    def refuse_outside_base(self, method: str, uri: str) -> None:
        """A request to the API's host must stay under its base path: else refused, unsent."""
        escaped = canonical.path_outside_base(uri, self.base_url)
        if escaped is None:
            return
        raise self.refuse(
            f"hl-testkit refused {method} {uri}: its path resolves to "
            f"{escaped}, outside the API's base path {urlsplit(self.base_url).path or '/'} "
            f"({self.base_url}). A path parameter such as an id of '..' or '../../x' "
            "leads there; nothing was sent or recorded. Check the id, or use the sessions "
            "fixture (SessionsClient), which encodes or refuses such ids."
        )

    def answer(
        self, method: str, uri: str, body: bytes | str | None, headers: Mapping[str, Any]
    ) -> Interaction:
        """The recorded answer to a live request, as replay gives it: refused if it leaves
        the API, the miss raised if there is none left."""
        self.refuse_outside_base(method, uri)
        # Headers only decode a body: the copy is made only for one.
        key = self.key_of(method, uri, body, dict(headers) if body else {})
        interaction = self.take(key)
        if interaction is None:
            raise self.miss(key)
        return interaction

    def refuse(self, message: str) -> ApiBoundaryError:
        """The error for a request that would leave the API; the test fails even if it
        catches it."""
        self.misses.append(message)
        return ApiBoundaryError(message)

    def clean(
        self,
        interaction: Interaction,
        uri_scrubbed: bool = False,
        clean_body: bytes | scrub.NotGiven | None = scrub.NOT_GIVEN,
    ) -> Interaction:
        """Scrubbed of every secret, before it is kept anywhere (its URI left as it is
        when `uri_scrubbed`, its request body `clean_body` when given: made by
        `key_and_uri` from the same URI and body)."""
        return scrub.scrub_interaction(
            interaction, self.secrets, self.rules, uri_scrubbed, clean_body
        )

    def take(self, key: matching.RequestKey) -> Interaction | None:
        """The next unplayed recorded answer to `key`, in recorded order."""
        positions = self._playable.get(key, [])
        turn = self._next.get(key, 0)
        if turn >= len(positions):
            return None
        self._next[key] = turn + 1
        interaction = self.loaded[positions[turn]]
        self.played.append(interaction)
        self.played_at.append(positions[turn])
        return interaction

    def can_take(self, key: matching.RequestKey) -> bool:
        """Is there an unplayed answer to `key` this test may play?"""
        return self._next.get(key, 0) < len(self._playable.get(key, []))

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
            already_played=len(self._playable.get(key, [])),
            nodeid=self.nodeid,
            recorded_by_others=tuple(
                dict.fromkeys(
                    str(by)
                    for n in self._index.positions(key)
                    if (by := self.loaded[n].recorded_by) not in (None, self.nodeid)
                )
            ),
        )
        message = scrub.scrub_text(report.format(), self.secrets)
        self.misses.append(message)
        return CassetteMissError(message)

    # -- saving -------------------------------------------------------------------

    @property
    def unplayed(self) -> list[Interaction]:
        """This test's own interactions that it did not play (others' never count)."""
        if not self._own_count:
            return []
        played = {n for n, _ in self.played_positions()}
        return [i for n, i in enumerate(self.loaded) if n not in played and self.owns(i)]

    @property
    def unplayed_count(self) -> int:
        """How many of this test's own interactions were not played; costs what was played."""
        played = {n for n, i in self.played_positions() if self.owns(i)}
        return self._own_count - len(played)

    def finish(self, test_failed: bool) -> SaveResult:
        """Write what was recorded, unless the test failed or nothing changed.

        The file is re-read under its lock and merged (another xdist worker may
        have recorded into the same cassette meanwhile), then written atomically.
        """
        if self.record_mode == "none" or (self.record_mode == "once" and self.holds_own):
            return SaveResult("read-only", len(self.loaded))
        if test_failed:
            return SaveResult("discarded" if self.recorded else "none")
        if not self.recorded and self.record_mode != "rewrite":
            return SaveResult("none", len(self.loaded))
        count = 0
        before: CassetteData | None = None
        after: CassetteData | None = None

        def compose(current: CassetteData | None) -> CassetteData | None:
            nonlocal count, before, after
            before = after = current  # the last call is the one saved
            on_disk = current.interactions if current else []
            # Vars are the test's own only when the file is (scenarios never share one).
            rewritten = self.record_mode == "rewrite" and not self._shares(on_disk)
            kept_vars = current.vars if current and not rewritten else {}
            out = self.merged(on_disk)
            count = len(out)
            if not out:
                return None
            # An expired cassette re-recorded gets today's date even if nothing changed.
            date = store.today() if self.refresh_date else None
            after = CassetteData(out, self.recorded_against, date, {**kept_vars, **self.vars})
            return after

        action = store.update(
            self.path,
            compose,
            hint=self.hint,
            overwrite_corrupt=self.record_mode == "rewrite",
            stamp=not self.refresh_date,
            before_write=self._guard_leaks,
        )
        return SaveResult(action, count, before, after)

    def merged(self, on_disk: list[Interaction]) -> list[Interaction]:
        """The cassette's interactions once this test's recording is saved into `on_disk`.

        Only this test's interactions are ever replaced: `rewrite` replaces all of
        them, `all` those whose requests it sent again; `once` and `new_episodes`
        append. Both replacing modes also claim, one for one, unattributed
        interactions of a shared cassette with the requests they re-recorded (so
        re-recording every sharing test attributes a format 1 cassette). The new
        interactions take the place of the first one they replace: a re-record of
        unchanged exchanges leaves the file as it was.
        """
        mine = [attributed(i, self.nodeid) for i in self.recorded]
        if self.record_mode not in ("rewrite", "all"):
            return on_disk + mine
        recorded_keys = list(map(matching.stored_key, self.recorded))
        replaced = set(recorded_keys)
        disk_keys = list(map(matching.stored_key, on_disk))  # each worked out once
        claimed = self._claims(on_disk, disk_keys, recorded_keys)
        out: list[Interaction] = []
        at = None
        for n, interaction in enumerate(on_disk):
            drop = n in claimed or (
                self.owns(interaction)
                and (self.record_mode == "rewrite" or disk_keys[n] in replaced)
            )
            if drop and at is None:
                at = len(out)
            if not drop:
                out.append(interaction)
        at = len(out) if at is None else at
        return out[:at] + mine + out[at:]

    def _claims(
        self,
        on_disk: list[Interaction],
        disk_keys: list[matching.RequestKey],
        recorded_keys: list[matching.RequestKey],
    ) -> set[int]:
        """Positions of the shared unattributed interactions this recording takes over.

        One per recorded request, the first free one with its key from where the
        previous one was found: identical requests of several tests (every test's
        `create`) are claimed in a run, so their file order stays as it was.
        """
        free: dict[int, matching.RequestKey] = {}
        # A recorded request this test already held an answer to replaces that one.
        held: dict[matching.RequestKey, int] = {}
        for n, (interaction, key) in enumerate(zip(on_disk, disk_keys, strict=True)):
            if self.owns(interaction):
                held[key] = held.get(key, 0) + 1
            elif interaction.recorded_by is None:
                free[n] = key
        claimed: set[int] = set()
        start = 0
        for key in recorded_keys:
            if held.get(key, 0) > 0:
                held[key] -= 1
                continue
            candidates = [n for n, k in free.items() if k == key and n not in claimed]
            if candidates:
                n = next((c for c in candidates if c >= start), candidates[0])
                claimed.add(n)
                start = n + 1
        return claimed

    def _shares(self, on_disk: list[Interaction]) -> bool:
        return any(not self.owns(i) for i in on_disk)

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


def attributed(interaction: Interaction, nodeid: str) -> Interaction:
    """`dataclasses.replace(interaction, recorded_by=nodeid)`, by its constructor: a fifth
    of the cost, for every interaction a recording saves. `tests/test_recorder_merge.py`
    holds it to `dataclasses.replace` for every field `Interaction` has."""
    return Interaction(
        interaction.request, interaction.response, interaction.schema_violations, nodeid
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
    vcr_cassette = importlib.import_module("hl_testkit.recording.vcr_cassette")
    with vcr_cassette.patched(recording, vcr_config):
        yield recording


RequestHook = Callable[[Any], Any]
