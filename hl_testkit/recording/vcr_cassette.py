"""The vcrpy glue: the only module that imports `vcr`, loaded on first use.

vcrpy patches the HTTP clients (requests, urllib3 and so the official SDK,
httpx, aiohttp, ...) and asks a `Cassette` whether it can answer each request.
`HlCassette` answers from a `Recording` (our own file format and matching,
`hl_testkit.cassettes.matching`), and never saves by itself: `Recording.finish` decides
what is written, once the test's outcome is known.

Hot path. vcrpy's stubs ask `can_play_response_for(request)` and then
`play_response(request)` with the same request object, and both (as `append`
does when recording) start with the `before_record_request` chain, which
deep-copies the request even when it holds no hook at all. So:

* without a request hook (`filter_headers`, `filter_query_parameters`,
  `filter_post_data_parameters`, `ignore_hosts`, `ignore_localhost`,
  `before_record_request`), the chain is skipped: the request is only read;
* the filtered request and its key are computed once per request object and
  reused by the next call about the same object;
* likewise the recorded response is deep-copied for the `before_record_response`
  chain only when there is a response hook.

Connections and recording: vcrpy's stubs step out of the cassette with
`vcr.patch.force_reset()` for each new connection and each real request,
which re-runs `reset_patchers()`: a dozen `import` attempts of HTTP libraries,
the missing ones searched for along sys.path every time (a quarter of a
millisecond). While a cassette is active, `force_reset` is swapped for one
that re-applies the same (target, attribute, original) triples, learnt from
`reset_patchers()` once and learnt again whenever a module they come from is
no longer the one in `sys.modules` (or an optional HTTP library appeared).

aiohttp: vcrpy's aiohttp stub records `await response.read()`, which aiohttp has
already decompressed (`auto_decompress`, its default), under the response's own
headers, `Content-Encoding: gzip` still among them: the scrubber would then
try to decode a body that is no longer encoded. While a cassette is active,
the stub's `record_response` appends through `_DecodedByAiohttp`, which drops
the Content-Encoding of a body aiohttp decoded: stored decoded, as every
client's compressed bodies are, and replayed as such.

Activation: vcrpy is imported by `lazy_clients`, without the optional HTTP
libraries (aiohttp, httpx, tornado, ...) the process has not imported; the
groups whose library is not imported are passed as `skip_patchers` (building
one would import it). A library imported later is patched then: for each
active cassette until it ends (`_arrived`), and in the shared patches, built
again as its arrival changes their key.

Shared patches: building vcrpy's patches (a stub subclass per connection class,
a closure per async client, and a failed `import` of each optional library
that is not installed, searched for along sys.path) cost a millisecond a test,
ten times what switching them on and off costs. They are built once, answering
for a `_Current` that hands every question to the cassette active now, and
switched on for each test; built again when vcrpy or a patched module was
reimported or an optional HTTP library appeared (as `reset_triples`). A test
with `custom_patches`, or a cassette activated while the shared patches are on
(a nested in-process pytest run), gets patches of its own, as before.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import sys
import types
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from unittest import mock

# First: vcrpy imported without the optional HTTP libraries not imported yet.
from hl_testkit.recording import lazy_clients

lazy_clients.load_vcr()  # each time this module is imported (in-process runs drop it)

# isort: split
import vcr
import vcr.patch as vcr_patch
import vcr.stubs as vcr_stubs
from vcr.cassette import Cassette
from vcr.patch import CassettePatcherBuilder
from vcr.record_mode import RecordMode

from hl_testkit.cassettes import canonical, matching
from hl_testkit.cassettes.model import Interaction, RecordedRequest, RecordedResponse
from hl_testkit.recording import requests_replay
from hl_testkit.secrets import scrub

if TYPE_CHECKING:
    from hl_testkit.recording.recorder import Recording

#: `hl_vcr_config` keys that put a hook on the request (vcrpy's `before_record_request` chain).
REQUEST_HOOK_KEYS = (
    "before_record_request",
    "filter_headers",
    "filter_post_data_parameters",
    "filter_query_parameters",
    "ignore_hosts",
    "ignore_localhost",
)


#: `hl_vcr_config` keys that put a hook on the recorded response.
RESPONSE_HOOK_KEYS = ("before_record_response", "decode_compressed_response")


def has_request_hooks(vcr_config: dict[str, Any]) -> bool:
    return any(vcr_config.get(name) for name in REQUEST_HOOK_KEYS)


def has_response_hooks(vcr_config: dict[str, Any]) -> bool:
    return any(vcr_config.get(name) for name in RESPONSE_HOOK_KEYS)


#: vcrpy's patch groups that patch nothing when their library (top-level module) is missing.
_OPTIONAL_GROUPS = {
    "boto3": "botocore",
    "httplib2": "httplib2",
    "tornado": "tornado",
    "aiohttp": "aiohttp",
    "httpx": "httpx",
    "httpx2": "httpx2",
}
#: Optional HTTP libraries `reset_patchers()` looks for (their arrival means: ask again).
_OPTIONAL_MODULES = lazy_clients.OPTIONAL


def absent_groups() -> tuple[str, ...]:
    """The patch groups to skip: their library is not imported. vcrpy imported eagerly has
    imported every installed one; loaded lazily, one that arrives is patched then
    (`_arrived`), and building its group now would import it."""
    return tuple(
        group for group, module in _OPTIONAL_GROUPS.items() if sys.modules.get(module) is None
    )


class HlCassette(Cassette):  # type: ignore[misc]
    """A vcrpy cassette that answers from a `Recording`."""

    def __init__(
        self,
        recording: Recording,
        *,
        request_hooks: bool,
        response_hooks: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.response_hooks = response_hooks
        self.recording = recording
        # vcrpy's write protection: "once" replays only once the cassette holds something
        # of this test's (another test may have created a shared cassette).
        self.rewound = recording.holds_own
        self.request_hooks = request_hooks
        if not getattr(self, "skip_patchers", ()):  # vcrpy >= 8 reads it in the builder
            self.skip_patchers = absent_groups()
        # (request object, request after the hooks or None if ignored, its key or None)
        self._memo: tuple[Any, Any, matching.RequestKey | None] | None = None

    def _load(self) -> None:  # the Recording has loaded the file already
        pass

    def _save(self, force: bool = False) -> None:  # Recording.finish saves
        pass

    def _prepared(self, request: Any) -> tuple[Any, matching.RequestKey | None]:
        """`request` after the user's hooks (None: an ignored host) and its key.

        Computed once per request object: vcrpy asks about the same object
        twice (can we play it, play it) or records it right after asking.
        """
        memo = self._memo
        if memo is not None and memo[0] is request:
            return memo[1], memo[2]
        self.recording.refuse_outside_base(request.method, request.uri)
        filtered = self._before_record_request(request) if self.request_hooks else request
        key = self._key(filtered) if filtered else None
        self._memo = (request, filtered, key)
        return filtered, key

    def _key(self, request: Any) -> matching.RequestKey:
        body = getattr(request, "body_bytes", request.body)
        return self.recording.key_of(request.method, request.uri, body, dict(request.headers))

    def filter_request(self, request: Any) -> Any:
        return self._prepared(request)[0]

    def can_play_response_for(self, request: Any) -> bool:
        _, key = self._prepared(request)
        if key is None:
            return False  # an ignored host: goes to the network, unrecorded
        if self.record_mode == RecordMode.ALL:
            return False
        recording = self.recording
        if recording.can_take(key):
            return True
        if self.write_protected:
            raise recording.miss(key)
        return False

    def play_response(self, request: Any) -> dict[str, Any]:
        _, key = self._prepared(request)
        interaction = None if key is None else self.recording.take(key)
        if interaction is None:
            raise self.recording.miss(key or self._key(request))
        response = interaction.response
        return {
            "status": {"code": response.status, "message": response.reason},
            "headers": canonical.replay_headers(response.headers, response.body),
            "body": {"string": response.body},
        }

    def append(self, request: Any, response: dict[str, Any]) -> None:
        request, _ = self._prepared(request)
        if not request:
            return
        if self.response_hooks:  # a hook may change it: on a copy (vcrpy's stub keeps it)
            response = self._before_record_response(copy.deepcopy(response))
            if response is None:
                return
        body = getattr(request, "body_bytes", request.body)
        self.recording.recorded.append(
            recorded_interaction(
                self.recording, request.method, request.uri, request.headers, body, response
            )
        )
        self.dirty = True

    def __contains__(self, request: Any) -> bool:
        return bool(self.can_play_response_for(request))


def recorded_interaction(
    recording: Recording,
    method: str,
    uri: str,
    headers: Any,
    body: bytes | str | None,
    response: dict[str, Any],
    stored: tuple[str, bytes | None] | None = None,
) -> Interaction:
    """An exchange as it is kept (scrubbed): `response` in vcrpy's form (status, headers
    as lists, body). Shared by vcrpy's path and the `sessions` client's record adapter,
    which passes `stored`: the URI and body as `Recording.key_and_uri` stored them for
    the request's key (not scrubbed again)."""
    request_headers, encodings = canonical.request_headers_and(headers, "content-encoding")
    # The Content-Encoding is kept for `clean` alone, which decodes the body by it (as
    # `key_of` does) and then drops it: without it a gzip request body would be stored
    # compressed, unscrubbed.
    request_headers.update(encodings)
    answer = response["body"]["string"]
    return recording.clean(
        Interaction(
            RecordedRequest(
                method=method.upper(),
                uri=(
                    canonical.canonical_uri(uri, recording.base_url)
                    if stored is None
                    else stored[0]
                ),
                headers=request_headers,
                body=body.encode("utf-8") if isinstance(body, str) else body,
            ),
            RecordedResponse(
                status=int(response["status"]["code"]),
                reason=str(response["status"]["message"] or ""),
                headers=canonical.response_headers(response["headers"]),
                body=answer.encode("utf-8") if isinstance(answer, str) else bytes(answer or b""),
            ),
        ),
        uri_scrubbed=stored is not None,
        clean_body=scrub.NOT_GIVEN if stored is None else stored[1],
    )


