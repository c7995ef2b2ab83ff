"""PyYAML, faster, for plain data: the same documents in, the same text out.

A cassette is plain data (mappings, lists, strings, numbers, booleans, nulls).
PyYAML's C parser and emitter are fast, but building Python objects through
its composer, constructor and representer costs ten times the parsing. Here:

* `load` builds the data straight from the C parser's events, resolving
  plain scalars with the loader's own implicit resolvers and constructing
  ints, floats and timestamps with its own constructor (each plain text once
  per document: a cassette repeats its keys and values): the same values
  `yaml.load` gives;
* `dump` makes the events straight from the data (what the representer and the
  serializer would make of it, for these types) and hands them to the C
  emitter: the same text `yaml.dump` writes; `dump_made` takes a caller's own
  events for the parts of its data whose shape it knows (a cassette's interactions,
  `file._cassette_events`), and the data itself only to fall back.

Anything else -- an anchor or alias, an explicit tag, a merge key, a
duplicate key, a complex key, a second document, an error, another Python
type, very deep nesting -- falls back to PyYAML itself, which then gives
exactly its own result or its own error (with its line and column).

`load(..., plain=True)` is for files that must be plain data (cassettes): an
anchor or alias, or a number longer than `MAX_NUMBER_CHARS`, raises
`NotPlainData` (a YAML error with its line and column) as soon as the parser
reaches it, on the fast path and before any fallback to PyYAML. Aliases are
how a "billion laughs" file of a few hundred bytes becomes gigabytes when
walked; and `int()` refuses more than 4,300 digits with a bare ValueError.
"""

from __future__ import annotations

import contextlib
import gc
import io
from collections.abc import Callable, Iterator
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import ScalarNode
from yaml.resolver import BaseResolver

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MAX_DEPTH = 200  # deeper documents go to PyYAML (no recursion limit surprises)
#: The longest number a plain-data file may hold, in characters: far more than any
#: 64-bit integer or double needs, far less than `int()`'s 4,300-digit limit.
MAX_NUMBER_CHARS = 100

_CONSTRUCTOR = SafeConstructor()
_CONSTRUCT = {
    _INT: _CONSTRUCTOR.construct_yaml_int,
    _FLOAT: _CONSTRUCTOR.construct_yaml_float,
    "tag:yaml.org,2002:timestamp": _CONSTRUCTOR.construct_yaml_timestamp,
}


class _Fallback(Exception):
    """Not plain data this module handles: PyYAML does it."""


class NotPlainData(yaml.composer.ComposerError):
    """`load(..., plain=True)` met an anchor, an alias or an overlong number.

    `kind` is "anchor", "alias" or "number"; the mark is where it starts.
    """

    def __init__(self, kind: str, problem: str, mark: Any) -> None:
        super().__init__(None, None, problem, mark)
        self.kind = kind


# -- loading ------------------------------------------------------------------------------


def load(text: str, loader: type[Any], *, plain: bool = False) -> Any:
    """`yaml.load(text, Loader=loader)`, for a safe loader whose resolvers it uses.

    `loader` must be a SafeLoader (or CSafeLoader) subclass that at most refuses
    duplicate keys (as hl-testkit's does): a duplicate goes to `loader` to refuse.
    `plain=True` refuses anchors, aliases and overlong numbers (`NotPlainData`).
    """
    builder = _Builder(loader, plain=plain)
    try:
        parser = loader(text)
        try:
            # The parser's own `get_event`, not `yaml.parse`'s generator around it, which
            # also asks `check_event` before every event.
            return builder.document(parser.get_event)
        finally:
            parser.dispose()
    except NotPlainData:
        raise
    except (_Fallback, yaml.YAMLError, RecursionError):
        pass
    if plain:  # PyYAML's composer would follow the aliases: look at every event first
        with contextlib.suppress(yaml.YAMLError):  # PyYAML itself reports those, below
            for event in yaml.parse(text, Loader=loader):
                builder.check_plain(event)
    return yaml.load(text, Loader=loader)


