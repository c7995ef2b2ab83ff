"""Semantic differences between two recordings of the same cassettes.

A re-record shows up in `git diff` as changed YAML; this says, per
interaction, what changed in meaning. Interactions are paired by the request
key replay uses (`hl_testkit.cassettes.matching`: method, path under the base URL,
sorted query, body by meaning), the n-th occurrence of a key with the n-th:
an unpaired one was added or removed, a pair out of the old order was moved.
Within a pair the response's status, kept headers (names without case) and
body are compared; JSON bodies by path (`body.records[0].id`), so key order
and formatting never count, arrays by position. The new side is also checked
against its schema (`hl_testkit.contract.check`): a violation or an unknown property
the old side did not have is a difference too.

Fields the cassette format may grow that are not HTTP (the `schema_violations`
mark, a recorder's name) are not compared: they are derived or bookkeeping.

Pure functions on `CassetteData`; reading files and git is `diff_command`,
output is `diff_format`. Values are shown as recorded, which is already
scrubbed; the formatters scrub again for secrets known to this process.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hl_testkit.cassettes import matching
from hl_testkit.cassettes.model import CassetteData, Headers, Interaction
from hl_testkit.contract.check import UNPARSED, check_interaction
from hl_testkit.contract.schemas import SchemaSet, json_path
from hl_testkit.drift.ignores import IgnoreError as IgnoreError
from hl_testkit.drift.ignores import Ignores as Ignores

#: The kinds of change, in the words the reports use.
ADDED = "interaction added"
REMOVED = "interaction removed"
MOVED = "interaction moved"
STATUS = "status changed"
HEADER = "header changed"
HEADER_ADDED = "header added"
HEADER_REMOVED = "header removed"
VALUE = "value changed"
TYPE = "type changed"
PROPERTY_ADDED = "property added"
PROPERTY_REMOVED = "property removed"
ITEM_ADDED = "item added"
ITEM_REMOVED = "item removed"
BODY = "body changed"
SCHEMA = "schema violation"
UNKNOWN_PROPERTY = "unknown property"


@dataclass(frozen=True)
class Change:
    kind: str  # one of the constants above
    path: str  # "status", "headers.Content-Type", "body.records[0].id"; "" for a whole one
    old: Any = None
    new: Any = None
    message: str = ""  # for schema findings: what is wrong


@dataclass
class InteractionDiff:
    request: str  # `GET /sessions?page=1`
    old_index: int | None  # position in the old cassette; None when added
    new_index: int | None  # position in the new cassette; None when removed
    status: int  # the response status (the new one, when there is one)
    changes: list[Change] = field(default_factory=list)


@dataclass
class CassetteDiff:
    path: str  # relative to the compared roots
    state: str  # "changed", "added" (only in NEW), "removed" (only in OLD)
    interactions: list[InteractionDiff] = field(default_factory=list)

    @property
    def schema_violations(self) -> int:
        return sum(c.kind == SCHEMA for i in self.interactions for c in i.changes)


@dataclass
class DiffReport:
    old: str  # what was compared, for the heading
    new: str
    ignores: tuple[str, ...] = ()  # the ignored paths in force
    compared: int = 0  # cassettes looked at
    cassettes: list[CassetteDiff] = field(default_factory=list)  # those that differ

    @property
    def interactions(self) -> int:
        return sum(len(c.interactions) for c in self.cassettes)

    @property
    def schema_violations(self) -> int:
        return sum(c.schema_violations for c in self.cassettes)

    @property
    def exit_code(self) -> int:
        return 1 if self.cassettes else 0


# -- ignored paths ----------------------------------------------------------------


# -- comparing ---------------------------------------------------------------------


def pair(
    old: Sequence[Interaction], new: Sequence[Interaction]
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """(pairs of old and new positions, in new order; old unpaired; new unpaired).

    The n-th interaction with a key in `old` pairs with the n-th with that key in `new`,
    as replay would play them.
    """
    waiting: dict[matching.RequestKey, list[int]] = {}
    for n, interaction in enumerate(old):
        waiting.setdefault(matching.stored_key(interaction), []).append(n)
    pairs: list[tuple[int, int]] = []
    added: list[int] = []
    for m, interaction in enumerate(new):
        queue = waiting.get(matching.stored_key(interaction))
        if queue:
            pairs.append((queue.pop(0), m))
        else:
            added.append(m)
    removed = sorted(n for queue in waiting.values() for n in queue)
    return pairs, removed, added


def _in_order(pairs: list[tuple[int, int]]) -> set[int]:
    """Old positions of the longest run of pairs still in their old order.

    The other pairs moved; interactions added or removed around them do not
    count as a move.
    """
    tails: list[int] = []  # tails[k]: index into pairs ending the best run of length k+1
    before: list[int] = [-1] * len(pairs)
    for i, (old, _) in enumerate(pairs):
        lo, hi = 0, len(tails)
        while lo < hi:
            mid = (lo + hi) // 2
            if pairs[tails[mid]][0] < old:
                lo = mid + 1
            else:
                hi = mid
        before[i] = tails[lo - 1] if lo else -1
        if lo == len(tails):
            tails.append(i)
        else:
            tails[lo] = i
    kept: set[int] = set()
    i = tails[-1] if tails else -1
    while i >= 0:
        kept.add(pairs[i][0])
        i = before[i]
    return kept


_NO_IGNORES = Ignores()  # frozen: one shared default is safe


def diff_cassettes(
    path: str,
    old: CassetteData | None,
    new: CassetteData | None,
    schemas: SchemaSet,
    ignores: Ignores = _NO_IGNORES,
) -> CassetteDiff | None:
    """What differs between two versions of one cassette; None when nothing does.

    `old` None: the cassette is new; `new` None: it was removed.
    """
    before = old.interactions if old else []
    after = new.interactions if new else []
    pairs, removed, added = pair(before, after)
    in_order = _in_order(pairs)
    found: list[InteractionDiff] = []
    for n in removed:
        item = InteractionDiff(_describe(before[n]), n, None, before[n].response.status)
        item.changes.append(Change(REMOVED, ""))
        found.append(item)
    for m in added:
        item = InteractionDiff(_describe(after[m]), None, m, after[m].response.status)
        item.changes.append(Change(ADDED, ""))
        item.changes += _schema_changes(after[m], None, schemas, ignores)
        found.append(item)
    for n, m in pairs:
        item = InteractionDiff(_describe(after[m]), n, m, after[m].response.status)
        if n not in in_order:
            item.changes.append(Change(MOVED, "", f"#{n}", f"#{m}"))
        bodies = _parsed(before[n], after[m])  # once, for the comparison and the check
        changes = interaction_changes(before[n], after[m], bodies)
        item.changes += [c for c in changes if not ignores.covers(c.path)]
        item.changes += _schema_changes(after[m], before[n], schemas, ignores, bodies)
        if item.changes:
            found.append(item)
    if not found:
        return None
    # In the new order; removed ones last, in their old order.
    found.sort(key=lambda i: (i.new_index is None, i.new_index or 0, i.old_index or 0))
    state = "added" if old is None else "removed" if new is None else "changed"
    return CassetteDiff(path, state, found)


def _describe(interaction: Interaction) -> str:
    return matching.stored_key(interaction).describe()


def interaction_changes(
    old: Interaction, new: Interaction, bodies: tuple[Any, Any] | None = None
) -> list[Change]:
    """Status, kept headers (request and response) and body, old → new (`bodies`: both
    parsed, `_parsed`, when the caller has them)."""
    changes: list[Change] = []
    if old.response.status != new.response.status:
        changes.append(Change(STATUS, "status", old.response.status, new.response.status))
    changes += header_changes("request.headers", old.request.headers, new.request.headers)
    changes += header_changes("headers", old.response.headers, new.response.headers)
    changes += body_changes(old.response.body, new.response.body, bodies)
    return changes


def header_changes(prefix: str, old: Headers, new: Headers) -> list[Change]:
    before = {name.lower(): (name, value) for name, value in old.items()}
    after = {name.lower(): (name, value) for name, value in new.items()}
    changes: list[Change] = []
    for lower in sorted(set(before) | set(after)):
        if lower not in after:
            name, value = before[lower]
            changes.append(Change(HEADER_REMOVED, f"{prefix}.{name}", value, None))
        elif lower not in before:
            name, value = after[lower]
            changes.append(Change(HEADER_ADDED, f"{prefix}.{name}", None, value))
        elif before[lower][1] != after[lower][1]:
            name = after[lower][0]
            changes.append(Change(HEADER, f"{prefix}.{name}", before[lower][1], after[lower][1]))
    return changes


_NO_JSON = object()


def _json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:  # includes UnicodeDecodeError
        return _NO_JSON


def _parsed(old: Interaction, new: Interaction) -> tuple[Any, Any] | None:
    """Both response bodies parsed (`_json`) when they differ; None when they do not."""
    if old.response.body == new.response.body:
        return None
    return _json(old.response.body), _json(new.response.body)


def body_changes(old: bytes, new: bytes, parsed: tuple[Any, Any] | None = None) -> list[Change]:
    """JSON bodies by path; anything else as a whole. `parsed`: both, by `_json`."""
    if old == new:
        return []
    before, after = parsed or (_json(old), _json(new))
    if before is _NO_JSON or after is _NO_JSON:
        return [Change(BODY, "body", _text(old), _text(new))]
    changes: list[Change] = []
    json_changes("body", before, after, changes)
    return changes


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(body)} bytes of binary data>"


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def json_changes(path: str, old: Any, new: Any, out: list[Change]) -> None:
    """Append what differs between two JSON values at `path` to `out`."""
    kind_old, kind_new = json_type(old), json_type(new)
    if kind_old != kind_new:
        out.append(Change(TYPE, path, old, new, f"{kind_old} → {kind_new}"))
    elif kind_old == "object":
        for key in list(old) + [k for k in new if k not in old]:
            sub = json_path([key], path)  # spelt as schema violation paths are
            if key not in new:
                out.append(Change(PROPERTY_REMOVED, sub, old[key], None))
            elif key not in old:
                out.append(Change(PROPERTY_ADDED, sub, None, new[key]))
            else:
                json_changes(sub, old[key], new[key], out)
    elif kind_old == "array":
        for n in range(max(len(old), len(new))):
            sub = json_path([n], path)
            if n >= len(new):
                out.append(Change(ITEM_REMOVED, sub, old[n], None))
            elif n >= len(old):
                out.append(Change(ITEM_ADDED, sub, None, new[n]))
            else:
                json_changes(sub, old[n], new[n], out)
    elif old != new:
        out.append(Change(VALUE, path, old, new))


def _checkable(interaction: Interaction, parsed: Any) -> Any:
    """A body `_json` parsed, as `check_interaction` takes it: what is not a JSON document
    it parses (and reports) itself."""
    if parsed is _NO_JSON or not interaction.response.body:
        return UNPARSED
    return parsed


def _schema_changes(
    new: Interaction,
    old: Interaction | None,
    schemas: SchemaSet,
    ignores: Ignores,
    bodies: tuple[Any, Any] | None = None,
) -> list[Change]:
    """Violations and unknown properties of `new` that `old` did not have (`bodies`:
    both parsed, when the caller has them)."""
    if old is not None and (old.response.status, old.response.body) == (
        new.response.status,
        new.response.body,
    ):
        return []  # the same answer to the same request: nothing it breaks is new
    old_body, new_body = (UNPARSED, UNPARSED) if bodies is None else bodies
    finding = check_interaction(Path(), 0, new, schemas, body=_checkable(new, new_body))
    if finding is None or not (finding.violations or finding.drift):
        return []
    previous = None
    if old is not None:
        previous = check_interaction(Path(), 0, old, schemas, body=_checkable(old, old_body))
    seen_violations = {str(v) for v in previous.violations} if previous else set()
    seen_drift = {d.path for d in previous.drift} if previous else set()
    changes: list[Change] = []
    for violation in finding.violations:
        path = "body" + violation.path[1:]
        if str(violation) not in seen_violations and not ignores.covers(path):
            message = f"{violation.message} ({violation.keyword}; schema {finding.schema})"
            changes.append(Change(SCHEMA, path, None, violation.actual, message))
    # Only properties the schema does not name: what only the strict profile refuses
    # is not a change of the API's shape.
    for drift in (d for d in finding.drift if d.keyword == "additionalProperties"):
        path = "body" + drift.path[1:]
        if drift.path not in seen_drift and not ignores.covers(path):
            message = f"not named by schema {finding.schema}"
            changes.append(Change(UNKNOWN_PROPERTY, path, None, drift.actual, message))
    return changes