def serialize_headers(response: Any) -> dict[str, list[str]]:
    """An http.client response's headers as they are recorded: each name once, as it was
    first spelt, with every value it had in any case, in the order they came.

    vcrpy's own (`vcr.stubs.serialize_headers`, which `patched` swaps for this one while
    a cassette is active) asks the message, for each distinct spelling, for every value
    of its name in any case (`get_all` ignores case): a name sent as `X-Echo: a` and
    `x-echo: b` was recorded twice over, and replayed as `a, b, a, b` where the live
    answer gave `a, b`. Here the message's items are read once; urllib3 and requests
    then see what they saw live (its first spelling, every value in order), and a
    cassette never holds one name in two spellings. `tests/test_fidelity.py` holds
    replay to the live answer; `tests/test_record_adapter.py` holds this to urllib3's
    reading of the message and, where no name repeats in another case, to vcrpy's."""
    message = response.headers if response.msg is None else response.msg
    items = message.items()
    if len({name.lower() for name, _ in items}) == len(items):  # the usual: no name twice
        return {name: [value] for name, value in items}
    grouped: dict[str, list[str]] = {}
    spelt: dict[str, str] = {}  # lowercased name -> its first spelling
    for name, value in items:
        first = spelt.setdefault(name.lower(), name)
        if first in grouped:
            grouped[first].append(value)
        else:
            grouped[first] = [value]
    return grouped