class _Builder:
    def __init__(self, loader: type[Any], *, plain: bool = False) -> None:
        self.resolvers: dict[Any, list[tuple[str, Any]]] = loader.yaml_implicit_resolvers
        self.wildcard = self.resolvers.get(None, [])
        self.plain = plain
        #: text → (tag, value) of the plain scalars met so far in this document
        self.plain_scalars: dict[str, tuple[str, Any]] = {}
        if getattr(loader, "yaml_path_resolvers", None):
            raise _Fallback  # pragma: no cover - no safe loader has any

    def document(self, next_event: Callable[[], Event | None]) -> Any:
        """The data of the one document `next_event` (a parser's `get_event`) yields."""
        if not isinstance(next_event(), StreamStartEvent):
            raise _Fallback  # pragma: no cover - the parser always starts so
        event = next_event()
        if isinstance(event, StreamEndEvent):
            return None  # an empty stream: no document
        if not isinstance(event, DocumentStartEvent):
            raise _Fallback  # pragma: no cover
        data = self.node(next_event(), next_event, 0)
        if not isinstance(next_event(), DocumentEndEvent):
            raise _Fallback  # pragma: no cover
        if not isinstance(next_event(), StreamEndEvent):
            raise _Fallback  # a second document: PyYAML refuses it, with its message
        return data

    def check_plain(self, event: Any) -> None:
        """Raise `NotPlainData` for an alias, an anchor or an overlong number."""
        if isinstance(event, AliasEvent):
            problem = f"holds the YAML alias *{event.anchor}"
            raise NotPlainData("alias", problem, event.start_mark)
        if getattr(event, "anchor", None) is not None:
            problem = f"holds the YAML anchor &{event.anchor}"
            raise NotPlainData("anchor", problem, event.start_mark)
        if (
            isinstance(event, ScalarEvent)
            and len(event.value) > MAX_NUMBER_CHARS
            and event.tag in (None, "!", _INT, _FLOAT)
            and self.resolve(event) in (_INT, _FLOAT)
        ):
            problem = (
                f"holds a number of {len(event.value)} characters "
                f"(at most {MAX_NUMBER_CHARS} are read)"
            )
            raise NotPlainData("number", problem, event.start_mark)

    def suspect(self, event: Any) -> bool:
        """Might `check_plain` refuse `event`? (Cheap: most events are short and bare.)"""
        return event.anchor is not None or (  # an alias has its anchor's name
            event.__class__ is ScalarEvent and len(event.value) > MAX_NUMBER_CHARS
        )

    def node(self, event: Any, next_event: Callable[[], Any], depth: int) -> Any:
        if self.plain and self.suspect(event):
            self.check_plain(event)
        kind = event.__class__  # the parser makes these very classes, never subclasses
        if kind is ScalarEvent:
            return self.scalar(event)[1]
        if depth > _MAX_DEPTH or kind is AliasEvent or event.anchor is not None:
            raise _Fallback
        if event.tag is not None and event.tag != "!":
            raise _Fallback
        if kind is SequenceStartEvent:
            items = []
            event = next_event()
            while event.__class__ is not SequenceEndEvent:
                items.append(self.node(event, next_event, depth + 1))
                event = next_event()
            return items
        if kind is MappingStartEvent:
            return self.mapping(next_event, depth)
        raise _Fallback  # pragma: no cover - no other event starts a node

    def mapping(self, next_event: Callable[[], Any], depth: int) -> dict[Any, Any]:
        """The mapping whose start event was just read."""
        mapping: dict[Any, Any] = {}
        seen: set[tuple[str, str]] = set()
        event = next_event()
        while event.__class__ is not MappingEndEvent:
            if event.__class__ is not ScalarEvent:
                raise _Fallback  # a complex key
            if self.plain and self.suspect(event):
                self.check_plain(event)
            tag, key = self.scalar(event)
            if (tag, event.value) in seen or tag == "tag:yaml.org,2002:merge":
                raise _Fallback  # a duplicate key (refused there) or a merge
            seen.add((tag, event.value))
            mapping[key] = self.node(next_event(), next_event, depth + 1)
            event = next_event()
        return mapping

    def resolve(self, event: Any) -> str:
        """The tag of a scalar: its own, or what the implicit resolvers make of it."""
        tag: str | None = event.tag
        if tag is not None and tag != "!":
            return tag
        if event.implicit[0]:  # a plain scalar: the implicit resolvers decide
            value = event.value
            for candidate, regexp in self.resolvers.get(value[:1], []) + self.wildcard:
                if regexp.match(value):
                    return str(candidate)
        return _STR

    def scalar(self, event: Any) -> tuple[str, Any]:
        """(resolved tag, value) of a scalar, as the composer and constructor make them."""
        if event.anchor is not None:
            raise _Fallback
        if event.tag is None and event.implicit[0]:
            # A plain scalar's tag and value follow from its text alone; a cassette
            # repeats the same ones (request, method, GET, headers, status, 200, ...).
            known = self.plain_scalars.get(event.value)
            if known is None:
                known = self.plain_scalars[event.value] = self.construct(event)
            return known
        return self.construct(event)

    def construct(self, event: Any) -> tuple[str, Any]:
        value = event.value
        tag = self.resolve(event)
        if tag == _STR:
            return tag, value
        if tag == _NULL:
            return tag, None
        if tag == _BOOL:
            return tag, SafeConstructor.bool_values[value.lower()]
        construct = _CONSTRUCT.get(tag)
        if construct is None:
            raise _Fallback  # an explicit tag, or `=` (tag:yaml.org,2002:value)
        return tag, construct(ScalarNode(tag, value))


