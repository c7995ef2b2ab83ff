"""`hl-testkit diff` output: text for people, JSON for tools, a Markdown table for CI.

The Markdown fits a GitHub Actions job summary (`$GITHUB_STEP_SUMMARY`): a
heading, one sentence, one table row per change. Every format is passed
through the scrubber by the caller (`diff_command`), so a known secret never
shows, even one that reached a cassette by hand.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from hl_testkit.cassettes import wording
from hl_testkit.drift import diff
from hl_testkit.drift.diff import CassetteDiff, Change, DiffReport, InteractionDiff

FORMATS = ("text", "json", "markdown")
_VALUE_WIDTH = 80  # longest value shown in text and Markdown; JSON has them whole
_MARKDOWN_ROWS = 200  # a job summary is capped (1 MiB); more rows are counted, not shown


#: A value as JSON, cut to `_VALUE_WIDTH`.
_show = functools.partial(wording.show, limit=_VALUE_WIDTH)


def describe_change(change: Change) -> str:
    """One line: the path, the kind of change, old → new."""
    kind, where = change.kind, f"{change.path}: " if change.path else ""
    if kind in (diff.ADDED, diff.REMOVED):
        return kind
    if kind == diff.MOVED:
        return f"{kind}: {change.old} → {change.new}"
    if kind == diff.TYPE:
        return f"{where}type changed, {change.message}: {_show(change.old)} → {_show(change.new)}"
    if kind in (diff.PROPERTY_ADDED, diff.ITEM_ADDED, diff.HEADER_ADDED):
        return f"{where}{kind}: {_show(change.new)}"
    if kind in (diff.PROPERTY_REMOVED, diff.ITEM_REMOVED, diff.HEADER_REMOVED):
        return f"{where}{kind} (was {_show(change.old)})"
    if kind == diff.SCHEMA:
        return f"{where}{kind}: {change.message}; value {_show(change.new)}"
    if kind == diff.UNKNOWN_PROPERTY:
        return f"{where}{kind} ({change.message}): {_show(change.new)}"
    return f"{where}{_show(change.old)} → {_show(change.new)}"


def _label(item: InteractionDiff) -> str:
    if item.new_index is None:
        return f"old #{item.old_index} {item.request} -> {item.status}"
    return f"#{item.new_index} {item.request} -> {item.status}"


def headline(report: DiffReport) -> str:
    if not report.cassettes:
        return f"no semantic difference in {_count(report.compared, 'cassette')}"
    found = (
        f"{_count(report.interactions, 'interaction')} {_differ(report.interactions)} in "
        f"{len(report.cassettes)} of {_count(report.compared, 'cassette')}"
    )
    if report.schema_violations:
        found += f"; {_count(report.schema_violations, 'schema violation')}"
    return found


def _differ(n: int) -> str:
    return "differs" if n == 1 else "differ"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def cassette_lines(cassette: CassetteDiff, indent: str = "") -> list[str]:
    """The text block of one cassette: a line, then each interaction and its changes."""
    state = {"added": " (new cassette)", "removed": " (cassette removed)"}.get(cassette.state, "")
    count = _count(len(cassette.interactions), "interaction")
    lines = [f"{indent}{cassette.path}{state}: {count} {_differ(len(cassette.interactions))}"]
    for item in cassette.interactions:
        whole = [c for c in item.changes if c.kind in (diff.ADDED, diff.REMOVED)]
        label = f"{indent}  {_label(item)}"
        lines.append(f"{label}: {whole[0].kind}" if whole else label)
        lines += [f"{indent}      {describe_change(c)}" for c in item.changes if c not in whole]
    return lines


def format_text(report: DiffReport) -> str:
    lines = [f"hl-testkit diff: {report.old} → {report.new}"]
    if report.ignores:
        lines.append(f"ignoring: {', '.join(report.ignores)}")
    for cassette in report.cassettes:
        lines += cassette_lines(cassette)
    verdict = "FOUND" if report.cassettes else "OK"
    lines.append(f"{verdict}: {headline(report)}")
    return "\n".join(lines) + "\n"


def as_json(report: DiffReport) -> dict[str, Any]:
    return {
        "ok": report.exit_code == 0,
        "exit_code": report.exit_code,
        "old": report.old,
        "new": report.new,
        "ignored": list(report.ignores),
        "totals": {
            "compared": report.compared,
            "cassettes": len(report.cassettes),
            "interactions": report.interactions,
            "schema_violations": report.schema_violations,
        },
        "cassettes": [
            {
                "path": c.path,
                "state": c.state,
                "interactions": [
                    {
                        "request": i.request,
                        "old_index": i.old_index,
                        "new_index": i.new_index,
                        "status": i.status,
                        "changes": [_change_json(change) for change in i.changes],
                    }
                    for i in c.interactions
                ],
            }
            for c in report.cassettes
        ],
    }


def _change_json(change: Change) -> dict[str, Any]:
    data = {"kind": change.kind, "path": change.path, "old": change.old, "new": change.new}
    if change.message:
        data["message"] = change.message
    return data


def format_json(report: DiffReport) -> str:
    return json.dumps(as_json(report), indent=2, ensure_ascii=False, default=str) + "\n"


def _cell(text: str) -> str:
    """A table cell as code: pipes escaped, one line."""
    text = text.replace("`", "'").replace("|", "\\|").replace("\n", " ")
    return f"`{text}`" if text else ""


def _markdown_row(cassette: CassetteDiff, item: InteractionDiff, change: Change) -> str:
    where = f"#{item.new_index}" if item.new_index is not None else f"old #{item.old_index}"
    old = (
        "" if change.kind in (diff.ADDED, diff.SCHEMA) or change.old is None else _show(change.old)
    )
    new = "" if change.kind in (diff.REMOVED,) or change.new is None else _show(change.new)
    if change.kind == diff.MOVED:
        old, new = str(change.old), str(change.new)
    kind = f"{change.kind}: {change.message}" if change.message else change.kind
    cells = [
        _cell(cassette.path),
        f"{where} {_cell(f'{item.request} -> {item.status}')}",
        kind.replace("|", "\\|"),
        _cell(change.path),
        _cell(old),
        _cell(new),
    ]
    return "| " + " | ".join(cells) + " |"


def format_markdown(report: DiffReport) -> str:
    lines = ["### hl-testkit diff", ""]
    sentence = headline(report)
    lines.append(
        f"**{sentence[0].upper() + sentence[1:]}** (old: `{report.old}`, new: `{report.new}`)."
    )
    if report.ignores:
        lines += ["", "Ignored paths: " + ", ".join(_cell(p) for p in report.ignores) + "."]
    if not report.cassettes:
        return "\n".join(lines) + "\n"
    if report.schema_violations:
        lines += ["", "A new body breaks its JSON Schema: the API changed shape."]
    rows = [
        _markdown_row(c, i, change)
        for c in report.cassettes
        for i in c.interactions
        for change in i.changes
    ]
    lines += [
        "",
        "| cassette | interaction | change | path | old | new |",
        "|---|---|---|---|---|---|",
    ]
    lines += rows[:_MARKDOWN_ROWS]
    if len(rows) > _MARKDOWN_ROWS:
        lines += ["", f"… and {len(rows) - _MARKDOWN_ROWS} more changes (see the text or JSON)."]
    return "\n".join(lines) + "\n"


def render(report: DiffReport, fmt: str) -> str:
    if fmt == "json":
        return format_json(report)
    if fmt == "markdown":
        return format_markdown(report)
    return format_text(report)