def stepped_out() -> contextlib.AbstractContextManager[None]:
    """vcrpy's patches undone for the duration, as its stubs do for a real request (our
    cached `force_reset` while a cassette is active)."""
    return vcr_patch.force_reset()  # type: ignore[no-any-return]


_Triple = tuple[Any, str, Any]
#: (vcr.patch, optional libraries present), the triples, and the modules they come from.
_resets: tuple[tuple[int, tuple[bool, ...]], list[_Triple], list[tuple[str, Any]]] | None = None


def _present() -> tuple[bool, ...]:
    return tuple(name in sys.modules for name in _OPTIONAL_MODULES)


def reset_triples() -> list[_Triple]:
    """What `vcr.patch.reset_patchers()` sets back: (target, attribute, original)."""
    global _resets
    if _resets is not None:
        key, triples, modules = _resets
        if key == (id(vcr_patch), _present()) and _unchanged(modules):
            return triples
    with lazy_clients.holding_back():
        triples = [(p.getter(), p.attribute, p.new) for p in vcr_patch.reset_patchers()]
    _resets = ((id(vcr_patch), _present()), triples, _modules_of(t for t, _, _ in triples))
    return triples


def _modules_of(targets: Iterable[Any]) -> list[tuple[str, Any]]:
    """The modules `targets` (modules or classes) come from, as `sys.modules` holds them
    now: what was built on them is stale once one is reimported."""
    names = dict.fromkeys(_source_of(target) for target in targets)
    return [(name, sys.modules.get(name)) for name in names]


def _unchanged(modules: list[tuple[str, Any]]) -> bool:
    return all(sys.modules.get(name) is module for name, module in modules)


def _source_of(target: Any) -> str:
    return target.__name__ if isinstance(target, types.ModuleType) else str(target.__module__)


def _cached_force_reset() -> Callable[[], contextlib.AbstractContextManager[None]]:
    """`vcr.patch.force_reset`, without re-running `reset_patchers()` each time.

    Each (target, attribute) is set back to the original for the duration, and
    afterwards to what it was, as `mock.patch.object` does for an attribute the
    target holds itself (the cassette's patches make them so; any other goes
    through `mock.patch.object`); then, as vcrpy's own `_undo_reset`, a value
    that something else put there meanwhile is kept.
    """
    keep_newer = hasattr(vcr_patch, "_undo_reset")  # vcrpy >= 7; older ones just restore
    return lambda: _ForceReset(keep_newer)