# -- dumping -------------------------------------------------------------------------------


def dump(data: Any, Dumper: Any, **options: Any) -> str:
    """`yaml.dump(data, Dumper=Dumper, **options)` for plain data.

    `Dumper` may represent `str` its own way only as hl-testkit's does: a `|`
    block for text with a newline (`block_multiline=True`, the default).
    """
    return dump_made(lambda events: events.node(data, 0), lambda: data, Dumper, **options)


def dump_made(
    make: Callable[[Events], object], data: Callable[[], Any], Dumper: Any, **options: Any
) -> str:
    """`dump(data(), Dumper, **options)`, the events made by `make(events)` instead of
    from `data()`: for a caller that knows its data's shape and can add the events of
    its fixed parts itself (`Events.node` for the rest). `make` must add exactly the
    events `events.node(data(), 0)` would, and is only used for block style
    (`default_flow_style=False`); `data()` is made only to fall back to PyYAML.
    """
    block_multiline = options.pop("block_multiline", True)
    # The representer's own options; the rest are the emitter's.
    represent = {k: options.get(k) for k in ("default_style", "default_flow_style", "sort_keys")}
    emit = {k: v for k, v in options.items() if k not in represent}
    with collector_paused():
        try:
            if options.get("sort_keys", True) or represent["default_style"] is not None:
                raise _Fallback  # sorted keys, forced quoting: the representer's way
            if not emit.keys() <= _EMITTER_OPTIONS or getattr(Dumper, "yaml_path_resolvers", None):
                raise _Fallback  # a stream, an encoding, directives: PyYAML's own way
            flow_style = options.get("default_flow_style", False)
            events = Events(Dumper, flow_style, block_multiline).made(make)
        except _Fallback:
            return str(yaml.dump(data(), Dumper=Dumper, **options))
        text = _emit(events, Dumper, emit)
        # Dropped (by reference counts: nothing refers back) before the collector is back
        # on, whose first run would otherwise walk every event.
        del events
        return text


#: Options that change only how the emitter writes the events `Events` makes.
_EMITTER_OPTIONS = frozenset({"allow_unicode", "width", "indent", "line_break"})


def _emit(events: list[Event], Dumper: Any, options: dict[str, Any]) -> str:
    """The text PyYAML's C emitter writes for `events`."""
    stream = io.StringIO()
    dumper = Dumper(stream, **options)
    try:
        emit = dumper.emit
        for event in events:
            emit(event)
    finally:
        dumper.dispose()
    return stream.getvalue()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a document's events are made and written.

    Tens of thousands of new, acyclic objects set off collection after collection,
    each walking the growing list: that took longer than making it (5x). Whatever
    is built inside should be dropped inside too: the collector's first run after it
    is back on walks every object still alive that was made while it was off.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_new = object.__new__


#: Line breaks to YAML that are not to a reader of lines: a `|` block ending in one
#: ends the file without a newline (and the loader takes it for a cut-off write).
_YAML_ONLY_BREAKS = "\x85\u2028\u2029"


def as_block(text: str) -> bool:
    """Is `text` written as a `|` block (multi-line, readable)? Not when it ends in a
    break only YAML sees as one: then PyYAML picks a quoted style, which escapes it."""
    return "\n" in text and text[-1] not in _YAML_ONLY_BREAKS


