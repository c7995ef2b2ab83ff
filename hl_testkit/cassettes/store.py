"""Cassettes on disk: atomic writes, and locked read-merge-write updates.

- `write_atomic` never leaves a partial file: a crash (even SIGKILL or a power
  cut) leaves either the old content or the new one.
- `update` serialises every save of one cassette (threads, processes, xdist
  workers, concurrent pytest runs) with a lock on the sibling `<name>.yaml.lock`,
  and merges: it reads the file as it is *now*, under the lock, and lets the
  caller compose the new content from it, so no one's interactions are lost.
- A cassette that cannot be locked or read raises `CassetteError`: a run never
  goes green while a recording is lost.

Lock files are removed when the lock is released (safely: see `_locked`); a
process killed while it holds one leaves it behind, and `cleanup_temp_files`
removes it later, like the `*.hl-tmp` files a killed writer leaves. Neither
ends in `.yaml`, so neither is ever read as a cassette.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import secrets
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from hl_testkit.cassettes import file as cassette_file
from hl_testkit.cassettes.file import CassetteError
from hl_testkit.cassettes.model import CassetteData

if TYPE_CHECKING:
    import filelock

TEMP_SUFFIX = ".hl-tmp"
LOCK_SUFFIX = ".lock"

UpdateResult = Literal["written", "unchanged", "removed", "none"]
Compose = Callable[[CassetteData | None], CassetteData | None]

# What fsync on a directory may answer on filesystems that cannot do it.
_NO_DIR_FSYNC = frozenset(
    {errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EACCES, errno.EPERM}
)


def lock_path_for(path: Path) -> Path:
    """The lock file of the cassette `path`: `<name>.yaml.lock` beside it."""
    return path.with_name(path.name + LOCK_SUFFIX)


# -- atomic writes ----------------------------------------------------------------


def write_atomic(path: Path, text: str | bytes) -> None:
    """Replace `path` with `text` (UTF-8) so that a crash leaves old or new, never a mix.

    The content goes to a temporary `.<name>.<random>.hl-tmp` in the same
    directory, is flushed and fsynced, renamed over `path` (atomic on POSIX and
    Windows), and the directory is fsynced so the rename itself is durable. An
    existing file's permissions are kept; a new file gets the umask's.
    """
    data = text.encode("utf-8") if isinstance(text, str) else text
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(path)
    try:
        try:
            if hasattr(os, "fchmod"):
                with contextlib.suppress(FileNotFoundError):
                    os.fchmod(fd, stat.S_IMODE(os.stat(path).st_mode))
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        _replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(path.parent)


def _create_temp(path: Path) -> tuple[int, Path]:
    # Not tempfile.mkstemp: its files are 0600 whatever the umask, and so would be the cassette.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}{TEMP_SUFFIX}")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(path.parent))


def _replace(tmp: Path, path: Path) -> None:
    # Windows refuses to replace a file another process has open; readers are brief.
    for delay in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5):
        try:
            os.replace(tmp, path)
            return
        except PermissionError:
            if os.name != "nt":
                raise
            time.sleep(delay)
    os.replace(tmp, path)


def _fsync_directory(directory: Path) -> None:
    """Make a rename or unlink in `directory` durable (POSIX; Windows cannot)."""
    if os.name == "nt":
        return
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        if exc.errno in _NO_DIR_FSYNC:
            return
        raise
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _NO_DIR_FSYNC:
            raise
    finally:
        os.close(fd)


# -- locking ------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(path: Path, timeout: float, hint: str = "") -> Iterator[None]:
    """Hold the lock of the cassette `path`; remove the lock file on the way out.

    Removing a lock file is safe only when done *while holding it*, and when a
    newcomer checks, after locking, that the file it locked is still the one at
    the path (a waiter may have opened the old file just before it was
    removed). filelock >= 4 checks that itself; the check here covers older
    versions. When the held descriptor cannot be inspected (Windows, whose
    filelock removes the file itself; the soft fallback on filesystems without
    flock), the lock file is left in place, which is always safe.
    """
    import filelock  # here: a replay-only run never loads it

    lock_file = lock_path_for(path)
    deadline = None if timeout < 0 else time.monotonic() + timeout
    while True:
        wait = -1.0 if deadline is None else max(0.0, deadline - time.monotonic())
        lock = filelock.FileLock(lock_file, timeout=wait)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise _lock_timeout(path, lock_file, timeout, hint) from None
        except FileNotFoundError:  # filelock < 4: the lock file vanished between two calls
            if deadline is not None and time.monotonic() >= deadline:
                raise _lock_timeout(path, lock_file, timeout, hint) from None
            continue
        fd = _held_descriptor(lock)
        if fd is None or _is_current(fd, lock_file):
            break
        lock.release()  # we locked a removed lock file: the lock is now a new file
    try:
        yield
    finally:
        try:
            if fd is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(lock_file)
        finally:
            lock.release()


def _lock_timeout(path: Path, lock_file: Path, timeout: float, hint: str) -> CassetteError:
    return CassetteError(
        f"cassette {path}: could not take its lock {lock_file} within {timeout:g}s; another "
        "test process or thread (a concurrent pytest run, an xdist worker) is saving it. "
        "Nothing was written, so this test's recording is NOT saved.\n  The lock is "
        "released when its holder exits; run again once it has." + (f"\n  {hint}" if hint else ""),
        path=path,
    )


def _held_descriptor(lock: filelock.BaseFileLock) -> int | None:
    """The descriptor of a native (flock) lock, or None when there is none to inspect."""
    import filelock

    if os.name == "nt" or not isinstance(lock, filelock.UnixFileLock):
        return None
    context = getattr(lock, "_context", None)
    if context is None or getattr(context, "soft_fallback", False):
        return None
    fd = getattr(context, "lock_file_fd", None)
    return fd if isinstance(fd, int) else None


def _is_current(fd: int, lock_file: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(lock_file))
    except FileNotFoundError:
        return False


# -- updates ------------------------------------------------------------------------


def update(
    path: Path,
    compose: Compose,
    *,
    lock_timeout: float = 30.0,
    hint: str = "",
    overwrite_corrupt: bool = False,
    stamp: bool = True,
    before_write: Callable[[str], None] | None = None,
) -> UpdateResult:
    """Under the cassette's lock, read it, `compose` its new content, and save that.

    `compose(current)` gets the cassette as it is on disk now (None when there
    is no file) and returns the new content, or None to remove the file. It
    runs under the lock, so what it returns is based on every earlier save.
    It must not itself update the same cassette. It may be called twice: once
    to draft the save before the lock is taken (from the file as it was then), and
    again under the lock if the file changed meanwhile; only the last one counts.

    Returns "written", "unchanged" (the bytes on disk are already those),
    "removed", or "none" (no file, and None composed).

    With `stamp`, `recorded_at` is managed by `preserve_recorded_at`: kept when
    nothing else changed, today's UTC date otherwise.

    Raises `CassetteError` (with `hint` appended) when the lock cannot be had
    within `lock_timeout` seconds (negative: wait forever), or when the current
    file is corrupt: it is never merged into, nor taken for an empty cassette.
    With `overwrite_corrupt` (a full re-record, which drops the old content
    anyway), a corrupt file is handed to `compose` as None and replaced.

    `before_write(text)` sees the exact text about to be written (e.g. a leak
    guard); raising from it, or from `compose`, leaves the file as it was.
    """
    path = Path(os.path.abspath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = _draft(path, compose, hint, overwrite_corrupt, stamp, before_write)
    with _locked(path, lock_timeout, hint):
        raw = _read_bytes(path, hint)
        if draft is not None and raw == draft.read:
            # Nobody saved since the draft was made: it is exactly what composing now would
            # give (and was already shown to `before_write`). Only the write holds the lock.
            if draft.data == raw:
                return "unchanged"
            write_atomic(path, draft.data)
            return "written"
        return _update_locked(path, raw, compose, hint, overwrite_corrupt, stamp, before_write)


@dataclass(frozen=True)
class _Draft:
    read: bytes | None  # the file as the draft read it (None: no file)
    data: bytes  # what to write if it is still so


def _draft(
    path: Path,
    compose: Compose,
    hint: str,
    overwrite_corrupt: bool,
    stamp: bool,
    before_write: Callable[[str], None] | None,
) -> _Draft | None:
    """The save, prepared without the lock from the file as it is now.

    Parsing, composing, YAML and the leak guard take seconds for a large cassette;
    under the lock they would stall every other writer of it. If the file is still
    the same once locked, the draft is written as is; otherwise (or if anything here
    failed: errors are raised the one way, under the lock) it is all done again there.
    """
    try:
        raw = _read_bytes(path, hint)
        current = None if raw is None else cassette_file.loads(raw, path, hint=hint)
        new = compose(current)
        if new is None:  # a removal: cheap, left to the locked path
            return None
        data = _render(new, current, raw, stamp, before_write)
    except Exception:  # any failure is raised again, the one way, under the lock
        return None
    return _Draft(raw, data)


def _render(
    new: CassetteData,
    current: CassetteData | None,
    raw: bytes | None,
    stamp: bool,
    before_write: Callable[[str], None] | None,
) -> bytes:
    """The bytes to save for `new` (dated, dumped), shown to `before_write` unless they
    are those on disk (`raw`) already: the one way both the draft and the locked path save."""
    if stamp:
        new = preserve_recorded_at(new, current)
    text = cassette_file.dumps(new)
    data = text.encode("utf-8")
    if data != raw and before_write is not None:
        before_write(text)
    return data


def _update_locked(
    path: Path,
    raw: bytes | None,
    compose: Compose,
    hint: str,
    overwrite_corrupt: bool,
    stamp: bool,
    before_write: Callable[[str], None] | None,
) -> UpdateResult:
    """`update`'s work on the file as read under the lock (`raw`)."""
    current = None
    if raw is not None:
        try:
            current = cassette_file.loads(raw, path, hint=hint)
        except CassetteError:
            if not overwrite_corrupt:
                raise
    new = compose(current)
    if new is None:
        if raw is None:
            return "none"
        path.unlink()
        _fsync_directory(path.parent)
        return "removed"
    data = _render(new, current, raw, stamp, before_write)
    if data == raw:
        return "unchanged"
    write_atomic(path, data)
    return "written"


