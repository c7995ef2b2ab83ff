"""vcrpy loaded without the optional HTTP client libraries a process has not imported.

`vcr.patch` try-imports, at its own import, every optional client it can patch
(aiohttp, httpx, tornado, botocore, httplib2, ...) to save their original
methods, ~0.3 s a process (`python -X importtime -c "import vcr"`), paid by each
xdist worker even when its tests only use requests. Here:

* `load_vcr` imports vcrpy with those of them not imported yet held back: an
  import that `vcr.patch` itself attempts is refused (`ModuleNotFoundError`,
  which its `try` takes for "not installed"), in this thread and for the
  import's duration only. Any other importer (a library's own dependency, a
  future vcrpy module, another thread) gets the real library: then it is
  simply imported as before, never held back silently.
* `_Watch` (on `sys.meta_path`) sees each held-back library arrive later --
  between tests or in a test's body -- and, once it is loaded, `vcr.patch`
  is executed again into a scratch module (held back for the libraries still
  absent) and the names it defines that the live one lacks (the library's
  originals) are copied over: what the eager import would have saved. Then
  the listeners (`vcr_cassette`: patch it for the active cassettes) are told.
* Each arrival is checked against that scratch copy: the live module's patches
  and resets for the library must be the eager ones, the same targets and
  the same originals; if not (a vcrpy laid out otherwise), the import fails
  loudly with `LazyClientError`, never leaving the library silently unpatched.

pytester's in-process runs restore `sys.modules` and `sys.meta_path` after
each run, so a library may be imported again (a new module) or the watch be
gone: `catch_up` (called on each activation) merges any library whose module
is not the one merged and puts the watch back. Such a run may drop vcrpy (and
`vcr_cassette`) but keep this module: `load_vcr` (called by each
`vcr_cassette` import) then loads vcrpy afresh, lazily again, and forgets the
old one's merges; `on_arrival` replaces the old `vcr_cassette`'s listener, so
nothing here keeps a dropped vcrpy alive.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
import types
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from hl_testkit.errors import HlTestkitError

#: The optional libraries `vcr.patch` try-imports (top-level names); any other is imported.
OPTIONAL = (
    "botocore",
    "httplib2",
    "tornado",
    "aiohttp",
    "httpx",
    "httpx_curl_cffi",
    "pyreqwest",
    "httpx2",
)
#: The module whose own imports are held back.
PATCH_MODULE = "vcr.patch"
#: Frames of the import system between an `import` statement and a finder.
_IMPORT_SYSTEM = ("importlib._bootstrap", "importlib._bootstrap_external", "importlib")


class LazyClientError(HlTestkitError):
    """A library arrived that this vcrpy would not patch as its eager import does."""


def _top(name: str) -> str:
    return name.partition(".")[0]


def _importer() -> str:
    """The module whose code runs the import being looked up now."""
    frame = sys._getframe(1)
    skipped = (*_IMPORT_SYSTEM, __name__)  # and this module's finder
    while frame.f_back is not None and frame.f_globals.get("__name__") in skipped:
        frame = frame.f_back
    return str(frame.f_globals.get("__name__"))


class _HeldBack(importlib.abc.MetaPathFinder):
    """While vcrpy's patch module runs: its imports of `names` fail, in this thread only."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = frozenset(names)
        self.thread = threading.get_ident()
        self.refused: set[str] = set()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        top = _top(fullname)
        if top not in self.names or threading.get_ident() != self.thread:
            return None
        if _importer() != PATCH_MODULE:
            return None  # a library's own dependency, or not vcrpy's try: the real one
        self.refused.add(top)
        raise ModuleNotFoundError(f"No module named {fullname!r} (held back)", name=fullname)


@contextlib.contextmanager
def _held_back(names: Sequence[str]) -> Iterator[_HeldBack]:
    finder = _HeldBack(names)
    sys.meta_path.insert(0, finder)
    try:
        yield finder
    finally:
        sys.meta_path.remove(finder)


