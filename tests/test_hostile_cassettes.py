"""Hostile cassettes: aliases, huge numbers, odd values and symlinks are refused at once.

Each is refused with the file, line and column, in the loader, in pytest, and in
`hl-testkit check` and `show` -- never a traceback, never a hang.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hl_testkit.cassettes import fast_yaml
from hl_testkit.cassettes import file as cassette_file
from hl_testkit.cassettes.file import CassetteError
from hl_testkit.cassettes.model import CassetteData, Interaction, RecordedRequest, RecordedResponse
from hl_testkit.cli.main import main

GOOD = cassette_file.dumps(
    CassetteData(
        [
            Interaction(
                RecordedRequest("GET", "https://api.humanloop.com/v4/sessions?project_id=pr_x"),
                RecordedResponse(
                    200, "OK", {"Content-Type": "application/json"}, b'{"records":[],"total":0}'
                ),
            )
        ],
        "stand-in",
    )
)
HUGE = "9" * 5000


def billion_laughs() -> str:
    """A cassette of under 1 kB whose body is 9**9 strings when the aliases are followed."""
    lol = ", ".join(['"lol"'] * 9)
    lines = [
        "format: hl-testkit-cassette/1",
        "interactions:",
        "- request: {method: GET, uri: 'https://api.humanloop.com/v4/sessions', headers: {},"
        " body: null}",
        "  response:",
        "    status: 200",
        "    reason: OK",
        "    headers: {}",
        "    body:",
        "      json:",
        f"        a: &a [{lol}]",
    ]
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"        {name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    text = "\n".join(lines) + "\n"
    assert len(text) < 1000
    return text


def edit(old: str, new: str) -> str:
    assert GOOD.count(old) == 1, old
    return GOOD.replace(old, new)


def position(text: str, needle: str) -> tuple[int, int]:
    offset = text.index(needle)
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


ALIASES = (
    "holds the YAML anchor &a; hl-testkit refuses YAML anchors and aliases: a cassette is "
    "plain data and is written without them (an alias can make a few hundred bytes expand "
    "into gigabytes); write the value out in full, or re-record the cassette"
)
NUMBER = (
    "holds a number of 5000 characters (at most 100 are read); no HTTP status or JSON body "
    "needs such a number: quote it if it is text, or re-record the cassette"
)
HOSTILE = {
    # name: (content, where the error points, what it says)
    "alias_bomb": (billion_laughs(), "&a", ALIASES),
    "alias": (edit("reason: OK", "reason: *a"), "*a", ALIASES.replace("anchor &a", "alias *a")),
    "huge_status": (
        edit("status: 200", f"status: {HUGE}"),
        HUGE,
        NUMBER,
    ),
    "huge_json_number": (
        edit("total: 0", f"total: {HUGE}"),
        HUGE,
        NUMBER,
    ),
    "uri": (
        edit("uri: https://api.humanloop.com/v4/sessions?project_id=pr_x", "uri: '::::'"),
        "'::::'",
        "interactions[0].request.uri: the uri must be an absolute http(s) URL like "
        "https://api.humanloop.com/v4/sessions, got '::::'",
    ),
    "method": (
        edit("method: GET", 'method: "G E T\\n"'),
        '"G E T',
        "interactions[0].request.method: the method must be an HTTP method like GET or POST "
        "(letters, digits and !#$%&'*+-.^_`|~, no spaces), got 'G E T\\n'",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_refused_at_once_with_line_and_column(case: str, tmp_path: Path) -> None:
    content, needle, problem = HOSTILE[case]
    path = tmp_path / "c.yaml"
    path.write_text(content, encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(CassetteError) as info:
        cassette_file.read(path)
    assert time.monotonic() - started < 1.0
    line, column = position(content, needle)
    assert (info.value.line, info.value.column) == (line, column)
    assert str(info.value) == f"cassette {path}, line {line}, column {column}: {problem}"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("reason: OK", "reason: !!str OK\nextra: &x 1"),  # a tag: the PyYAML path, then &x
        ("reason: OK", "reason: &r OK"),  # an anchor on a scalar
        ("- request:", "- ? &k request\n  :"),  # an anchor on a key
        ("total: 0", f"total: !!int {HUGE}"),  # an explicit tag on a huge number
        ("total: 0", f"? {HUGE}\n        : 0"),  # a huge number as a key
    ],
)
def test_the_pyyaml_path_refuses_them_too(old: str, new: str) -> None:
    with pytest.raises(fast_yaml.NotPlainData):
        fast_yaml.load(edit(old, new), cassette_file._Loader, plain=True)


def test_plain_data_still_loads_the_same() -> None:
    text = edit("total: 0", "total: 1.5e+300\n        big: 123456789012345678901234567890")
    assert fast_yaml.load(text, cassette_file._Loader, plain=True) == fast_yaml.load(
        text, cassette_file._Loader
    )
    shared = "a: &x {b: 1}\nc: *x\n"  # plain=False (the default) still reads them
    assert fast_yaml.load(shared, cassette_file._Loader) == {"a": {"b": 1}, "c": {"b": 1}}


@pytest.mark.parametrize(
    "uri",
    [
        "https://api.humanloop.com/v4/sessions",
        "http://127.0.0.1:8000/v4/sessions/sesh_1?x=1",
        "http://[::1]:80/v4",
    ],
)
def test_good_uris_and_methods_load(uri: str, tmp_path: Path) -> None:
    content = edit("https://api.humanloop.com/v4/sessions?project_id=pr_x", uri)
    for method in ("GET", "POST", "PATCH", "M-SEARCH"):
        path = tmp_path / "c.yaml"
        path.write_text(content.replace("method: GET", f"method: {method}"), encoding="utf-8")
        data = cassette_file.read(path)
        assert data is not None
        assert (data.interactions[0].request.method, data.interactions[0].request.uri) == (
            method,
            uri,
        )


@pytest.mark.parametrize("uri", ["/v4/sessions", "ftp://x/y", "https:///v4", "http://h:x/", "a b"])
def test_other_uris_are_refused(uri: str, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(edit("https://api.humanloop.com/v4/sessions?project_id=pr_x", f"'{uri}'"))
    with pytest.raises(CassetteError, match="the uri must be an absolute http"):
        cassette_file.read(path)


# -- the same, through pytest and the command line -------------------------------------------


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HUMANLOOP_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def _hostile_cassette(case: str, pytester: pytest.Pytester) -> tuple[Path, str]:
    """A test whose cassette is `HOSTILE[case]`; its path and the expected error."""
    content, needle, problem = HOSTILE[case]
    pytester.makepyfile(test_h="def test_it(hl_cassette):\n    pass\n")
    path = pytester.path / "cassettes" / "test_h" / "test_it.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(content, encoding="utf-8")
    line, column = position(content, needle)
    return path, f"cassette {path}, line {line}, column {column}: {problem}"


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_pytest_check_and_show_report_file_line_without_traceback(
    case: str, pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    path, where = _hostile_cassette(case, pytester)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    assert where in result.stdout.str()  # (not fnmatch: the message holds "[0]")
    assert "Traceback" not in result.stdout.str()
    assert "ValueError" not in result.stdout.str()
    capsys.readouterr()
    for command in (["check", str(path)], ["show", str(path)]):
        assert main(command) == 2  # an uncaught exception would fail this test instead
        assert where in capsys.readouterr().err


def test_the_alias_bomb_end_to_end_in_fresh_processes(pytester: pytest.Pytester) -> None:
    path, where = _hostile_cassette("alias_bomb", pytester)
    started = time.monotonic()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=60)
    result.assert_outcomes(errors=1)
    assert where in result.stdout.str()
    for command in (["check", str(path)], ["show", str(path)]):
        done = subprocess.run(
            [sys.executable, "-m", "hl_testkit.cli", *command],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 2, done
        assert where in done.stderr
        assert "Traceback" not in done.stderr
    # Three runs, none hung on the aliases: expanded, this bomb takes minutes and
    # gigabytes. Each run takes seconds, but up to 11 a run on a loaded 2-core machine
    # (32 s for the three, under a second suite and valgrind): the bound leaves room.
    assert time.monotonic() - started < 90


# -- cassette names and symlinks ----------------------------------------------------------


def test_a_marker_name_with_nul_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_nul="""
        import pytest

        @pytest.mark.hl_cassette(name="a\\x00b")
        def test_it(hl_cassette):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.hl_cassette(name='a\\x00b'): a cassette name is a non-empty string "
            "without NUL or other control characters, relative to *test_nul"
        ]
    )
    assert "ValueError" not in result.stdout.str()