def _read_bytes(path: Path, hint: str) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CassetteError(
            f"cassette {path}: cannot be read: {exc}" + (f"\n  {hint}" if hint else ""),
            path=path,
        ) from None


def today() -> str:
    """Today's date in UTC, as `recorded_at` holds it."""
    return dt.datetime.now(dt.timezone.utc).date().isoformat()


def preserve_recorded_at(
    new: CassetteData, old: CassetteData | None, *, date: str | None = None
) -> CassetteData:
    """`new`, with the `recorded_at` it should be saved with.

    The old value when everything else is unchanged (an identical re-record
    must not churn the file; an old file without one stays without one),
    otherwise `date` (default: today, UTC).
    """
    if old is not None:
        # Compared as written, not as objects: a recorded JSON body `{"id": 1}` is
        # stored (and read back) as `{"id":1}`, the same content. Who recorded an
        # exchange is not its content: attributing old interactions keeps the date.
        kept = replace(new, recorded_at=old.recorded_at)
        if same_exchanges(kept, old):
            return kept
    return replace(new, recorded_at=date or today())


def same_exchanges(a: CassetteData, b: CassetteData) -> bool:
    """`_exchanges(a) == _exchanges(b)`, without dumping what is surely written alike.

    A re-record dumped both cassettes whole to compare them (and then the new one again
    to save it). Written, the interactions follow the top-level fields one after the
    other, each item's text its own (the same indent, no anchors: `to_document` shares
    no object). So the top-level fields are compared written, then each pair of
    interactions: alike if the documents they are written from are (`repr` tells apart
    what YAML writes apart: types, key order, float text), else compared written.
    """
    if len(a.interactions) != len(b.interactions):
        return _exchanges(a) == _exchanges(b)  # rare: left to the whole comparison
    if _exchanges(replace(a, interactions=[])) != _exchanges(replace(b, interactions=[])):
        return False
    document = cassette_file.interaction_document
    for x, y in zip(a.interactions, b.interactions, strict=True):
        x, y = replace(x, recorded_by=None), replace(y, recorded_by=None)
        if repr(document(x)) == repr(document(y)):
            continue  # the same document: the same text
        if _exchanges(CassetteData([x])) != _exchanges(CassetteData([y])):
            return False
    return True


