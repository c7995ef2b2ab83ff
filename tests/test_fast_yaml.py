"""`hl_testkit.cassettes.fast_yaml` gives exactly what PyYAML gives: the same data, the same text.

Cassettes are read with `fast_yaml.load` and written with `fast_yaml.dump`, so
every document here goes both ways and is compared with `yaml.load` /
`yaml.dump` on the cassette loader and dumper: all cassettes in the repository,
generated data full of scalars that YAML 1.1 would take for something else,
and documents that need PyYAML itself (anchors, tags, merges, duplicate keys,
errors), which must give PyYAML's own result or error.
"""

from __future__ import annotations

import gc
import io
import math
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from yaml.nodes import ScalarNode

from hl_testkit.cassettes import fast_yaml
from hl_testkit.cassettes import file as cassette_file
from hl_testkit.cassettes import model as cassette_model

ROOT = Path(__file__).resolve().parent.parent
LOADER = cassette_file._Loader
DUMPER = cassette_file._Dumper
OPTIONS: dict[str, Any] = {
    "sort_keys": False,
    "allow_unicode": True,
    "default_flow_style": False,
    "width": 100,
}

TRICKY = [
    "", " ", "  padded  ", "yes", "No", "on", "OFF", "y", "n", "~", "null", "Null", "true",
    "False", "1", "-1", "+1", "01", "0x1F", "0o17", "0b101", "1_000", "1e3", "1.0e+3", "1.5",
    ".5", "-.5", ".inf", "-.Inf", ".NaN", "12:30:45", "190:20:30", "2024-05-01",
    "2024-05-01T12:00:00Z", "2024-05-01 12:00:00.5 +02:00", "=", "<<", "a: b", "- x", "#x",
    "x #y", "'q'", '"dq"', "multi\nline", "trailing\n", "\nleading", "tab\there", "crlf\r\n",
    "ünïcödé", "emoji 🎉", "\x07bell", "\u2028sep", "{not: json}", "[1, 2]", "&anchor",
    "*alias", "!tag", "%percent", "@at", "`tick", "?", ":", "-", "x" * 150,
    " ".join(["word"] * 40), "sesh_01HXYZ", "<REDACTED>", "<HUMANLOOP_API_KEY>",
]  # fmt: skip

NUMBERS: list[Any] = [
    0, 1, -1, 2**63, -(2**70), 0.0, -0.0, 1.0, 1.5, 1e17, 1e-7, 123456789.123,
    float("inf"), float("-inf"), float("nan"), True, False, None,
]  # fmt: skip


