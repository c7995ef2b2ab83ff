"""`hl-testkit diff`, run as the installed command on cassettes written for each test."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hl_testkit.cassettes import file as cassette_file
from hl_testkit.cassettes.model import (
    CassetteData,
    Headers,
    Interaction,
    RecordedRequest,
    RecordedResponse,
)
from hl_testkit.drift.ignores import IgnoreError, Ignores

API = "https://api.humanloop.com/v4"


def session(sid: str = "sesh_a1", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": sid,
        "projects": [{"id": "pr_demo", "name": "Demo"}],
        "datapoints_count": 2,
        "created_at": "2024-01-01T00:00:00Z",
    }
    body.update(extra)
    return body


def exchange(
    method: str,
    path: str,
    body: Any = None,
    status: int = 200,
    headers: Headers | None = None,
    request_body: Any = None,
) -> Interaction:
    raw = json.dumps(body).encode() if body is not None else b""
    sent = json.dumps(request_body).encode() if request_body is not None else None
    return Interaction(
        RecordedRequest(method, API + path, {"Accept": "application/json"}, sent),
        RecordedResponse(status, "OK", headers or {"Content-Type": "application/json"}, raw),
    )


def write(path: Path, *interactions: Interaction, recorded_at: str = "2026-11-26") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = CassetteData(list(interactions), "stand-in", recorded_at)
    path.write_text(cassette_file.dumps(data), encoding="utf-8")
    return path


def hl_diff(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run `hl-testkit diff ARGS` in `cwd`; (exit status, stdout, stderr)."""
    clean = {"PATH": os.environ["PATH"], "HOME": str(cwd), **(env or {})}
    result = subprocess.run(
        [sys.executable, "-m", "hl_testkit.cli", "diff", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
    )
    return result.returncode, result.stdout, result.stderr


def base() -> list[Interaction]:
    return [
        exchange("GET", "/sessions/sesh_a1", session()),
        exchange("POST", "/sessions", {"id": "sesh_new"}, status=201),
        exchange("GET", "/sessions?project_id=pr_demo&page=1", {"records": [session()]}),
    ]


# -- no false differences ---------------------------------------------------------------


def test_a_byte_identical_copy_has_no_difference(tmp_path: Path) -> None:
    old = write(tmp_path / "old.yaml", *base())
    (tmp_path / "new.yaml").write_bytes(old.read_bytes())
    code, out, err = hl_diff(tmp_path, "old.yaml", "new.yaml")
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "OK: no semantic difference in 1 cassette"


def test_reordered_keys_headers_and_another_date_are_no_difference(tmp_path: Path) -> None:
    write(tmp_path / "old.yaml", *base())
    shuffled = []
    for item in base():
        body = json.loads(item.response.body)
        item.response.body = json.dumps(dict(reversed(list(body.items())))).encode()
        item.response.headers = {"content-type": "application/json"}  # another case
        shuffled.append(item)
    new = write(tmp_path / "new.yaml", *shuffled, recorded_at="2026-12-01")
    assert new.read_bytes() != (tmp_path / "old.yaml").read_bytes()
    # a schema mark (bookkeeping, derived from the body) does not count either
    shuffled[0].schema_violations = ["$.id: stale mark"]
    write(new, *shuffled)
    code, out, _ = hl_diff(tmp_path, "old.yaml", "new.yaml")
    assert code == 0, out


# -- each kind of change ---------------------------------------------------------------


def test_each_kind_of_change_is_named_with_its_path_and_values(tmp_path: Path) -> None:
    old = [*base(), exchange("GET", "/sessions/sesh_gone", session("sesh_gone"))]
    write(tmp_path / "old.yaml", *old)
    changed = session(
        datapoints_count="2",  # type
        created_at="2024-01-02T00:00:00Z",  # value
        region="eu",  # property added (and not in the schema)
        projects=[{"id": "pr_demo", "name": "Demo"}, {"id": "pr_x", "name": "X"}],  # item
    )
    new = [
        exchange("GET", "/sessions?project_id=pr_demo&page=1", {"records": []}),  # moved first
        exchange(
            "GET",
            "/sessions/sesh_a1",
            changed,
            headers={"Content-Type": "application/json; charset=utf-8", "X-Version": "2"},
        ),
        exchange("POST", "/sessions", {"id": "bad id"}, status=200),
        exchange("DELETE", "/sessions/sesh_a1", status=204),
    ]
    write(tmp_path / "new.yaml", *new)
    code, out, _ = hl_diff(tmp_path, "old.yaml", "new.yaml")
    assert code == 1, out
    for line in (
        "  #0 GET /sessions?page=1&project_id=pr_demo -> 200",
        "      interaction moved: #2 → #0",
        '      body.records[0]: item removed (was {"id": "sesh_a1", "projects": [{"id": '
        '"pr_demo", "name": "Demo"}], "datapoint...)',
        "  #1 GET /sessions/sesh_a1 -> 200",
        '      headers.Content-Type: "application/json" → "application/json; charset=utf-8"',
        '      headers.X-Version: header added: "2"',
        '      body.datapoints_count: type changed, number → string: 2 → "2"',
        '      body.created_at: "2024-01-01T00:00:00Z" → "2024-01-02T00:00:00Z"',
        '      body.region: property added: "eu"',
        '      body.projects[1]: item added: {"id": "pr_x", "name": "X"}',
        "      body.datapoints_count: schema violation: '2' is not of type 'integer' (type; "
        'schema session); value "2"',
        '      body.region: unknown property (not named by schema session): "eu"',
        "  #2 POST /sessions -> 200",
        "      status: 201 → 200",
        '      body.id: "sesh_new" → "bad id"',
        "  #3 DELETE /sessions/sesh_a1 -> 204: interaction added",
        "  old #3 GET /sessions/sesh_gone -> 200: interaction removed",
    ):
        assert line in out.splitlines(), (line, out)
    assert out.splitlines()[-1] == (
        "FOUND: 5 interactions differ in 1 of 1 cassette; 1 schema violation"
    )


def test_a_removed_property_and_a_changed_text_body(tmp_path: Path) -> None:
    html = exchange("GET", "/status", status=502, headers={"Content-Type": "text/html"})
    html.response.body = b"<h1>Bad gateway</h1>"
    write(tmp_path / "old.yaml", exchange("GET", "/sessions/sesh_a1", session(extra=1)), html)
    html2 = exchange("GET", "/status", status=502, headers={"Content-Type": "text/html"})
    html2.response.body = b"<h1>Gateway timeout</h1>"
    write(tmp_path / "new.yaml", exchange("GET", "/sessions/sesh_a1", session()), html2)
    code, out, _ = hl_diff(tmp_path, "old.yaml", "new.yaml")
    assert code == 1
    assert "      body.extra: property removed (was 1)" in out.splitlines()
    assert '      body: "<h1>Bad gateway</h1>" → "<h1>Gateway timeout</h1>"' in out.splitlines()


def test_a_schema_violation_already_there_is_no_new_difference(tmp_path: Path) -> None:
    broken = exchange("GET", "/sessions/sesh_a1", session(datapoints_count=-1))
    write(tmp_path / "old.yaml", broken)
    write(tmp_path / "new.yaml", broken)
    assert hl_diff(tmp_path, "old.yaml", "new.yaml")[0] == 0


def test_values_are_scrubbed_of_known_secrets(tmp_path: Path) -> None:
    key = "hl_sk_live_0123456789abcdef"
    write(tmp_path / "old.yaml", exchange("GET", "/sessions/sesh_a1", session(note="x")))
    write(tmp_path / "new.yaml", exchange("GET", "/sessions/sesh_a1", session(note=key)))
    for fmt in ("text", "json", "markdown"):
        code, out, _ = hl_diff(
            tmp_path, "--format", fmt, "old.yaml", "new.yaml", env={"HUMANLOOP_API_KEY": key}
        )
        assert code == 1
        assert key not in out
        assert "<HUMANLOOP_API_KEY>" in out


# -- ignores ----------------------------------------------------------------------------


def _volatile(tmp_path: Path) -> None:
    page = {"records": [session("sesh_1"), session("sesh_2")]}
    write(tmp_path / "old.yaml", exchange("GET", "/sessions?project_id=pr_demo", page))
    moved = {
        "records": [
            session("sesh_9", created_at="2025-05-05T00:00:00Z"),
            session("sesh_8", created_at="2025-05-05T00:00:00Z"),
        ]
    }
    write(tmp_path / "new.yaml", exchange("GET", "/sessions?project_id=pr_demo", moved))


def test_ignore_globs_on_the_command_line(tmp_path: Path) -> None:
    _volatile(tmp_path)
    code, out, _ = hl_diff(tmp_path, "old.yaml", "new.yaml", "--ignore", "body.records[*].id")
    assert code == 1
    assert "body.records[0].id" not in out
    assert "body.records[1].created_at" in out
    code, out, _ = hl_diff(
        tmp_path,
        "old.yaml",
        "new.yaml",
        "--ignore",
        "body.records[*].id",
        "--ignore",
        "body.records[*].created_at",
    )
    assert code == 0, out
    assert "ignoring: body.records[*].id, body.records[*].created_at" in out
    markdown = hl_diff(
        tmp_path, "old.yaml", "new.yaml", "--format", "markdown", "--ignore", "body.records"
    )[1]
    assert "Ignored paths: `body.records`." in markdown.splitlines()
    assert hl_diff(tmp_path, "old.yaml", "new.yaml", "--ignore", "body.records")[0] == 0
    assert hl_diff(tmp_path, "old.yaml", "new.yaml", "--ignore", "body.*[*]")[0] == 0


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "pytest.ini",
            "[pytest]\nhl_diff_ignore =\n    body.records[*].id\n    body.**.created_at\n",
        ),
        (
            "pyproject.toml",
            '[tool.pytest.ini_options]\nhl_diff_ignore = ["body.records[*].id", '
            '"body.records[*].created_at"]\n',
        ),
    ],
)
def test_ignores_from_the_ini_file(tmp_path: Path, name: str, text: str) -> None:
    _volatile(tmp_path)
    assert hl_diff(tmp_path, "old.yaml", "new.yaml")[0] == 1
    (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "old.yaml").write_bytes((tmp_path / "old.yaml").read_bytes())
    (tmp_path / "sub" / "new.yaml").write_bytes((tmp_path / "new.yaml").read_bytes())
    code, out, err = hl_diff(tmp_path / "sub", "old.yaml", "new.yaml")  # found upwards
    assert code == 0, out + err


