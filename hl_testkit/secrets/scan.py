"""`hl-testkit scan`: check cassette files for secrets before they are committed.

The recorder scrubs what it writes; this is the second line of defence, for
files edited by hand, recorded by an older version, or scrubbed with rules
that missed something. It looks for every form of the secrets in the
environment (`hl_testkit.secrets.scrub.find_leaks`) and for credential-shaped strings
it was never told about (`find_key_shaped`). Its output names the file, the
line and the kind of finding, never the secret itself: it ends up in CI logs.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from hl_testkit.secrets.scrub import Secret, find_key_shaped, find_leaks, known_secrets

SCANNED_SUFFIXES = (".yaml", ".yml", ".json")
DEFAULT_PATHS = ("cassettes",)


@dataclass(frozen=True)
class ScanFinding:
    path: Path
    line: int  # 1-based
    kind: str  # e.g. "secret, base64" or "sk- key"
    source: str  # the secret's label (HUMANLOOP_API_KEY), or "key-shaped"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind} ({self.source})"


def files_to_scan(paths: Iterable[Path]) -> list[Path]:
    """Named files as they are; directories searched for YAML and JSON files.

    Raises FileNotFoundError for a path that does not exist.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SCANNED_SUFFIXES
            )
        elif path.exists():
            files.append(path)  # named explicitly (e.g. by pre-commit): scanned whatever its name
        else:
            raise FileNotFoundError(f"no such file or directory: {path}")
    return files


def scan_file(path: Path, secrets: Sequence[Secret]) -> list[ScanFinding]:
    data = path.read_bytes()
    found = [
        ScanFinding(path, leak.line, f"secret, {leak.form}", leak.source)
        for leak in find_leaks(data, secrets)
    ]
    leak_lines = {f.line for f in found}
    for shape in find_key_shaped(data.decode("utf-8", errors="replace")):
        if shape.line in leak_lines:
            continue  # already reported, and by name
        source = f"key-shaped, field {shape.field}" if shape.field else "key-shaped"
        found.append(ScanFinding(path, shape.line, shape.kind, source))
    return sorted(found, key=lambda f: f.line)


def scan_paths(
    paths: list[Path],
    env: Mapping[str, str],
    *,
    extra_env_names: Iterable[str] = (),
    extra: Mapping[str, str] | None = None,
    progress: Callable[[int, int, Path], None] | None = None,
) -> list[ScanFinding]:
    """Every finding in the files at or under `paths`, file by file, line by line."""
    secrets = known_secrets(env, extra_env_names, extra or {})
    files = files_to_scan(paths)
    found: list[ScanFinding] = []
    for done, file in enumerate(files):
        if progress is not None:
            progress(done, len(files), file)
        found += scan_file(file, secrets)
    return found


def format_findings(findings: Iterable[ScanFinding]) -> str:
    """One `path:line: kind (source)` line per finding."""
    return "".join(f"{finding}\n" for finding in findings)


def run_scan(
    argv_paths: Sequence[str],
    env: Mapping[str, str],
    out: TextIO,
    err: TextIO | None = None,
    *,
    extra_env_names: Iterable[str] = (),
    fmt: str = "text",
    progress: Callable[[int, int, Path], None] | None = None,
) -> int:
    """`hl-testkit scan [PATHS...]`: 0 when clean, 1 with findings, 2 for a bad path."""
    err = err if err is not None else sys.stderr
    paths = [Path(p) for p in (argv_paths or DEFAULT_PATHS)]
    extra_env_names = tuple(extra_env_names)
    try:
        files = files_to_scan(paths)
        findings = scan_paths(files, env, extra_env_names=extra_env_names, progress=progress)
    except OSError as exc:
        print(f"hl-testkit scan: {exc}", file=err)
        return 2
    if fmt == "json":
        checked = sorted(s.source for s in known_secrets(env, extra_env_names))
        document = {
            "files": len(files),
            "checked_sources": checked,
            "findings": [
                {"path": str(f.path), "line": f.line, "kind": f.kind, "source": f.source}
                for f in findings
            ],
        }
        out.write(json.dumps(document, indent=2) + "\n")
        return 1 if findings else 0
    if not findings:
        checked = sorted(s.source for s in known_secrets(env, extra_env_names))
        what = (
            f"the values of {', '.join(checked)} and key-shaped strings"
            if checked
            else "key-shaped strings only: no key variables are set"
        )
        print(f"hl-testkit scan: {len(files)} file(s) clean (checked for {what})", file=out)
        return 0
    out.write(format_findings(findings))
    in_files = len({f.path for f in findings})
    print(
        f"hl-testkit scan: {len(findings)} finding(s) in {in_files} file(s). Re-record "
        "(the recorder scrubs) or edit the lines above; rotate any real key that was "
        "committed or pushed.",
        file=out,
    )
    return 1