SYMLINK_TEST = """
import pytest

def test_default(hl_cassette):
    pass

@pytest.mark.hl_cassette(name="named")
def test_named(hl_cassette):
    pass
"""


def test_a_symlinked_cassette_file_is_refused_by_default_name_and_marker_alike(
    pytester: pytest.Pytester,
) -> None:
    outside = pytester.path / "outside"
    outside.mkdir()
    secret = outside / "elsewhere.yaml"
    secret.write_text(GOOD, encoding="utf-8")
    module = pytester.path / "cassettes" / "test_link"
    module.mkdir(parents=True)
    (module / "test_default.yaml").symlink_to(secret)
    (module / "named.yaml").symlink_to(secret)
    pytester.makepyfile(test_link=SYMLINK_TEST)

    result = pytester.runpytest("--hl-record-mode=all")
    result.assert_outcomes(errors=2)
    root = (pytester.path / "cassettes").resolve()
    for what, name in (
        ("the cassette of test_link.py::test_default", "test_default"),
        ("@pytest.mark.hl_cassette(name='named')", "named"),
    ):
        result.stdout.fnmatch_lines(
            [
                f"*{what} is {module / name}.yaml, which a symlink leads outside the "
                f"cassette directory {root} (to {secret.resolve()}): hl-testkit reads and "
                "writes cassettes only inside it.*"
            ]
        )
    assert secret.read_text(encoding="utf-8") == GOOD  # neither read nor overwritten