class _Announcing(importlib.abc.Loader):
    """A held-back library's own loader, announcing the module once it is loaded."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        create = getattr(self.loader, "create_module", None)
        return None if create is None else create(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        # The module sees its real loader (importlib.resources, pkgutil read it).
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        _state.depth += 1
        try:
            self.loader.exec_module(module)
        finally:
            _state.depth -= 1
        _arrived(module.__name__)


class _Watch(importlib.abc.MetaPathFinder):
    """Every import of a held-back library (again after pytester dropped it) is announced."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _held:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Announcing(spec.loader)
                return spec
        return None


class _ThreadState(threading.local):
    depth = 0  # held-back libraries being executed (one may import another: wait for it)
    busy = False  # merging now (a scratch `vcr.patch` may import a library's dependency)

    def __init__(self) -> None:
        self.queue: list[str] = []


_state = _ThreadState()
_watch = _Watch()
#: The libraries held back from vcrpy's import (watched for).
_held: frozenset[str] = frozenset()
#: Per library: the module merged, and the names of `vcr.patch` it defines.
_merged: dict[str, types.ModuleType] = {}
_names_of: dict[str, frozenset[str]] = {}
_listeners: list[Callable[[str], None]] = []
#: The `vcr` package `load_vcr` imported (None: not loaded here, or imported by another).
_loaded: types.ModuleType | None = None


def holding_back() -> contextlib.AbstractContextManager[object]:
    """Around a call into `vcr.patch` (its patch builder, `reset_patchers()`, each of which
    try-imports every optional library again): the held-back ones not imported yet stay
    out, as at vcrpy's import. Generators: consume them inside."""
    absent = [name for name in _held if sys.modules.get(name) is None]
    return _held_back(absent) if absent else contextlib.nullcontext()


def held_back() -> frozenset[str]:
    """The libraries `vcr.patch` did not import at vcrpy's import (patched when they arrive)."""
    return _held


def on_arrival(listener: Callable[[str], None]) -> None:
    """Call `listener(library)` after each held-back library is loaded and merged. A
    listener of the same name (the module imported again) replaces the old one."""
    name = (listener.__module__, listener.__qualname__)
    _listeners[:] = [old for old in _listeners if (old.__module__, old.__qualname__) != name]
    _listeners.append(listener)


def load_vcr() -> None:
    """Import vcrpy, holding back the optional client libraries not imported yet."""
    global _held, _loaded
    vcr = sys.modules.get("vcr")
    if vcr is not None:
        if vcr is not _loaded:  # imported by another plugin, or eagerly: nothing held back
            _held = frozenset()
        return
    _merged.clear()  # merges into a vcrpy that is gone (dropped by an in-process run)
    _names_of.clear()
    absent = [name for name in OPTIONAL if sys.modules.get(name) is None]
    with _held_back(absent) as window:
        _loaded = importlib.import_module("vcr")
    _held = frozenset(window.refused)
    if _held:
        sys.meta_path.insert(0, _watch)
        catch_up()  # one may have been imported meanwhile by another importer or thread


def catch_up() -> None:
    """Merge any held-back library imported unannounced; the watch put back if it was removed."""
    if not _held:
        return
    if _watch not in sys.meta_path:  # pytester restores sys.meta_path after a run
        sys.meta_path.insert(0, _watch)
    for name in _held:
        module = sys.modules.get(name)
        if module is not None and _merged.get(name) is not module:
            _arrived(name)


def _arrived(name: str) -> None:
    """`name` is loaded: merge it, unless a held-back library still loads (it will)."""
    state = _state
    state.queue.append(name)
    if state.depth or state.busy or PATCH_MODULE not in sys.modules:
        return  # (vcrpy dropped by an in-process run: `load_vcr` imports it afresh)
    state.busy = True
    try:
        while state.queue:
            library = state.queue.pop(0)
            module = sys.modules.get(library)
            if module is None or _merged.get(library) is module:
                continue
            _merge(library)
            _merged[library] = module
            for listener in list(_listeners):
                listener(library)
    finally:
        state.busy = False


