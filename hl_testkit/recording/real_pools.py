"""urllib3 pools that make urllib3's real connections while vcrpy's patches are on: the
record adapter's, so that it needs no step out of those patches for each request.

vcrpy swaps urllib3's connection classes (the pools' `ConnectionCls`, and the names in
`urllib3.connection` and `http.client`) for its stubs, and a stub steps out of all of
its patches (`vcr.patch.force_reset`) for each real request: urllib3's own code names
its classes through their module, `super(HTTPConnection, self)` in
`HTTPConnection.request` and `HTTPConnection.__init__(self, ...)` in
`HTTPSConnection.__init__` (urllib3 1.26), which then name vcrpy's stub. Stepping out
sets a dozen attributes back and forth per request, and for its duration every other
client in the process (another thread's) goes unrecorded.

Here instead: for each scheme, a subclass of urllib3's pool whose `ConnectionCls` is a
subclass of the real connection class in which each method that names a patched
module attribute is the same code reading, for those names only, what the module held
before vcrpy patched it (`vcr_cassette.reset_triples`); every other name is read from
the module as it is. Nothing global changes: vcrpy's other patches (its `_get_conn`,
`_new_conn` and `is_connection_dropped` wrappers, which let a real connection through)
stay on, and every other client is recorded by vcrpy throughout.
`tests/test_real_pools.py` holds it to that; `tests/test_record_adapter.py` to vcrpy's
path.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

import urllib3

from hl_testkit.recording import vcr_cassette

#: Pool classes by scheme, by the originals they were built from (rebuilt when vcrpy or
#: urllib3 is reimported: an in-process pytest run drops them).
_built: dict[tuple[tuple[Any, ...], ...], dict[str, type]] = {}


def pool_classes(by_scheme: dict[str, type]) -> dict[str, type] | None:
    """A `PoolManager`'s `pool_classes_by_scheme` (`by_scheme`), each a subclass making
    real connections under vcrpy's patches;
    None where it is not known to be right (urllib3 other than 1.x, a method naming a
    patched name in a form not handled): the adapter steps out then, as before."""
    if not urllib3.__version__.startswith("1."):
        return None
    triples = vcr_cassette.reset_triples()
    # The objects themselves (hashed by identity): no id reused.
    key = (*triples, *by_scheme.items())
    built = _built.get(key)
    if built is None or not current(built):  # e.g. a method wrapped since it was built
        if len(_built) > 8:  # reimports in a long in-process session: forget the stale
            _built.clear()
        built = _build(triples, by_scheme)
        if built is None:
            _built.pop(key, None)
            return None
        _built[key] = built
    return built


def current(classes: dict[str, type]) -> bool:
    """Are the methods copied into these pools' connection classes still what their
    classes hold? Not if a test or a library wrapped or replaced one since (its
    wrapper would be skipped): cheap enough to ask before every request."""
    for pool in classes.values():
        connection: Any = pool.ConnectionCls  # type: ignore[attr-defined]
        base = connection.__mro__[1]
        for name, source in connection.copied:
            if getattr(base, name, None) is not source:
                return False
    return True


def _build(
    triples: list[tuple[Any, str, Any]], by_scheme: dict[str, type]
) -> dict[str, type] | None:
    originals = {(id(target), attribute): original for target, attribute, original in triples}
    #: By module namespace: the patched names and what they were.
    pinned: dict[int, dict[str, Any]] = {}
    for target, attribute, original in triples:
        if isinstance(target, types.ModuleType):
            pinned.setdefault(id(vars(target)), {})[attribute] = original
    out: dict[str, type] = {}
    for scheme, pool in by_scheme.items():
        connection = originals.get((id(pool), "ConnectionCls"), vars(pool).get("ConnectionCls"))
        real = _real_connection(connection, pinned) if isinstance(connection, type) else None
        if real is None:
            return None
        out[scheme] = type(pool.__name__, (pool,), {"ConnectionCls": real, **_named_as(pool)})
    return out


def _named_as(cls: type) -> dict[str, str]:
    """A subclass's names as its base's: errors and reprs read as urllib3's own."""
    return {"__module__": cls.__module__, "__qualname__": cls.__qualname__}


def _real_connection(cls: type, pinned: dict[int, dict[str, Any]]) -> type | None:
    """A subclass of `cls` whose methods read the pinned names as they were."""
    methods: dict[str, Any] = {}
    seen: set[str] = set()
    for klass in cls.__mro__[:-1]:  # (not `object`'s slots)
        for name, value in vars(klass).items():
            if name in seen:
                continue  # overridden lower in the MRO: that one is what runs
            seen.add(name)
            if not _plain(value):
                return None  # a wrapper: what it calls is not known to read as it was
            function = _function_of(value)
            if function is None:
                continue
            names = pinned.get(id(function.__globals__), {})
            if not names or not (_names_in(function.__code__) & names.keys()):
                continue
            if not isinstance(value, types.FunctionType):  # a property or classmethod
                return None
            methods[name] = _reading(value, names)
    copied = tuple((name, getattr(cls, name)) for name in methods)
    return type(cls.__name__, (cls,), {**methods, "copied": copied, **_named_as(cls)})


def _plain(value: Any) -> bool:
    """Is a class attribute data or a method as its module defined it (not a wrapper
    someone set, e.g. with `functools.wraps` or a callable object)?"""
    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    elif isinstance(value, property):
        return all(_plain(part) for part in (value.fget, value.fset, value.fdel) if part)
    if isinstance(value, types.FunctionType):
        module = sys.modules.get(value.__module__)
        own = module is not None and value.__globals__ is vars(module)
        return own and not hasattr(value, "__wrapped__")
    return not callable(value) or isinstance(value, type)


def _function_of(value: Any) -> types.FunctionType | None:
    """The function a class attribute runs: itself, a static or class method's, a
    property's getter."""
    for part in (value, getattr(value, "__func__", None), getattr(value, "fget", None)):
        if isinstance(part, types.FunctionType):
            return part
    return None


def _names_in(code: types.CodeType) -> set[str]:
    """Every name `code` and the code nested in it (a generator expression) may look up."""
    return set(code.co_names).union(*(_names_in(c) for c in _nested(code)))


def _nested(code: types.CodeType) -> Iterator[types.CodeType]:
    return (const for const in code.co_consts if isinstance(const, types.CodeType))


class _PinnedNames(dict[str, Any]):
    """A module's namespace as a copied function reads it: the pinned names as they were,
    any other as the module holds it now (a function whose globals are not exactly a dict
    looks each one up through `__getitem__`, and so `__missing__`)."""

    def __init__(self, module: dict[str, Any], pinned: dict[str, Any]) -> None:
        super().__init__(pinned)
        for name in ("__builtins__", "__name__", "__package__", "__spec__", "__file__"):
            if name in module:  # e.g. warnings are filed under the module's name
                self[name] = module[name]
        self.module = module

    def __missing__(self, name: str) -> Any:
        return self.module[name]


def _reading(function: types.FunctionType, names: dict[str, Any]) -> types.FunctionType:
    """`function`, the same code, reading `names` as given."""
    copy = types.FunctionType(
        function.__code__,
        _PinnedNames(function.__globals__, names),
        function.__name__,
        function.__defaults__,
        function.__closure__,
    )
    copy.__kwdefaults__ = function.__kwdefaults__
    copy.__qualname__ = function.__qualname__
    copy.__doc__ = function.__doc__
    return copy
