"""`hl-testkit ls` and `show`: what cassettes hold, as text or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from hl_testkit.cassettes import file as cassette_file
from hl_testkit.cassettes.canonical import CANONICAL_BASE_URL
from hl_testkit.errors import HlTestkitError


def _files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(path.rglob("*.yaml"))
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"no such file or directory: {path}")
    return found


def _short_uri(uri: str) -> str:
    return uri[len(CANONICAL_BASE_URL) :] if uri.startswith(CANONICAL_BASE_URL) else uri


def describe(path: Path) -> dict[str, Any]:
    data = cassette_file.read(path)
    if data is None:
        raise FileNotFoundError(f"no such cassette: {path}")
    return {
        "path": str(path),
        "recorded_against": data.recorded_against,
        "recorded_at": data.recorded_at,
        "bytes": path.stat().st_size,
        "interactions": [
            {
                "index": n,
                "method": i.request.method,
                "uri": _short_uri(i.request.uri),
                "status": i.response.status,
                "recorded_by": i.recorded_by,
                "schema_violations": i.schema_violations or [],
            }
            for n, i in enumerate(data.interactions)
        ],
    }


def run_ls(paths: list[Path], out: TextIO, err: TextIO, fmt: str = "text") -> int:
    """One line per cassette: interactions, where and when it was recorded.

    A corrupt cassette is named on `err` and the others are still listed (exit 2).
    """
    try:
        files = _files(paths)
    except OSError as exc:
        err.write(f"hl-testkit ls: {exc}\n")
        return 2
    described, unreadable = [], []
    for path in files:
        try:
            described.append(describe(path))
        except (OSError, HlTestkitError) as exc:
            unreadable.append(path)
            err.write(f"hl-testkit ls: {exc}\n")
    if fmt == "json":
        out.write(json.dumps(described, indent=2) + "\n")
    else:
        for d in described:
            marked = sum(bool(i["schema_violations"]) for i in d["interactions"])
            flag = f", {marked} breaking its schema" if marked else ""
            out.write(
                f"{d['path']}: {len(d['interactions'])} interaction(s){flag}; "
                f"recorded against {d['recorded_against'] or '?'} on {d['recorded_at'] or '?'}\n"
            )
        out.write(f"{len(described)} cassette(s)\n")
    if unreadable:
        out.flush()  # the listing, then the line that sums up what is missing from it
        err.write(
            f"hl-testkit ls: {len(unreadable)} cassette(s) could not be read (named above); "
            "`hl-testkit show FILE` shows where, re-recording the test replaces the file\n"
        )
        return 2
    return 0


def run_show(path: Path, out: TextIO, err: TextIO, fmt: str = "text") -> int:
    """Every interaction of one cassette: method, path, status, who recorded it, schema marks."""
    try:
        d = describe(path)
    except (OSError, HlTestkitError) as exc:
        err.write(f"hl-testkit show: {exc}\n")
        return 2
    if fmt == "json":
        out.write(json.dumps(d, indent=2) + "\n")
        return 0
    out.write(
        f"{d['path']} (recorded against {d['recorded_against'] or '?'} "
        f"on {d['recorded_at'] or '?'})\n"
    )
    for i in d["interactions"]:
        by = f"  (recorded by {i['recorded_by']})" if i["recorded_by"] else ""
        out.write(f"  #{i['index']} {i['method']} {i['uri']} -> {i['status']}{by}\n")
        out.writelines(f"      schema: {v}\n" for v in i["schema_violations"])
    return 0