def _scratch_patch_module() -> types.ModuleType:
    """`vcr.patch` executed again, not registered, the libraries still absent held back."""
    spec = importlib.util.find_spec(PATCH_MODULE)
    if spec is None or spec.loader is None:
        raise LazyClientError(f"{PATCH_MODULE} is gone; cannot patch a library imported late")
    module = importlib.util.module_from_spec(spec)
    with holding_back():
        spec.loader.exec_module(module)
    return module


def _merge(library: str) -> None:
    """Give the live `vcr.patch` what its eager import would have saved for `library`."""
    live = sys.modules[PATCH_MODULE]
    scratch = _scratch_patch_module()
    fresh = vars(scratch)
    for name in fresh.keys() - vars(live).keys():  # not saved yet: whose is it?
        owner = _owner(fresh[name], library)
        _names_of[owner] = _names_of.get(owner, frozenset()) | {name}
        setattr(live, name, fresh[name])
    # Imported again (a new module): its own names only. Another library's original
    # may be patched by the active cassette right now, which the scratch copy then saved.
    for name in _names_of.get(library, ()):
        if name in fresh:
            setattr(live, name, fresh[name])
    _check(library, live, scratch)


def _owner(value: Any, arriving: str) -> str:
    """The held-back library an original saved by `vcr.patch` comes from (one imported
    with `arriving`, as a dependency, is saved with it), else `arriving`."""
    try:
        owner = library_of(value)
    except AttributeError:  # a plain value (httplib2's scheme table): the arriving one's
        return arriving
    return owner if owner in _held else arriving


def _check(library: str, live: types.ModuleType, scratch: types.ModuleType) -> None:
    """The live module patches and resets `library` as the scratch (eager) one does."""
    try:
        with holding_back():
            same = _patches(live, library) == _patches(scratch, library) and _resets(
                live, library
            ) == _resets(scratch, library)
    except Exception as error:  # a missing original, a renamed builder, ...
        raise LazyClientError(_unlike(library, f"{type(error).__name__}: {error}")) from error
    if not same:
        raise LazyClientError(_unlike(library, "its patches or saved originals differ"))


def _unlike(library: str, why: str) -> str:
    return (
        f"hl-testkit loaded vcrpy without {library} (not imported yet) and {library} was "
        f"imported later, but this vcrpy does not patch it as it does when {library} is "
        f"imported first ({why}). Import {library} in conftest.py, before the first test, "
        f"and report the vcrpy version."
    )


def _patches(patch_module: types.ModuleType, library: str) -> set[tuple[int, str]]:
    """(target, attribute) of what the builder patches in `library`. Every group is
    built (the absent libraries held back) and sorted by target: no group name assumed."""
    cassette = types.SimpleNamespace(_path="lazy-check", custom_patches=(), skip_patchers=())
    built = patch_module.CassettePatcherBuilder(cassette).build()
    return {(id(p.getter()), p.attribute) for p in library_patches(built, library)}


def library_patches(patchers: Iterable[Any], library: str) -> list[Any]:
    """The patchers (vcrpy's `mock.patch.object`s) whose target is in `library`."""
    return [
        patcher
        for patcher in patchers
        if hasattr(patcher, "getter") and library_of(patcher.getter()) == library
    ]


def _resets(patch_module: types.ModuleType, library: str) -> dict[tuple[int, str], int]:
    """(target, attribute) -> the original `reset_patchers()` sets back, in `library`."""
    return {
        (id(target), patcher.attribute): id(patcher.new)
        for patcher in patch_module.reset_patchers()
        if library_of(target := patcher.getter()) == library
    }


def library_of(target: Any) -> str:
    """The top-level package a patch target (a module or a class) comes from."""
    name = target.__name__ if isinstance(target, types.ModuleType) else str(target.__module__)
    return _top(name)