def _exchanges(data: CassetteData) -> str:
    """The cassette as written, without `recorded_by:`."""
    anonymous = [replace(i, recorded_by=None) for i in data.interactions]
    return cassette_file.dumps(replace(data, interactions=anonymous))


# -- leftovers ----------------------------------------------------------------------


def cleanup_temp_files(directory: Path, *, max_age: float = 60.0) -> list[Path]:
    """Remove what killed writers left under `directory`; returns what was removed.

    `*.hl-tmp` files older than `max_age` seconds (a younger one may be a write
    in progress), and `*.yaml.lock` files as old whose lock is free (taken and
    removed under the lock, so a holder is never disturbed).
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    now = time.time()
    removed: list[Path] = []

    def old_enough(candidate: Path) -> bool:
        try:
            info = candidate.lstat()
        except FileNotFoundError:
            return False
        return stat.S_ISREG(info.st_mode) and now - info.st_mtime >= max_age

    for tmp in sorted(directory.rglob(f"*{TEMP_SUFFIX}")):
        if old_enough(tmp):
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
                removed.append(tmp)
    for lock_file in sorted(directory.rglob(f"*.yaml{LOCK_SUFFIX}")):
        if old_enough(lock_file):
            with contextlib.suppress(CassetteError), _locked(lock_file.with_suffix(""), 0):
                pass
            if not lock_file.exists():
                removed.append(lock_file)
    return removed
