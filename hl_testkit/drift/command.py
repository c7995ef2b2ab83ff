"""`hl-testkit diff`: which cassettes to compare (files, directories, a git revision).

OLD and NEW are two files, or two directories whose `*.yaml` files are paired
by relative path. With `--git REV`, the working tree's cassettes under the
given paths (default `cassettes`) are compared with those at REV, read with
`git ls-tree` and `git show` (no checkout, nothing written). Every cassette
is read with the project's own loader (`cassette_file.loads`), so a corrupt
one is exit 2 with the loader's message.

Ignored paths come from `--ignore` and from ini `hl_diff_ignore` in the
pytest configuration file the installed pytest would take (`drift.ini`), so
the command and the end-of-run summary agree.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from hl_testkit.cassettes import file as cassette_file
from hl_testkit.cassettes.model import CassetteData
from hl_testkit.contract.schemas import SchemaSet
from hl_testkit.drift import format as diff_format
from hl_testkit.drift.diff import DiffReport, diff_cassettes
from hl_testkit.drift.ignores import Ignores
from hl_testkit.drift.ini import INI_KEY, ini_ignores
from hl_testkit.errors import HlTestkitError
from hl_testkit.secrets import scrub
from hl_testkit.secrets.scrubbed_stream import ScrubbedStream


class DiffInputError(HlTestkitError):
    """A path, revision or cassette that cannot be compared (exit 2)."""


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a label, and relative path → the cassette's loader."""

    label: str
    files: dict[str, Callable[[], CassetteData]]  # relative path -> its loader


# -- files and directories -----------------------------------------------------------


def _read(path: Path) -> CassetteData:
    data = cassette_file.read(path)
    if data is None:
        raise DiffInputError(f"{path}: no such file or directory")
    return data


def _tree(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*.yaml")) if p.is_file()}


def file_sides(old_arg: str, new_arg: str, cwd: Path) -> tuple[Side, Side]:
    """Two files (one cassette, shown by NEW's name) or two directories."""
    old, new = cwd / old_arg, cwd / new_arg
    for path in (old_arg, new_arg):
        if not (cwd / path).exists():
            raise DiffInputError(f"{path}: no such file or directory")
    if old.is_dir() != new.is_dir():
        raise DiffInputError(
            f"{old_arg} and {new_arg}: compare two cassette files or two directories, "
            "not one of each"
        )
    if old.is_dir():
        old_files, new_files = _tree(old), _tree(new)
    else:
        old_files, new_files = {new_arg: old}, {new_arg: new}
    return (
        Side(old_arg, {k: _loader(p) for k, p in old_files.items()}),
        Side(new_arg, {k: _loader(p) for k, p in new_files.items()}),
    )


def _loader(path: Path) -> Callable[[], CassetteData]:
    return lambda: _read(path)


# -- git -------------------------------------------------------------------------------


def _git(args: list[str], cwd: Path) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise DiffInputError("--git needs the git command, and it is not on PATH") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DiffInputError(f"git {' '.join(args)} failed: {said[-1] if said else 'no output'}")
    return done.stdout


def git_sides(rev: str, paths: list[Path], cwd: Path) -> tuple[Side, Side]:
    """Working tree (new) against revision `rev` (old), under `paths`."""
    try:
        top = Path(_git(["rev-parse", "--show-toplevel"], cwd).decode().strip())
    except DiffInputError:
        raise DiffInputError(
            f"--git {rev}: {cwd} is not inside a git repository; run it in one, "
            "or compare two paths: hl-testkit diff OLD NEW"
        ) from None
    try:
        commit = _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd)
    except DiffInputError:
        raise DiffInputError(
            f"--git {rev}: no such revision in {top} (try HEAD, a branch, a tag or a commit)"
        ) from None
    sha = commit.decode().strip()
    here = cwd.resolve()  # paths are shown relative to it, on both sides alike
    old: dict[str, Callable[[], CassetteData]] = {}
    new: dict[str, Callable[[], CassetteData]] = {}
    for path in paths:
        absolute = (cwd / path).resolve()
        try:
            in_repo = absolute.relative_to(top.resolve()).as_posix()
        except ValueError:
            raise DiffInputError(f"--git {rev}: {path} is outside the repository {top}") from None
        names = _git(["ls-tree", "-r", "-z", "--name-only", sha, "--", in_repo or "."], top)
        at_rev = [n for n in names.decode("utf-8").split("\0") if n.endswith(".yaml")]
        if absolute.is_dir():
            files = list(_tree(absolute).values())
        else:
            files = [absolute] if absolute.is_file() else []
        if not files and not at_rev:
            raise DiffInputError(f"{path}: no cassettes here nor at {rev}")
        new.update({_shown(p, here): _loader(p) for p in files})
        for name in at_rev:
            old[_shown(top.resolve() / name, here)] = _git_loader(sha, name, top, rev)
    return Side(rev, old), Side("working tree", new)