class Events:
    """The events PyYAML's serializer makes of the node tree its representer makes of
    plain data, made straight from the data.

    PyYAML's C serializer walks a tree of nodes (tens of thousands in a cassette) and
    asks the dumper's Python `resolve`, twice per scalar, whether its tag may be left
    implicit; the events go to the emitter through the same C code either way. Here
    no nodes, one event per distinct scalar (its `implicit` worked out by `_Implicit`)
    and one start event per collection style, shared.
    """

    def __init__(self, Dumper: Any, flow_style: bool | None, block_multiline: bool) -> None:
        self.implicit = _Implicit.of(Dumper)
        # A bool (or None: by content), as the shared start events' are.
        self.flow_style = None if flow_style is None else bool(flow_style)
        self.block_multiline = block_multiline
        # A mapping or list met twice would become an alias; a dumper that writes none
        # (hl-testkit's) writes it out again: nothing to track.
        self.seen: set[int] | None = None if _never_aliases(Dumper) else set()
        #: One event per distinct scalar, (tag, text, style) → event: the emitter only reads
        #: events, and a cassette repeats its keys and many values thousands of times.
        self.events: dict[tuple[str, str, str | None], ScalarEvent] = {}
        #: The same for plain (one-line) strings, by their text alone: the most common case.
        self.strings: dict[str, ScalarEvent] = {}
        self.out: list[Event] = []

    def made(self, make: Callable[[Events], object]) -> list[Event]:
        """The stream of the one document whose events `make(self)` adds."""
        out = self.out
        out += [StreamStartEvent(), DocumentStartEvent(explicit=False)]
        make(self)
        out += [DocumentEndEvent(explicit=False), StreamEndEvent()]
        return out

    def block_starts(self) -> tuple[Event, Event]:
        """The start events of a mapping and of a sequence in block style, as `collection`
        adds them: for a `dump_made` caller adding its fixed mappings itself (each ends
        with `MAPPING_END`, `SEQUENCE_END`), never in flow style (else PyYAML's way)."""
        if self.flow_style is not False:
            raise _Fallback
        return _MAPPING_START[False], _SEQUENCE_START[False]

    def plain(self, text: str) -> Event:
        """The event `node` adds for a one-line string, for a caller to add itself."""
        known = self.strings.get(text)
        if known is not None:
            return known
        if "\n" in text:
            raise ValueError(f"a one-line string, not {text!r}")
        self.node(text, 0)
        return self.out.pop()

    def node(self, value: Any, depth: int) -> bool:
        """Add the events of `value`; is it a plain scalar (what flow style asks)?"""
        kind = type(value)
        if kind is str:
            event = self.strings.get(value)
            if event is not None:
                self.out.append(event)
                return True
            if self.block_multiline and as_block(value):
                self.scalar(_STR, value, "|")
                return False
            self.strings[value] = self.scalar(_STR, value)
        elif kind is dict or kind is list:
            self.collection(value, depth)
            return False
        elif value is None:
            self.scalar(_NULL, "null")
        elif kind is bool:
            self.scalar(_BOOL, "true" if value else "false")
        elif kind is int:
            self.scalar(_INT, str(value))
        elif kind is float:
            self.scalar(_FLOAT, _float_text(value))
        else:
            raise _Fallback  # bytes, dates, sets, subclasses...: the representer's own way
        return True

    def collection(self, value: dict[Any, Any] | list[Any], depth: int) -> None:
        seen = self.seen
        if depth > _MAX_DEPTH or (seen is not None and id(value) in seen):
            raise _Fallback
        if seen is not None:
            seen.add(id(value))
        out, node = self.out, self.node
        at = len(out)
        out.append(SEQUENCE_END)  # its start, once its flow style is known
        plain = True
        depth += 1
        strings = self.strings
        if type(value) is dict:
            for k, v in value.items():
                # A key, and most values, are strings met before: their events, without
                # a call (a string with an event is a plain scalar: `plain` stays).
                event = strings.get(k) if type(k) is str else None
                if event is None:
                    plain = node(k, depth) & plain
                else:
                    out.append(event)
                event = strings.get(v) if type(v) is str else None
                if event is None:
                    plain = node(v, depth) & plain
                else:
                    out.append(event)
            flow = self.flow_style if self.flow_style is not None else plain
            out[at] = _MAPPING_START[flow]
            out.append(MAPPING_END)
        else:
            for item in value:
                event = strings.get(item) if type(item) is str else None
                if event is None:
                    plain = node(item, depth) & plain
                else:
                    out.append(event)
            flow = self.flow_style if self.flow_style is not None else plain
            out[at] = _SEQUENCE_START[flow]
            out.append(SEQUENCE_END)

    def scalar(self, tag: str, value: str, style: str | None = None) -> ScalarEvent:
        """Add the scalar's event, made once per distinct scalar; returns it."""
        event = self.events.get((tag, value, style))
        if event is None:
            event = self.events[tag, value, style] = self.new_scalar(tag, value, style)
        self.out.append(event)
        return event

    def new_scalar(self, tag: str, value: str, style: str | None) -> ScalarEvent:
        """A ScalarEvent without `__init__`'s call chain, its tag implicit where the
        dumper's `resolve` would leave it so."""
        implicit = self.implicit(tag, value)
        event = _new(ScalarEvent)
        event.anchor, event.tag, event.implicit, event.value, event.style = (
            None,
            tag,
            implicit,
            value,
            style,
        )
        event.start_mark = event.end_mark = None
        return event