def test_header_ignores_ignore_case(tmp_path: Path) -> None:
    write(tmp_path / "old.yaml", exchange("GET", "/x", {}, headers={"X-Rate": "1"}))
    write(tmp_path / "new.yaml", exchange("GET", "/x", {}, headers={"x-rate": "2"}))
    assert hl_diff(tmp_path, "old.yaml", "new.yaml")[0] == 1
    assert hl_diff(tmp_path, "old.yaml", "new.yaml", "--ignore", "headers.X-RATE")[0] == 0
    assert hl_diff(tmp_path, "old.yaml", "new.yaml", "--ignore", "headers.*")[0] == 0
    assert hl_diff(tmp_path, "old.yaml", "new.yaml", "--ignore", "headers.X-R*")[0] == 0
    assert hl_diff(tmp_path, "old.yaml", "new.yaml", "--ignore", "headers.X-Q*")[0] == 1


def test_ignore_patterns_match_whole_segments() -> None:
    ignores = Ignores.of(["body.records[*].id", "body.created_at"])
    assert ignores.covers("body.records[12].id")
    assert ignores.covers("body.created_at")
    assert ignores.covers("body.created_at.nested")
    assert not ignores.covers("body.created_at_utc")
    assert not ignores.covers("body.records[0].identity")
    assert not ignores.covers("body.records.id")


