"""Every corrupt cassette is refused, with the absolute path, line, column, problem and hint.

A corrupt cassette is never read as an empty one: that would re-record over it,
or replay nothing and let the test pass for the wrong reason.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hl_testkit.cassettes import file as cassette_file
from hl_testkit.cassettes.file import FORMAT, CassetteError
from hl_testkit.cassettes.model import CassetteData, Interaction, RecordedRequest, RecordedResponse
from hl_testkit.recording.recorder import Recording

HINT = "re-record it: pytest 'tests/test_x.py::test_y' --hl-record-mode=rewrite"
RELATIVE = Path("cassettes") / "tests" / "test_x" / "test_y.yaml"


def good_data() -> CassetteData:
    return CassetteData(
        [
            Interaction(
                RecordedRequest(
                    "POST",
                    "https://api.humanloop.com/v4/sessions",
                    {"Accept": "application/json", "Content-Type": "application/json"},
                    b'{"name":"demo"}',
                ),
                RecordedResponse(
                    201, "Created", {"Content-Type": "application/json"}, b'{"id":"sesh_1"}'
                ),
            ),
            Interaction(
                RecordedRequest("GET", "https://api.humanloop.com/v4/sessions/sesh_1"),
                RecordedResponse(
                    200,
                    "OK",
                    {"Content-Type": "application/json", "Set-Cookie": ["a=1", "b=2"]},
                    b'{"id":"sesh_1","projects":[]}',
                ),
            ),
        ],
        "stand-in",
        "2024-05-06",
    )


GOOD = cassette_file.dumps(good_data())


def edit(old: str, new: str) -> str:
    assert GOOD.count(old) >= 1, old
    return GOOD.replace(old, new, 1)


def position(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the first `needle` in `text`."""
    offset = text.index(needle)
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | bytes, *problems: str
) -> CassetteError:
    """Write `content`, read it by a relative path, check the common parts of the error."""
    monkeypatch.chdir(tmp_path)
    absolute = Path.cwd() / RELATIVE
    absolute.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        absolute.write_text(content, encoding="utf-8", newline="")
    else:
        absolute.write_bytes(content)
    with pytest.raises(CassetteError) as info:
        cassette_file.read(RELATIVE, hint=HINT)
    error = info.value
    message = str(error)
    assert f"cassette {absolute}" in message  # absolute, though read by a relative path
    assert message.endswith(f"\n  {HINT}")
    for problem in problems:
        assert problem in message
    assert error.path == absolute
    return error


def at(error: CassetteError, line: int, column: int) -> None:
    assert (error.line, error.column) == (line, column)
    assert f", line {line}, column {column}: " in str(error)


# -- the good file, for contrast ------------------------------------------------------


def test_a_good_cassette_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    assert cassette_file.read(path) == good_data()
    assert cassette_file.dumps(good_data()) == GOOD
    assert cassette_file.read(tmp_path / "missing.yaml") is None  # no file: no cassette


def test_recorded_at_is_written_after_recorded_against_and_is_optional() -> None:
    lines = GOOD.splitlines()
    assert lines[2:5] == [
        f"format: {FORMAT}",
        "recorded_against: stand-in",
        "recorded_at: '2024-05-06'",
    ]
    older = CassetteData(good_data().interactions, "stand-in")
    text = cassette_file.dumps(older)
    assert "recorded_at" not in text  # older files stay byte-identical
    assert cassette_file.loads(text, Path("old.yaml")).recorded_at is None
    # Hand-written, unquoted: YAML reads a date; it is taken as the same string.
    unquoted = GOOD.replace("recorded_at: '2024-05-06'", "recorded_at: 2024-05-06")
    assert cassette_file.loads(unquoted, Path("x.yaml")).recorded_at == "2024-05-06"


# -- corrupt variants -----------------------------------------------------------------


def test_empty_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    error = refused(tmp_path, monkeypatch, b"", "is empty (0 bytes)", "not read as a cassette")
    assert (error.line, error.column) == (None, None)


def test_whitespace_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refused(tmp_path, monkeypatch, "  \n\n\t\n", "holds only whitespace")


def test_comments_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refused(tmp_path, monkeypatch, cassette_file.HEADER_COMMENT, "holds no data, only comments")


def test_truncated_mid_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cut = GOOD[: GOOD.index("sesh_1\n") + 3]  # in the middle of the first response body
    error = refused(tmp_path, monkeypatch, cut, "cut off mid-write")
    at(error, cut.count("\n") + 1, len(cut) - cut.rfind("\n"))