MAPPING_END = MappingEndEvent()
SEQUENCE_END = SequenceEndEvent()
# The emitter only reads events: every collection of a style can share one start event.
_MAPPING_START = {
    flow: MappingStartEvent(None, _MAP, True, flow_style=flow) for flow in (False, True)
}
_SEQUENCE_START = {
    flow: SequenceStartEvent(None, _SEQ, True, flow_style=flow) for flow in (False, True)
}


def _never_aliases(Dumper: Any) -> bool:
    """Does `Dumper` write every list and dict out in full (`ignore_aliases` true of
    them, whatever else)? Representers' `ignore_aliases` read only the data."""
    try:
        empties: tuple[list[Any], dict[Any, Any]] = ([], {})
        return all(Dumper.ignore_aliases(None, empty) for empty in empties)
    except Exception:  # one that reads its own state: track, as PyYAML would alias
        return False


class _Implicit:
    """A scalar event's `implicit`: may its tag be left out, plain and quoted?

    What the serializer asks the dumper's `resolve` (twice per scalar). Plain
    `BaseResolver.resolve` is worked out here from the dumper's own tables, without
    the two calls: quoted (`(False, True)`), any scalar is the default tag, a string;
    plain (`(True, False)`), the first implicit resolver of its first character (then
    the wildcard ones) whose regex matches, else a string too. Any other `resolve`
    (overridden, or with path resolvers) is asked itself.
    """

    def __init__(self, Dumper: Any) -> None:
        self.resolvers: dict[Any, list[tuple[str, Any]]] = Dumper.yaml_implicit_resolvers
        self.wildcard: list[tuple[str, Any]] = self.resolvers.get(None, [])
        self.default: str = Dumper.DEFAULT_SCALAR_TAG

    @staticmethod
    def of(Dumper: Any) -> Callable[[str, str], tuple[bool, bool]]:
        if Dumper.resolve is BaseResolver.resolve and not getattr(
            Dumper, "yaml_path_resolvers", None
        ):
            return _Implicit(Dumper)
        resolve = Dumper(io.StringIO()).resolve  # only its `resolve`: writes nothing

        def asked(tag: str, value: str) -> tuple[bool, bool]:
            return (
                resolve(ScalarNode, value, (True, False)) == tag,
                resolve(ScalarNode, value, (False, True)) == tag,
            )

        return asked

    def __call__(self, tag: str, value: str) -> tuple[bool, bool]:
        resolved = self.default
        candidates = self.resolvers.get(value[:1])  # "" for "": `resolve` looks that up too
        if candidates is not None or self.wildcard:
            for candidate, regexp in (candidates or []) + self.wildcard:
                if regexp.match(value):
                    resolved = candidate
                    break
        return resolved == tag, tag == self.default


def _float_text(value: float) -> str:
    """SafeRepresenter.represent_float."""
    if value != value or (value == 0.0 and value == 1.0):
        return ".nan"
    if value == float("inf"):
        return ".inf"
    if value == -float("inf"):
        return "-.inf"
    text = repr(value).lower()
    # `1e17` is a string to YAML 1.1: written `1.0e+17`, as PyYAML does.
    if "." not in text and "e" in text:
        text = text.replace("e", ".0e", 1)
    return text