def test_a_bad_ignore_is_exit_2(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", *base())
    code, _out, err = hl_diff(tmp_path, "a.yaml", "a.yaml", "--ignore", "created_at")
    assert code == 2
    assert err == (
        "hl-testkit diff: --ignore 'created_at': a path starts with status, headers, body, "
        "request.headers (e.g. body.created_at or body.records[*].id)\n"
    )
    with pytest.raises(IgnoreError):
        Ignores.of(["records[*].id"])


# -- directories and git -------------------------------------------------------------------


def test_directories_are_paired_by_relative_path(tmp_path: Path) -> None:
    write(tmp_path / "old/tests/test_a/same.yaml", *base())
    write(tmp_path / "new/tests/test_a/same.yaml", *base())
    write(
        tmp_path / "old/tests/test_a/changed.yaml", exchange("GET", "/sessions/sesh_a1", session())
    )
    write(
        tmp_path / "new/tests/test_a/changed.yaml",
        exchange("GET", "/sessions/sesh_a1", session(datapoints_count=3)),
    )
    write(tmp_path / "old/tests/gone.yaml", exchange("POST", "/sessions", {"id": "sesh_1"}, 201))
    write(tmp_path / "new/tests/test_b/fresh.yaml", exchange("GET", "/sessions/sesh_a1", session()))
    code, out, _ = hl_diff(tmp_path, "old", "new")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "hl-testkit diff: old → new"
    assert "tests/test_a/changed.yaml: 1 interaction differs" in lines
    assert "      body.datapoints_count: 2 → 3" in lines
    assert "tests/gone.yaml (cassette removed): 1 interaction differs" in lines
    assert "tests/test_b/fresh.yaml (new cassette): 1 interaction differs" in lines
    assert "same.yaml" not in out
    assert lines[-1] == "FOUND: 3 interactions differ in 3 of 4 cassettes"


def _git(cwd: Path, *args: str) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(cwd),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def test_git_compares_the_working_tree_with_a_revision(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    write(tmp_path / "cassettes/tests/a.yaml", *base())
    write(tmp_path / "cassettes/tests/b.yaml", exchange("GET", "/sessions/sesh_a1", session()))
    write(tmp_path / "cassettes/tests/gone.yaml", exchange("GET", "/x", {}))
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "recorded")
    assert hl_diff(tmp_path, "--git", "HEAD")[0] == 0
    write(
        tmp_path / "cassettes/tests/b.yaml",
        exchange("GET", "/sessions/sesh_a1", session(last_output="hi")),
    )
    (tmp_path / "cassettes/tests/gone.yaml").unlink()
    write(tmp_path / "cassettes/tests/new.yaml", exchange("GET", "/x", {}))  # untracked
    code, out, err = hl_diff(tmp_path, "--git", "HEAD")
    assert code == 1, err
    lines = out.splitlines()
    assert lines[0] == "hl-testkit diff: HEAD → working tree"
    assert "cassettes/tests/b.yaml: 1 interaction differs" in lines
    assert '      body.last_output: property added: "hi"' in lines
    assert "cassettes/tests/gone.yaml (cassette removed): 1 interaction differs" in lines
    assert "cassettes/tests/new.yaml (new cassette): 1 interaction differs" in lines
    assert "a.yaml" not in out
    assert hl_diff(tmp_path, "--git", "HEAD", "./cassettes/")[1] == out  # same path, spelt so
    # from a subdirectory, paths are relative to it; one file alone
    code, out, _ = hl_diff(tmp_path / "cassettes", "--git", "HEAD", "tests/b.yaml")
    assert code == 1
    assert "tests/b.yaml: 1 interaction differs" in out.splitlines()


def test_git_bad_input_is_exit_2(tmp_path: Path) -> None:
    # git must not find a repository above the temporary directory
    ceiling = {"GIT_CEILING_DIRECTORIES": str(tmp_path.parent)}
    code, _, err = hl_diff(tmp_path, "--git", "HEAD", env=ceiling)
    assert code == 2
    assert err == (
        f"hl-testkit diff: --git HEAD: {tmp_path} is not inside a git repository; run it in "
        "one, or compare two paths: hl-testkit diff OLD NEW\n"
    )
    _git(tmp_path, "init", "-q")
    write(tmp_path / "cassettes/a.yaml", *base())
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "x")
    code, _, err = hl_diff(tmp_path, "--git", "nope")
    assert code == 2
    assert f"hl-testkit diff: --git nope: no such revision in {tmp_path}" in err
    assert err.endswith(" (try HEAD, a branch, a tag or a commit)\n")
    code, _, err = hl_diff(tmp_path, "--git", "HEAD", "elsewhere")
    assert code == 2
    assert err == "hl-testkit diff: elsewhere: no cassettes here nor at HEAD\n"