def test_a_symlinked_module_directory_gets_no_writes(pytester: pytest.Pytester) -> None:
    outside = pytester.path / "outside"
    outside.mkdir()
    (pytester.path / "cassettes").mkdir()
    (pytester.path / "cassettes" / "test_link").symlink_to(outside, target_is_directory=True)
    pytester.makepyfile(test_link=SYMLINK_TEST)

    result = pytester.runpytest("--hl-record-mode=once")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*which a symlink leads outside the cassette directory*"])
    assert list(outside.iterdir()) == []


def test_symlinks_inside_the_cassette_directory_are_fine(pytester: pytest.Pytester) -> None:
    real = pytester.path / "cassettes" / "real"
    real.mkdir(parents=True)
    (pytester.path / "cassettes" / "test_link").symlink_to(real, target_is_directory=True)
    pytester.makepyfile(test_link=SYMLINK_TEST)
    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=2)


def test_a_body_with_a_long_number_is_written_as_text_and_reads_back(tmp_path: Path) -> None:
    body = b'{"big": ' + b"7" * 150 + b', "small": 1}'
    data = CassetteData(
        [
            Interaction(
                RecordedRequest("GET", "https://api.humanloop.com/v4/sessions"),
                RecordedResponse(200, "OK", {}, body),
            )
        ]
    )
    path = tmp_path / "c.yaml"
    path.write_text(cassette_file.dumps(data), encoding="utf-8")
    read = cassette_file.read(path)
    assert read is not None
    assert read.interactions[0].response.body == body  # byte for byte, as text
    shorter = cassette_file.body_to_yaml(b'{"n": ' + b"9" * 98 + b"}")
    assert shorter == {"json": {"n": int("9" * 98)}}


#: Pieces of bodies: digit runs either side of the longest allowed (98), ASCII digits
#: alone and in numbers, Unicode digits (`\d` matches them too), and the rest of JSON.
_DIGIT_PIECES = st.one_of(
    st.integers(0, 120).map(lambda n: "7" * n),
    st.integers(0, 120).map(lambda n: "\u0663" * n),  # ARABIC-INDIC DIGIT THREE
    st.sampled_from(['{"n": ', "}", "[", "]", ", ", '"', "-", ".", "e", "x", "é", "\n"]),
    st.text(max_size=5),
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(_DIGIT_PIECES, max_size=12))
@example(["7" * 98])
@example(["7" * 99])
@example(["7" * 50, "x", "7" * 50])
@example(["\u0663" * 99])
@example(["é", "7" * 99])
def test_the_long_number_shortcut_finds_what_the_search_finds(pieces: list[str]) -> None:
    # `_long_digits` skips the search for ASCII with too few digits in all: it must
    # answer as the search does, and the body be written the same way either way.
    text = "".join(pieces)
    body = text.encode("utf-8")
    found = cassette_file._LONG_DIGITS.search(text) is not None
    assert cassette_file._long_digits(body, text) == found
    document = cassette_file.body_to_yaml(body)
    if found and document is not None:
        assert "json" not in document