def _same(a: Any, b: Any) -> bool:
    """Equal, NaN included, and of the same types all the way down."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _random_data(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth < 4 and roll < 0.25:
        return {
            rng.choice([*TRICKY, *NUMBERS[:6], "key", "id"]): _random_data(rng, depth + 1)
            for _ in range(rng.randint(0, 5))
        }
    if depth < 4 and roll < 0.45:
        return [_random_data(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    return rng.choice([*TRICKY, *NUMBERS])


def _datasets() -> list[Any]:
    rng = random.Random(7)
    data: list[Any] = [_random_data(rng) for _ in range(300)]
    data += [{"k": value} for value in [*TRICKY, *NUMBERS]]
    data += [[value] for value in [*TRICKY, *NUMBERS]]
    data += [{}, [], {"a": {}, "b": []}, "top-level string", 42, None]
    return data


def _repository_yaml() -> list[Path]:
    found = [p for p in ROOT.rglob("*.yaml") if ".venv" not in p.parts and ".git" not in p.parts]
    assert found, "the repository holds cassettes"
    return sorted(found)


@pytest.mark.parametrize("flow", [False, None, True])
def test_dump_writes_what_yaml_dump_writes(flow: bool | None) -> None:
    options = {**OPTIONS, "default_flow_style": flow}
    for data in _datasets():
        assert fast_yaml.dump(data, DUMPER, **options) == yaml.dump(data, Dumper=DUMPER, **options)


def test_load_reads_what_yaml_load_reads() -> None:
    for data in _datasets():
        for flow in (False, None, True):
            text = yaml.dump(data, Dumper=DUMPER, **{**OPTIONS, "default_flow_style": flow})
            assert _same(fast_yaml.load(text, LOADER), yaml.load(text, Loader=LOADER)), text


def test_every_yaml_file_in_the_repository_round_trips_alike() -> None:
    for path in _repository_yaml():
        text = path.read_text(encoding="utf-8")
        try:
            expected = yaml.load(text, Loader=LOADER)
        except yaml.YAMLError as exc:
            refused: yaml.YAMLError = exc
        else:
            assert _same(fast_yaml.load(text, LOADER), expected), path
            if isinstance(expected, dict) and "interactions" in expected:
                assert fast_yaml.dump(expected, DUMPER, **OPTIONS) == yaml.dump(
                    expected, Dumper=DUMPER, **OPTIONS
                ), path
            continue
        with pytest.raises(type(refused)) as info:
            fast_yaml.load(text, LOADER)
        assert str(info.value) == str(refused)


HAND_WRITTEN = [
    "a: 1\nb: [1, 2, {c: d}]\n",
    "plain: value # a comment\nquoted: '1'\ndouble: \"yes\"\n",
    "block: |\n  line one\n  line two\nfolded: >\n  folded\n  text\n",
    "anchor: &x {a: 1}\nalias: *x\n",
    "base: &b {a: 1}\nmerged:\n  <<: *b\n  c: 2\n",
    "tagged: !!str 123\nbinary: !!binary aGVsbG8=\n",
    "when: 2024-05-01\nstamp: 2024-05-01T12:00:00Z\n",
    "sexagesimal: 1:30\noctal: 0o17\nold_octal: 017\nhex: 0x1f\n",
    "= : value\n",
    "1: int key\n1.5: float key\ntrue: bool key\n~: null key\n",
    "---\nfirst: doc\n",
    "",
    "# only a comment\n",
    "null\n",
    "[1, 2, 3]\n",
]
REFUSED = [
    "a: 1\na: 2\n",  # a duplicate key (refused by the cassette loader)
    "first: 1\n---\nsecond: 2\n",  # two documents
    "key: [unclosed\n",
    "bad: 'quote\n",
    "tab:\t- x\n\t- y\n",
    "python: !!python/object:os.system ls\n",
    "a:\n  - b\n c: d\n",
    "? [complex, key]\n: value\n",  # an unhashable key
]


@pytest.mark.parametrize("text", HAND_WRITTEN)
def test_hand_written_documents(text: str) -> None:
    assert _same(fast_yaml.load(text, LOADER), yaml.load(text, Loader=LOADER))


@pytest.mark.parametrize("text", REFUSED)
def test_refused_documents_raise_pyyamls_own_error(text: str) -> None:
    with pytest.raises(yaml.YAMLError) as expected:
        yaml.load(text, Loader=LOADER)
    with pytest.raises(type(expected.value)) as got:
        fast_yaml.load(text, LOADER)
    assert str(got.value) == str(expected.value)


def test_shared_and_foreign_objects_are_left_to_pyyaml() -> None:
    shared = {"x": 1}
    for data in ({"a": shared, "b": shared}, {"when": __import__("datetime").date(2024, 5, 1)}):
        assert fast_yaml.dump(data, DUMPER, **OPTIONS) == yaml.dump(data, Dumper=DUMPER, **OPTIONS)
    sorted_too = {"b": 1, "a": 2}
    assert fast_yaml.dump(sorted_too, DUMPER) == yaml.dump(sorted_too, Dumper=DUMPER)


@pytest.mark.parametrize(
    "options",
    [
        {"indent": 4, "width": 20, "line_break": "\r\n", "allow_unicode": False},
        {"explicit_start": True, "explicit_end": True},  # PyYAML's own way
        {"encoding": None, "canonical": True},
    ],
)
def test_other_emitter_options_write_what_yaml_dump_writes(options: dict[str, Any]) -> None:
    options = {"sort_keys": False, **options}
    for data in _datasets()[:120]:
        assert fast_yaml.dump(data, DUMPER, **options) == yaml.dump(data, Dumper=DUMPER, **options)


def test_deep_nesting_is_left_to_pyyaml() -> None:
    data: Any = "leaf"
    for _ in range(300):
        data = [data]
    text = yaml.dump(data, Dumper=DUMPER, **OPTIONS)
    assert fast_yaml.dump(data, DUMPER, **OPTIONS) == text
    assert fast_yaml.load(text, LOADER) == data


def test_a_cassette_reads_and_writes_the_same_either_way() -> None:
    path = ROOT / "tests" / "_fast_yaml_sample.yaml"
    data = cassette_model.CassetteData(
        [
            cassette_model.Interaction(
                cassette_model.RecordedRequest(
                    "GET", "https://api.humanloop.com/v4/sessions?page=1", {"Accept": "x"}
                ),
                cassette_model.RecordedResponse(
                    200, "OK", {"Content-Type": "application/json"}, b'{"a":[1,2.5,null]}'
                ),
            )
        ],
        "stand-in",
        "2026-01-01",
    )
    text = cassette_file.dumps(data)
    document = yaml.load(text, Loader=LOADER)
    assert text == cassette_file.HEADER_COMMENT + yaml.dump(document, Dumper=DUMPER, **OPTIONS)
    assert cassette_file.loads(text, path) == data


def _young_at_each_collection(work: Any) -> list[int]:
    """For each run of the cyclic collector that `work()` sets off, how many young
    objects it had to walk (the count of generation 0 as it starts)."""
    runs: list[int] = []

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            runs.append(gc.get_count()[0])

    gc.collect()  # nothing pending from earlier tests
    gc.callbacks.append(count)
    try:
        work()
    finally:
        gc.callbacks.remove(count)
    return runs


def test_a_large_dump_leaves_no_tree_for_the_collector_to_walk() -> None:
    # ~100,000 nodes (and the cassette's document) are made with the collector off and
    # dropped before it is back on: left alive, its next run walks every one of them.
    data = cassette_file.CassetteData(
        [
            cassette_file.Interaction(
                cassette_file.RecordedRequest("GET", f"https://api.humanloop.com/v4/s/{n}"),
                cassette_file.RecordedResponse(200, "OK", {}, b'{"a":[1,2,{"b":"c"}]}'),
            )
            for n in range(2000)
        ]
    )
    document = cassette_file.to_document(data)
    for work in (
        lambda: fast_yaml.dump(document, DUMPER, **OPTIONS),
        lambda: cassette_file.dumps(data),
    ):
        # (a few thousand is what freed tuples kept on CPython's free list still count)
        assert all(young < 10_000 for young in _young_at_each_collection(work))


def test_a_plain_scalar_repeated_in_a_document_reads_the_same_every_time() -> None:
    # `load` constructs each plain scalar's text once per document and reuses it.
    texts = [
        "yes", "No", "on", "~", "null", "true", "1", "-1", "01", "0x1F", "0o17", "1_000",
        "1e3", "1.5", ".inf", "-.Inf", ".NaN", "12:30:45", "190:20:30", "2024-05-01",
        "2024-05-01T12:00:00Z", "sesh_01HXYZ", "GET", "200", "<REDACTED>",
    ]  # fmt: skip
    # Each also quoted (a string whatever its text), in between the plain ones.
    body = "".join(f"- {t}\n- '{t}'\n- {{k: {t}, '{t}': \"{t}\"}}\n- [{t}, {t}]\n" for t in texts)
    text = body * 3 + "- {" + ", ".join(f"k{n}: {t}" for n, t in enumerate(texts)) + "}\n"
    for plain_only in (False, True):
        assert _same(fast_yaml.load(text, LOADER, plain=plain_only), yaml.load(text, LOADER))


@pytest.mark.parametrize("flow", [False, None, True])
def test_a_scalar_repeated_in_a_dump_writes_what_yaml_dump_writes_every_time(
    flow: bool | None,
) -> None:
    # `dump` makes one event per distinct scalar and reuses it: the same text as a key
    # and a value, as a string and as what YAML would take it for (1, "1", True,
    # "true", None, "null"), one line and several, in block and in flow collections.
    values: list[Any] = [*TRICKY, *NUMBERS]
    keys = [v for v in values if v is not None and not isinstance(v, float)]
    rng = random.Random(11)
    document: dict[Any, Any] = {}
    for n in range(300):
        key = rng.choice(keys)
        document.setdefault(key, []).append(
            {rng.choice(keys): rng.choice(values), str(rng.choice(values)): [rng.choice(values)]}
            if n % 2
            else rng.choice(values)
        )
    document["again"] = [{str(v): v for v in values} for _ in range(3)]
    options = {**OPTIONS, "default_flow_style": flow}
    text = fast_yaml.dump(document, DUMPER, **options)
    assert text == yaml.dump(document, Dumper=DUMPER, **options)
    assert text.count("multi") > 3  # the repeats were written each time they occur


# -- the implicit tags, worked out from the resolver's tables ------------------------------

#: Texts built from what the implicit resolvers look at: first characters they key on,
#: digits, signs, separators, the words of bool and null, and anything else.
_RESOLVER_TEXT = st.one_of(
    st.text(max_size=12),
    st.text(alphabet="0123456789+-._:eExXoObB aAfFnNtTyYlLuUrRsS~<=!&*\n", max_size=12),
    st.sampled_from([str(t) for t in TRICKY]),
    st.builds(str, st.one_of(st.integers(), st.floats())),
)
_TAGS = st.sampled_from(
    [fast_yaml._STR, fast_yaml._NULL, fast_yaml._BOOL, fast_yaml._INT, fast_yaml._FLOAT]
)


@settings(max_examples=2000, deadline=None)
@given(_TAGS, _RESOLVER_TEXT)
@example(fast_yaml._STR, "")
@example(fast_yaml._NULL, "~")
@example(fast_yaml._STR, "<<")
@example(fast_yaml._STR, "=")
def test_implicit_tags_are_what_the_dumpers_resolve_says(tag: str, value: str) -> None:
    # `_Events` asks no `resolve`: the plain and quoted answers it uses instead must be
    # `resolve`'s own, for every text and tag (the emitter writes a tag, or quotes, by them).
    resolve = DUMPER(io.StringIO()).resolve
    expected = (
        resolve(ScalarNode, value, (True, False)) == tag,
        resolve(ScalarNode, value, (False, True)) == tag,
    )
    implicit = fast_yaml._Implicit.of(DUMPER)
    assert isinstance(implicit, fast_yaml._Implicit)  # the tables' way, not `resolve`'s
    assert implicit(tag, value) == expected


def _picky_resolve(self: Any, kind: Any, value: Any, implicit: Any) -> Any:
    """A `resolve` of its own: every text starting with `x` is taken for an int."""
    if kind is ScalarNode and implicit[0] and str(value).startswith("x"):
        return fast_yaml._INT
    return DUMPER.resolve(self, kind, value, implicit)


_PickyDumper: Any = type("_PickyDumper", (DUMPER,), {"resolve": _picky_resolve})


def test_a_dumper_with_its_own_resolve_is_asked_itself() -> None:
    assert not isinstance(fast_yaml._Implicit.of(_PickyDumper), fast_yaml._Implicit)
    data = {"x1": ["xyz", "abc", 1, "1"], "xs": {"x": "y"}}
    for flow in (False, None, True):
        options = {**OPTIONS, "default_flow_style": flow}
        text = fast_yaml.dump(data, _PickyDumper, **options)
        assert text == yaml.dump(data, Dumper=_PickyDumper, **options)
        assert "'xyz'" in text  # quoted: its own resolve was asked


_SCALARS = st.one_of(_RESOLVER_TEXT, st.integers(), st.floats(), st.booleans(), st.none())
_PLAIN_DATA = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(_RESOLVER_TEXT, st.integers()), inner, max_size=4),
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PLAIN_DATA, min_size=1, max_size=4), st.sampled_from([False, None, True]))
def test_repeated_collections_and_strings_write_what_yaml_dump_writes(
    parts: list[Any], flow: bool | None
) -> None:
    # Strings met before go out as their shared events, and every collection of a style
    # shares one start event: the same text, with repeats, in every flow style.
    data = {"a": parts, "b": [dict(enumerate(map(str, parts)))]}
    options = {**OPTIONS, "default_flow_style": flow}
    assert fast_yaml.dump(data, DUMPER, **options) == yaml.dump(data, Dumper=DUMPER, **options)