class _ForceReset:
    """`_cached_force_reset`'s context: a class, not a generator under `contextmanager`,
    since the record adapter and vcrpy's stubs enter one for every real request."""

    __slots__ = ("keep_newer", "patchers", "undo")

    def __init__(self, keep_newer: bool) -> None:
        self.keep_newer = keep_newer
        self.undo: list[tuple[Any, str, Any, Any]] = []
        self.patchers: list[Any] = []

    def __enter__(self) -> None:
        try:
            for target, attribute, original in reset_triples():
                own = vars(target)
                if attribute in own:
                    current = own[attribute]
                    setattr(target, attribute, original)
                    self.undo.append((target, attribute, current, getattr(target, attribute)))
                else:
                    patcher = mock.patch.object(target, attribute, original)
                    patcher.__enter__()
                    self.patchers.append(patcher)
        except BaseException:
            self._put_back()  # what was set back so far, as the generator's `finally` did
            raise

    def __exit__(self, *exc_info: object) -> None:
        self._put_back()

    def _put_back(self) -> None:
        for patcher in reversed(self.patchers):
            patcher.__exit__(None, None, None)
        for target, attribute, current, reset_to in reversed(self.undo):
            replaced_by = getattr(target, attribute, reset_to)
            setattr(target, attribute, current)
            if self.keep_newer and replaced_by is not reset_to:
                setattr(target, attribute, replaced_by)


@contextlib.contextmanager
def _fast_force_reset() -> Iterator[None]:
    """Our `force_reset` while a cassette is active; vcrpy's own one put back after."""
    if not all(hasattr(vcr_patch, name) for name in ("force_reset", "reset_patchers")):
        yield  # another vcrpy: leave it alone
        return
    saved = vcr_patch.force_reset
    vcr_patch.force_reset = _cached_force_reset()
    try:
        yield
    finally:
        vcr_patch.force_reset = saved


class _DecodedByAiohttp:
    """The cassette, as vcrpy's aiohttp `record_response` sees it for one response."""

    def __init__(self, cassette: HlCassette) -> None:
        self.cassette = cassette

    def append(self, request: Any, response: dict[str, Any]) -> None:
        headers = response["headers"]
        response = {
            **response,
            "headers": {k: v for k, v in headers.items() if k.lower() != "content-encoding"},
        }
        self.cassette.append(request, response)


@contextlib.contextmanager
def _aiohttp_records_decoded() -> Iterator[None]:
    """vcrpy's aiohttp stub, telling the cassette when aiohttp decoded the body."""
    if "aiohttp" in absent_groups():
        yield
        return
    stubs = importlib.import_module("vcr.stubs.aiohttp_stubs")
    original = stubs.record_response

    async def record_response(cassette: Any, vcr_request: Any, response: Any) -> None:
        session = getattr(response, "_session", None)
        decoded = getattr(session, "auto_decompress", True)  # aiohttp's default
        if decoded and response.headers.get("Content-Encoding", "identity") != "identity":
            cassette = _DecodedByAiohttp(cassette)
        await original(cassette, vcr_request, response)

    with mock.patch.object(stubs, "record_response", record_response):
        yield


@contextlib.contextmanager
def patched(recording: Recording, vcr_config: dict[str, Any]) -> Iterator[HlCassette]:
    """vcrpy's patches on, every request answered (or recorded) by `recording`."""
    lazy_clients.catch_up()  # a library imported unannounced: its originals, before building
    mode = "all" if recording.record_mode == "rewrite" else recording.record_mode
    merged = vcr.VCR(**vcr_config).get_merged_config(path=str(recording.path), record_mode=mode)
    cassette = HlCassette(
        recording,
        request_hooks=has_request_hooks(vcr_config),
        response_hooks=has_response_hooks(vcr_config),
        path=str(recording.path),
        record_mode=merged["record_mode"],
        match_on=(),
        before_record_request=merged["before_record_request"],
        before_record_response=merged["before_record_response"],
        custom_patches=merged["custom_patches"],
    )
    # A request hook may drop, rewrite or pass the request to the network: only
    # vcrpy's path knows what it does (see recording.requests_replay).
    recording.direct_replay = recording.record_mode == "none" and not cassette.request_hooks
    # Likewise a response hook may rewrite what is recorded: record_adapter leaves both to vcrpy.
    recording.direct_record = recording.record_mode != "none" and not (
        cassette.request_hooks or cassette.response_hooks
    )
    with contextlib.ExitStack() as stack:
        stack.enter_context(_patches_on(cassette))
        stack.enter_context(_fast_force_reset())
        # vcrpy's own records a name in two spellings twice over (see serialize_headers);
        # its stub also builds the test's answer of every real request from it (an ignored
        # host's too, in any record mode): swapped for this test, as the cassette is.
        stack.enter_context(mock.patch.object(vcr_stubs, "serialize_headers", serialize_headers))
        stack.enter_context(_aiohttp_records_decoded())
        if recording.direct_replay:  # a test's own requests clients skip vcrpy too
            stack.enter_context(requests_replay.answering(recording))
        activation = _Activation(cassette, stack)
        _active.append(activation)
        try:
            yield cassette
        finally:
            _active.remove(activation)
            recording.direct_replay = recording.direct_record = False