def _shown(path: Path, cwd: Path) -> str:
    return Path(os.path.relpath(path, cwd)).as_posix()


def _git_loader(sha: str, name: str, top: Path, rev: str) -> Callable[[], CassetteData]:
    def load() -> CassetteData:
        raw = _git(["show", f"{sha}:{name}"], top)
        return cassette_file.loads(raw, top / name, hint=f"(the version at {rev})")

    return load


# -- the command ---------------------------------------------------------------------


def compare(old: Side, new: Side, schemas: SchemaSet, ignores: Ignores) -> DiffReport:
    report = DiffReport(old.label, new.label, ignores=ignores.patterns)
    for path in sorted(set(old.files) | set(new.files)):
        before = old.files[path]() if path in old.files else None
        after = new.files[path]() if path in new.files else None
        report.compared += 1
        found = diff_cassettes(path, before, after, schemas, ignores)
        if found is not None:
            report.cassettes.append(found)
    return report


def run_diff(
    *,
    old: str | None,
    new: str | None,
    paths: list[str],
    git_rev: str | None,
    fmt: str,
    ignore: list[str],
    schemas: SchemaSet,
    out: TextIO,
    err: TextIO,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Compare and print; 0 no semantic difference, 1 differences, 2 bad input."""
    cwd = cwd or Path.cwd()
    # A message may quote a cassette (a corrupt value) or a path: scrubbed like the report.
    secrets = scrub.known_secrets(os.environ if env is None else env)
    try:
        from_ini, ini_file = ini_ignores(cwd)
        ignores = Ignores.of(
            [*ignore, *from_ini],
            source="--ignore" if not from_ini else f"--ignore or {INI_KEY} ({ini_file})",
        )
        if git_rev is not None:
            sides = git_sides(git_rev, [Path(p) for p in paths or ["cassettes"]], cwd)
        else:
            sides = file_sides(str(old), str(new), cwd)
        report = compare(*sides, schemas, ignores)
    except HlTestkitError as exc:  # includes CassetteError: the file and what is wrong
        ScrubbedStream.of(err, secrets).write(f"hl-testkit diff: {exc}\n")
        return 2
    ScrubbedStream.of(out, secrets).write(diff_format.render(report, fmt))
    return report.exit_code


# -- after a recording run ------------------------------------------------------------


def recorded_changes(
    path: Path,
    before: CassetteData,
    after: CassetteData | None,
    schemas: SchemaSet,
    ignores: Ignores,
    *,
    detailed: bool,
) -> list[str]:
    """The summary lines for a cassette a test rewrote: how many interactions differ,
    and with `detailed` (`--hl-diff`) each change. `before` and `after` are what the
    save read and wrote: the file is not read again."""
    found = diff_cassettes(str(path), before, after, schemas, ignores)
    total = len(after.interactions) if after else 0
    if found is None:
        return [f"  changed: {path}: rewritten, no semantic difference"]
    count = len(found.interactions)
    hint = "" if detailed else " (--hl-diff shows them)"
    lines = [f"  changed: {path}: {count} of {total} interaction(s) differ{hint}"]
    if detailed:
        lines += diff_format.cassette_lines(found, indent="    ")[1:]
    return lines