def test_bad_paths_and_corrupt_cassettes_are_exit_2(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", *base())
    (tmp_path / "dir").mkdir()
    (tmp_path / "bad.yaml").write_text("format: hl-testkit-cassette/1\ninteractions: 3\n")
    for args, said in (
        (["a.yaml", "missing.yaml"], "hl-testkit diff: missing.yaml: no such file or directory"),
        (
            ["a.yaml", "dir"],
            "hl-testkit diff: a.yaml and dir: compare two cassette files or two directories, "
            "not one of each",
        ),
        (["a.yaml", "bad.yaml"], f"hl-testkit diff: cassette {tmp_path / 'bad.yaml'}, line 2"),
        (
            ["a.yaml"],
            "hl-testkit diff: give OLD and NEW (two cassette files or two directories), "
            "or --git REV [PATH...]; got 1 path(s)",
        ),
        (["a.yaml", "a.yaml", "--format", "yaml"], "invalid choice: 'yaml'"),
    ):
        code, _out, err = hl_diff(tmp_path, *args)
        assert code == 2, args
        assert said in err, (args, err)


# -- formats ---------------------------------------------------------------------------


def _two(tmp_path: Path) -> None:
    write(tmp_path / "old.yaml", exchange("GET", "/sessions/sesh_a1", session()))
    write(
        tmp_path / "new.yaml",
        exchange("GET", "/sessions/sesh_a1", session(created_at="yesterday", tag="a|b")),
        exchange("POST", "/sessions", {"id": "sesh_2"}, status=201),
    )


def test_json_format(tmp_path: Path) -> None:
    _two(tmp_path)
    code, out, _ = hl_diff(tmp_path, "--format", "json", "old.yaml", "new.yaml")
    assert code == 1
    report = json.loads(out)
    assert report["ok"] is False
    assert report["totals"] == {
        "compared": 1,
        "cassettes": 1,
        "interactions": 2,
        "schema_violations": 1,
    }
    (cassette,) = report["cassettes"]
    assert cassette["path"] == "new.yaml"
    first, second = cassette["interactions"]
    assert first["request"] == "GET /sessions/sesh_a1"
    changed = {"kind": "value changed", "path": "body.created_at"}
    assert {**changed, "old": "2024-01-01T00:00:00Z", "new": "yesterday"} in first["changes"]
    schema = [c for c in first["changes"] if c["kind"] == "schema violation"]
    assert schema[0]["path"] == "body.created_at"
    assert "date-time" in schema[0]["message"]
    assert second["changes"] == [
        {"kind": "interaction added", "path": "", "old": None, "new": None}
    ]
    empty = json.loads(hl_diff(tmp_path, "--format", "json", "old.yaml", "old.yaml")[1])
    assert (empty["ok"], empty["cassettes"]) == (True, [])


def test_markdown_format_is_a_table_for_a_job_summary(tmp_path: Path) -> None:
    _two(tmp_path)
    code, out, _ = hl_diff(tmp_path, "--format", "markdown", "old.yaml", "new.yaml")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "### hl-testkit diff"
    assert lines[2] == (
        "**2 interactions differ in 1 of 1 cassette; 1 schema violation** "
        "(old: `old.yaml`, new: `new.yaml`)."
    )
    assert "| cassette | interaction | change | path | old | new |" in lines
    assert (
        "| `new.yaml` | #0 `GET /sessions/sesh_a1 -> 200` | value changed "
        '| `body.created_at` | `"2024-01-01T00:00:00Z"` | `"yesterday"` |'
    ) in lines
    assert '| `body.tag` |  | `"a\\|b"` |' in out  # a pipe does not break the table
    assert "| `new.yaml` | #1 `POST /sessions -> 201` | interaction added |  |  |  |" in lines
    rows = [line for line in lines if line.startswith("| `")]
    assert rows
    assert all(row.replace("\\|", "").count("|") == 7 for row in rows)  # six cells each
    code, out, _ = hl_diff(tmp_path, "--format", "markdown", "old.yaml", "old.yaml")
    assert code == 0
    assert "**No semantic difference in 1 cassette**" in out


def test_the_example_in_the_docs_is_what_diff_prints(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parent.parent
    doc = (repo / "docs" / "drift.md").read_text(encoding="utf-8")
    quoted = doc.split("```\nhl-testkit diff: HEAD", 1)[1].split("```", 1)[0]
    shutil.copytree(repo / "cassettes", tmp_path / "cassettes")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "recorded")
    where = tmp_path / "cassettes" / "tests" / "test_recorded_sessions"
    get = where / "test_get_seeded_session.yaml"
    get.write_text(
        get.read_text(encoding="utf-8")
        .replace("datapoints_count: 3", "datapoints_count: '3'")
        .replace("You're welcome.", "You're welcome!\n        region: eu"),
        encoding="utf-8",
    )
    page = where / "test_list_every_page.yaml"
    page.write_text(page.read_text().replace("total: 23", "total: 24", 1), encoding="utf-8")
    code, out, _ = hl_diff(tmp_path, "--git", "HEAD")
    assert code == 1
    assert out == "hl-testkit diff: HEAD" + quoted


def test_the_nearest_pytest_ini_wins_even_without_a_section(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\nhl_diff_ignore = body\n", encoding="utf-8")
    _volatile(tmp_path / "project")
    assert hl_diff(tmp_path / "project", "old.yaml", "new.yaml")[0] == 0  # found upwards
    (tmp_path / "project" / "pytest.ini").write_text("", encoding="utf-8")  # as pytest: stop
    assert hl_diff(tmp_path / "project", "old.yaml", "new.yaml")[0] == 1


def test_a_date_only_the_strict_profile_refuses_is_a_value_change_not_an_unknown_property(
    tmp_path: Path,
) -> None:
    write(tmp_path / "old.yaml", exchange("GET", "/sessions/sesh_a1", session()))
    naive = session(created_at="2024-05-01T12:34:56.789")  # the contract allows it
    write(tmp_path / "new.yaml", exchange("GET", "/sessions/sesh_a1", naive))
    code, out, _ = hl_diff(tmp_path, "old.yaml", "new.yaml")
    assert code == 1
    assert 'body.created_at: "2024-01-01T00:00:00Z" → "2024-05-01T12:34:56.789"' in out
    assert "unknown property" not in out
    assert "schema violation" not in out
