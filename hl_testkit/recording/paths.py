"""Where a test's cassette lives: `<cassette dir>/<module path>/<test name>.yaml`.

Names are made safe for every file system; a name that had to be changed, or
is too long, gets a short hash of the original so two tests never share a file.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from hl_testkit.errors import HlTestkitError
from hl_testkit.secrets.scrub import Secret, scrub_text

MAX_NAME = 100  # bytes; well under every file system's 255
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Windows refuses these as file names, whatever the extension.
_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{n}" for p in ("com", "lpt") for n in range(10)}


def safe_name(name: str) -> str:
    safe = _UNSAFE.sub("_", name).strip(" .") or "_"
    too_long = len(safe.encode("utf-8")) > MAX_NAME
    if safe == name and not too_long and safe.split(".")[0].lower() not in _RESERVED:
        return safe
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]
    head = safe.encode("utf-8")[: MAX_NAME - 11].decode("utf-8", "ignore").rstrip(" .")
    return f"{head}-{digest}"


def module_dir(cassette_dir: Path, nodeid: str) -> Path:
    """`tests/test_x.py::...` → `<cassette dir>/tests/test_x`."""
    file_part = PurePosixPath(nodeid.split("::", 1)[0])
    parts = [safe_name(p) for p in file_part.with_suffix("").parts if p not in ("..", ".")]
    return cassette_dir.joinpath(*parts)


def cassette_path_for(
    cassette_dir: Path, nodeid: str, name: str | None = None, secrets: Iterable[Secret] = ()
) -> Path:
    """The cassette of the test `nodeid`, or the one the marker names.

    A secret in the node id (a parametrize id that is the key) is replaced by its
    placeholder first: file names end up in listings, archives and CI logs.
    Either way the path, symlinks resolved, must stay inside the cassette
    directory: a symlinked file or module directory pointing elsewhere is refused,
    so nothing is read or written outside it.
    """
    nodeid = scrub_text(nodeid, secrets)
    base = module_dir(cassette_dir, nodeid)
    if name is None:
        # Class parts joined by '.'; a parametrize id is kept whole, even with "::" in it
        # (splitting it too would give `test[a::b]` the file of `test[a.b]`).
        test_id = nodeid.split("::", 1)[1] if "::" in nodeid else ""
        head, bracket, params = test_id.partition("[")
        test_part = ".".join(head.split("::")) + bracket + params or "test"
        path = base / f"{safe_name(test_part)}.yaml"
        what = f"the cassette of {nodeid}"
    else:
        marker = f"@pytest.mark.hl_cassette(name={name!r})"
        if not isinstance(name, str) or not name or _CONTROL.search(name):
            raise HlTestkitError(
                f"{marker}: a cassette name is a non-empty string without NUL or other "
                f"control characters, relative to {base}"
            )
        # Appended, not `with_suffix`: that would give "calls.v1" and "calls.v2" one file.
        path = base / (name if name.endswith(".yaml") else name + ".yaml")
        what = marker
    _check_inside(path, cassette_dir, what, base)
    return path


def _check_inside(path: Path, cassette_dir: Path, what: str, base: Path) -> None:
    root = cassette_dir.resolve()
    resolved = path.resolve()
    if resolved.is_relative_to(root):
        return
    if not Path(os.path.abspath(path)).is_relative_to(os.path.abspath(cassette_dir)):
        raise HlTestkitError(
            f"{what} points outside the cassette directory {cassette_dir}; "
            f"use a name relative to {base}"
        )
    raise HlTestkitError(  # inside by name, outside through a symlink
        f"{what} is {path}, which a symlink leads outside the cassette directory "
        f"{root} (to {resolved}): hl-testkit reads and writes cassettes only inside it. "
        "Replace the symlink with the file or directory itself, or set --hl-cassette-dir."
    )


def rerecord_command(nodeid: str, mode: str) -> str:
    """The command that runs this one test in `mode`."""
    # Always quoted: parametrize ids hold brackets, which zsh would glob.
    quoted = "'" + nodeid.replace("'", "'\"'\"'") + "'"
    return f"pytest --hl-record-mode={mode} {quoted}"