def test_truncated_at_a_line_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cut = GOOD[: GOOD.index("    reason: Created\n") + len("    reason: Created\n")]
    error = refused(
        tmp_path, monkeypatch, cut, "interactions[0].response", "lacks 'headers', 'body'"
    )
    at(error, *position(cut, "response:"))


def test_every_mid_line_cut_is_refused() -> None:
    for end in range(1, len(GOOD) - 1, 5):
        cut = GOOD[:end]
        if cut.endswith("\n"):
            continue
        with pytest.raises(CassetteError, match="line"):
            cassette_file.loads(cut, Path("cut.yaml"))


def test_bad_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = edit("    method: POST\n", "    method: POST: now\n")
    error = refused(tmp_path, monkeypatch, text, "is not valid YAML", "mapping values")
    line, column = position(text, "POST: now")
    at(error, line, column + len("POST"))


def test_unclosed_flow_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = edit("Set-Cookie:\n      - a=1\n      - b=2\n", "Set-Cookie: [a=1, b=2\n")
    error = refused(tmp_path, monkeypatch, text, "is not valid YAML")
    assert error.line is not None
    assert error.line > position(text, "Set-Cookie")[0]


@pytest.mark.parametrize(
    ("content", "described"),
    [("- format: x\n- interactions: []\n", "got a list"), ("just a string\n", "the string")],
)
def test_top_level_not_a_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, described: str
) -> None:
    error = refused(tmp_path, monkeypatch, content, "the top level must be a mapping", described)
    at(error, 1, 1)