@dataclass
class _Activation:
    cassette: HlCassette
    #: What `patched` exits when the cassette ends: a library's late patches join it.
    stack: contextlib.ExitStack


#: The cassettes active now, outermost first (a nested in-process pytest run's inside).
_active: list[_Activation] = []


def _arrived(library: str) -> None:
    """`library` was imported (vcrpy's originals for it now saved, `lazy_clients`): patch it
    for each active cassette, as its activation would have, until that cassette ends."""
    for activation in _active:
        view = _AllGroups(activation.cassette)  # no group name assumed: sorted by target
        for patcher in lazy_clients.library_patches(_build(view), library):
            activation.stack.enter_context(patcher)
        if library == "aiohttp":
            activation.stack.enter_context(_aiohttp_records_decoded())


lazy_clients.on_arrival(_arrived)


class _Current:
    """What the shared patches take for their cassette: whichever one is active now."""

    def __init__(self, cassette: HlCassette) -> None:
        self.cassette = cassette

    def __getattr__(self, name: str) -> Any:  # vcrpy's stubs only read the cassette
        try:
            cassette = self.__dict__["cassette"]
        except KeyError:  # not initialised (a copy being made): no recursion
            raise AttributeError(name) from None
        return getattr(cassette, name)


class _AllGroups(_Current):
    """A cassette as vcrpy's patch builder sees it, building every group's patches (the
    libraries not imported held back) and no custom ones."""

    def __init__(self, cassette: HlCassette) -> None:
        super().__init__(cassette)
        self.skip_patchers = ()
        self.custom_patches = ()


@dataclass
class _SharedPatches:
    key: tuple[Any, ...]
    patchers: list[Any]
    #: The modules the patched targets come from, as they were when built.
    sources: list[tuple[str, Any]]
    current: _Current
    active: bool = False

    def still_valid(self, key: tuple[Any, ...]) -> bool:
        return key == self.key and _unchanged(self.sources)


_shared: _SharedPatches | None = None


def _shared_patches(cassette: HlCassette) -> _SharedPatches | None:
    """The session's patches, now answering for `cassette`; None when it needs its own."""
    global _shared
    if cassette.custom_patches:
        return None
    key = (id(vcr_patch), tuple(getattr(cassette, "skip_patchers", ())), _present())
    shared = _shared
    if shared is not None and shared.still_valid(key):
        if shared.active:
            return None
        shared.current.cassette = cassette
        return shared
    current = _Current(cassette)
    patchers = _build(current)
    getters = (getattr(patcher, "getter", None) for patcher in patchers)
    sources = _modules_of(getter() for getter in getters if getter is not None)
    _shared = _SharedPatches(key, patchers, sources, current)
    return _shared


def _build(cassette: Any) -> list[Any]:
    """vcrpy's patches for `cassette`, without importing a library that is not imported."""
    with lazy_clients.holding_back():
        return list(CassettePatcherBuilder(cassette).build())


@contextlib.contextmanager
def _patches_on(cassette: HlCassette) -> Iterator[None]:
    """vcrpy's patches on for `cassette`: the shared ones where they can be."""
    shared = _shared_patches(cassette)
    patchers = _build(cassette) if shared is None else shared.patchers
    if shared is not None:
        shared.active = True
    try:
        with contextlib.ExitStack() as stack:
            for patcher in patchers:
                stack.enter_context(patcher)
            yield
    finally:
        if shared is not None:
            shared.active = False
            for patcher in shared.patchers:
                # A ConnectionRemover has closed this test's connections: forget their pools.
                kept = getattr(patcher, "_connection_pool_to_connections", None)
                if isinstance(kept, dict):
                    kept.clear()