def test_missing_response(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    start = GOOD.index("  response:\n    status: 201")
    end = GOOD.index("- request:", start)
    text = GOOD[:start] + GOOD[end:]
    error = refused(tmp_path, monkeypatch, text, "interactions[0]", "lacks 'response'")
    at(error, *position(text, "request:"))  # the interaction's first key


def test_recorded_by_not_a_string(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = edit("- request:", "- recorded_by: 12\n  request:")
    error = refused(
        tmp_path,
        monkeypatch,
        text,
        "interactions[0].recorded_by: recorded_by (a test's node id) must be a string, "
        "got the number 12",
    )
    at(error, *position(text, "12\n"))


def test_format_1_is_read_unattributed_and_written_as_format_2(tmp_path: Path) -> None:
    path = tmp_path / "old.yaml"
    path.write_text(GOOD.replace(FORMAT, "hl-testkit-cassette/1"), encoding="utf-8")
    data = cassette_file.read(path)
    assert data is not None
    assert [i.recorded_by for i in data.interactions] == [None, None]
    assert cassette_file.dumps(data) == GOOD
    data.interactions[0].recorded_by = "tests/test_x.py::test_y"
    assert cassette_file.dumps(data) == GOOD.replace(
        "- request:", "- recorded_by: tests/test_x.py::test_y\n  request:", 1
    )


def test_status_as_a_string(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = edit("status: 201", "status: '200'")
    error = refused(
        tmp_path,
        monkeypatch,
        text,
        "interactions[0].response.status",
        "must be an integer",
        "got the string '200'",
        "remove the quotes",
    )
    at(error, *position(text, "'200'"))


def test_status_as_a_boolean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = edit("status: 200", "status: true")
    error = refused(
        tmp_path, monkeypatch, text, "interactions[1].response.status", "got the boolean true"
    )
    at(error, *position(text, "true"))


def test_header_value_an_int(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = edit("Accept: application/json", "Accept: 12")
    error = refused(
        tmp_path,
        monkeypatch,
        text,
        "interactions[0].request.headers.Accept",
        "must be a string or a list of strings",
        "got the number 12",
    )
    at(error, *position(text, "12\n"))


def test_body_with_two_kinds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = "      json:\n        name: demo\n"
    text = edit(old, old + "      text: demo\n")
    error = refused(
        tmp_path,
        monkeypatch,
        text,
        "interactions[0].request.body",
        "exactly one of json:, text: or base64:",
        "(it has json, text)",
    )
    at(error, *position(text, "json:\n        name"))


def test_nul_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    offset = GOOD.index("uri:")
    text = GOOD[:offset] + "\x00\x00\x00" + GOOD[offset:]
    error = refused(tmp_path, monkeypatch, text.encode(), "NUL byte")
    at(error, *position(text, "\x00"))


def test_zero_filled_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    error = refused(tmp_path, monkeypatch, b"\x00" * 4096, "NUL byte", "zero-filled")
    at(error, 1, 1)


def test_python_object_tag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = edit(
        "recorded_against: stand-in",
        'recorded_against: !!python/object/apply:os.system ["echo pwned"]',
    )
    error = refused(
        tmp_path,
        monkeypatch,
        text,
        "uses the YAML tag !!python/object/apply:os.system",
        "refuses",
        "nothing in it was run",
    )
    at(error, *position(text, "!!python"))


def test_a_tag_that_would_write_a_file_runs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "pwned"
    text = f'format: {FORMAT}\ninteractions: !!python/object/apply:os.system ["touch {marker}"]\n'
    refused(tmp_path, monkeypatch, text, "!!python/object/apply:os.system")
    assert not marker.exists()


def test_future_format_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = edit(FORMAT, "hl-testkit-cassette/3")
    error = refused(
        tmp_path,
        monkeypatch,
        text,
        "written by a newer hl-testkit",
        "hl-testkit-cassette/3",
        "upgrade",
    )
    at(error, *position(text, "hl-testkit-cassette/3"))


VCRPY = """\
interactions:
- request:
    body: null
    headers:
      Accept:
      - application/json
    method: GET
    uri: https://api.humanloop.com/v4/sessions/sesh_1
  response:
    body:
      string: '{"id": "sesh_1"}'
    headers:
      Content-Type:
      - application/json
    status:
      code: 200
      message: OK
version: 1
"""


def test_a_vcrpy_cassette(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    error = refused(
        tmp_path, monkeypatch, VCRPY, "this is a vcrpy cassette", "not an hl-testkit one"
    )
    at(error, 1, 1)


# -- more ways to be wrong --------------------------------------------------------------


def test_no_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refused(tmp_path, monkeypatch, edit(f"format: {FORMAT}\n", ""), "no 'format:' key")


def test_another_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = edit(FORMAT, "vcr/1")
    at(refused(tmp_path, monkeypatch, text, "not an hl-testkit cassette"), *position(text, "vcr/1"))


def test_not_utf8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = GOOD.encode().replace(b"Created", b"Cr\xe9ated", 1)
    error = refused(tmp_path, monkeypatch, raw, "not UTF-8", "0xe9")
    at(error, *position(GOOD, "eated"))


def test_duplicate_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = edit("    status: 201\n", "    status: 201\n    status: 500\n")
    error = refused(tmp_path, monkeypatch, text, "'status' appears twice")
    at(error, *position(text, "status: 500"))


def test_unknown_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = edit("    headers:\n      Accept", "    heders:\n      Accept")
    error = refused(tmp_path, monkeypatch, text, "unknown key 'heders'", "the request")
    at(error, *position(text, "heders"))


@pytest.mark.parametrize("value", ["'yesterday'", "'2024-13-01'", "2024-05-06 10:00:00"])
def test_bad_recorded_at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    text = edit("recorded_at: '2024-05-06'", f"recorded_at: {value}")
    error = refused(tmp_path, monkeypatch, text, "recorded_at must be a date YYYY-MM-DD")
    at(error, *position(text, value))


def test_bad_base64(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = edit("      json:\n        name: demo\n", "      base64: '!!not base64'\n")
    refused(tmp_path, monkeypatch, text, "not valid base64")


def test_timestamp_in_a_json_body(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = edit("        name: demo\n", "        name: 2024-01-01T00:00:00Z\n")
    error = refused(tmp_path, monkeypatch, text, "request.body.json.name", "timestamp")
    at(error, *position(text, "2024-01-01T"))


def test_interactions_not_a_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = f"format: {FORMAT}\ninteractions: {{}}\n"
    at(refused(tmp_path, monkeypatch, text, "'interactions' must be a list"), 2, 15)


def test_a_corrupt_cassette_is_not_loaded_as_empty_by_the_recorder(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("")
    recording = Recording(
        path=path, record_mode="new_episodes", base_url="https://x", nodeid="t.py::t"
    )
    with pytest.raises(CassetteError, match="is empty"):
        recording.load()
    assert recording.loaded == []
    assert not recording.existed


def test_the_error_is_an_hl_testkit_error_and_the_date_is_utc() -> None:
    from hl_testkit.errors import HlTestkitError

    assert issubclass(CassetteError, HlTestkitError)
    assert dt.date.fromisoformat(cassette_file.loads(GOOD, Path("x")).recorded_at or "")
