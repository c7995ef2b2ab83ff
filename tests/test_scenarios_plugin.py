"""Scenario files end to end: a throw-away pytest run (`pytester`) collects `*.hl.yaml`
files, records them against the embedded stand-in, replays them offline, and reports
failures and invalid files the way a user sees them.
"""

from __future__ import annotations

import re
from pathlib import Path
from textwrap import dedent

import pytest
import yaml

# Imported here, in the outer process: the plugin imports it lazily, and pytester's
# in-process runs drop modules first imported by an inner run (pytest 8.0 then mixes
# two copies of the scenario classes between runs).
import hl_testkit.scenarios.nodes  # noqa: F401
from hl_testkit.cassettes import file as cassette_file


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HL_RECORD_MODE", "HUMANLOOP_BASE_URL", "HUMANLOOP_API_KEY", "HL_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)


def write(pytester: pytest.Pytester, name: str, text: str) -> Path:
    path = pytester.path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dedent(text), encoding="utf-8")
    return path


def match_lines(result: pytest.RunResult, patterns: list[str]) -> None:
    """`fnmatch_lines` with literal `[` (node ids and JSON paths hold them); `*` matches."""
    result.stdout.fnmatch_lines([pattern.replace("[", "[[]") for pattern in patterns])


def line_of(path: Path, needle: str, nth: int = 0) -> int:
    lines = [n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line]
    return lines[nth]


def request_lines(path: Path) -> list[str]:
    data = cassette_file.read(path)
    assert data is not None
    return [f"{i.request.method} {i.request.uri.split('/v4', 1)[1]}" for i in data.interactions]


MULTI_STEP = """\
scenarios:
  - name: create_get_list
    steps:
      - create: {}
        expect: {status: 201, body: {id: !re "^sesh_"}}
        save: {sid: body.id}
      - get: {id: "{sid}"}
        expect:
          status: 200
          body: {id: "{sid}", datapoints_count: 0}
      - list: {project_id: pr_demo, page: 3, size: 10}
        expect:
          body: {total: 23, page: 3, records: {$length: 3}}
        save:
          last: body.records[-1].id
      - get: {id: "{last}"}
        expect: {body: {id: "{last}", projects: {$contains: [{id: pr_demo}]}}}
"""


def test_record_then_replay_a_multi_step_scenario_with_saved_variables(
    pytester: pytest.Pytester,
) -> None:
    write(pytester, "test_flow.hl.yaml", MULTI_STEP)
    cassette = pytester.path / "cassettes" / "test_flow.hl" / "create_get_list.yaml"

    recorded = pytester.runpytest("--hl-record-mode=once")
    recorded.assert_outcomes(passed=1)
    match_lines(recorded, ["*recording against the embedded stand-in server*"])
    lines = request_lines(cassette)
    created = yaml.safe_load(cassette.read_text())["interactions"][0]["response"]["body"]["json"]
    assert lines[0] == "POST /sessions"
    assert lines[1] == f"GET /sessions/{created['id']}"  # the saved id went into the request
    assert lines[2] == "GET /sessions?project_id=pr_demo&page=3&size=10"
    assert lines[3].startswith("GET /sessions/sesh_")
    assert len(lines) == 4
    text = cassette.read_text()
    assert "vars:" not in text  # no environment variable: nothing stored
    assert "hl-standin-key" not in text  # scrubbed like any cassette
    assert "127.0.0.1" not in text

    replayed = pytester.runpytest()
    replayed.assert_outcomes(passed=1)
    match_lines(
        replayed,
        [
            "hl-testkit: record mode none (from default); replay only*",
            "1 cassette(s) used, 0 written, 0 unchanged; 4 interaction(s) replayed, 0 recorded; "
            "0 miss(es)",
        ],
    )
    assert cassette.read_text() == text


def test_node_ids_cassette_paths_report_info_and_glob(pytester: pytest.Pytester) -> None:
    write(
        pytester,
        "api/test_api.hl.yaml",
        """\
        scenarios:
          - name: seeded
            steps: [{get: {id: sesh_demo}}]
          - name: pages
            parametrize:
              - {id: first, page: 1}
              - {page: 2}
            steps:
              - list: {project_id: pr_demo, page: "{page}", size: 10}
        """,
    )
    write(pytester, "api/api.hl.yaml", "not: [a scenario file")  # does not match the glob
    write(pytester, "api/smoke_scenarios.yaml", "scenarios: [{name: s, steps: [{create: }]}]\n")

    items, _ = pytester.inline_genitems()
    assert [item.nodeid for item in items] == [
        "api/test_api.hl.yaml::seeded",
        "api/test_api.hl.yaml::pages[first]",
        "api/test_api.hl.yaml::pages[2]",
    ]
    assert items[1].location == ("api/test_api.hl.yaml", 5, "scenario pages[first]")
    assert items[1].reportinfo()[1] == 5

    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=3)
    where = pytester.path / "cassettes" / "api" / "test_api.hl"
    assert sorted(p.name for p in where.iterdir()) == [
        "pages[2].yaml",
        "pages[first].yaml",
        "seeded.yaml",
    ]
    assert request_lines(where / "pages[2].yaml") == [
        "GET /sessions?project_id=pr_demo&page=2&size=10"
    ]

    pytester.makeini("[pytest]\nhl_scenario_glob = *_scenarios.yaml test_*.hl.yaml\n")
    items, _ = pytester.inline_genitems()
    assert [item.nodeid for item in items] == [
        "api/smoke_scenarios.yaml::s",
        "api/test_api.hl.yaml::seeded",
        "api/test_api.hl.yaml::pages[first]",
        "api/test_api.hl.yaml::pages[2]",
    ]


def test_parametrized_rows_are_items_selectable_with_k(pytester: pytest.Pytester) -> None:
    write(
        pytester,
        "test_pages.hl.yaml",
        """\
        scenarios:
          - name: pages
            parametrize:
              - {page: 1, count: 10}
              - {page: 2, count: 10}
              - {id: last, page: 3, count: 3}
            steps:
              - list: {project_id: pr_demo, page: "{page}", size: 10}
                expect: {body: {page: "{page}", records: {$length: "{count}"}}}
        """,
    )
    recorded = pytester.runpytest("--hl-record-mode=once", "-v")
    recorded.assert_outcomes(passed=3)
    match_lines(
        recorded,
        [
            "test_pages.hl.yaml::pages[1-10] PASSED*",
            "test_pages.hl.yaml::pages[2-10] PASSED*",
            "test_pages.hl.yaml::pages[last] PASSED*",
        ],
    )
    where = pytester.path / "cassettes" / "test_pages.hl"
    assert sorted(p.name for p in where.iterdir()) == [
        "pages[1-10].yaml",
        "pages[2-10].yaml",
        "pages[last].yaml",
    ]
    selected = pytester.runpytest("-k", "pages and last", "-v")
    selected.assert_outcomes(passed=1, deselected=2)
    match_lines(selected, ["*pages[last] PASSED*"])


MARKED = """\
scenarios:
  - name: fast
    steps: [{get: {id: sesh_demo}}]
  - name: slow_one
    marks: [slow]
    steps: [{get: {id: sesh_demo}}]
  - name: skipped
    marks: [{skip: not today}]
    steps: [{get: {id: sesh_demo}}]
  - name: known_bug
    marks: [{xfail: {reason: the API answers 404, strict: true}}]
    steps:
      - get: {id: sesh_missing}
  - name: rows
    parametrize:
      - {id: plain, n: 1}
      - {id: marked, n: 2, marks: [slow]}
    steps: [{get: {id: sesh_demo}}]
"""


def test_marks_skip_xfail_and_custom_marks_with_m_and_strict_markers(
    pytester: pytest.Pytester,
) -> None:
    write(pytester, "test_marked.hl.yaml", MARKED)
    # First, unregistered (pytest remembers registered names for the rest of the process).
    strict = pytester.runpytest("--strict-markers")
    assert strict.ret == pytest.ExitCode.INTERRUPTED
    match_lines(
        strict,
        [
            "*ERROR collecting test_marked.hl.yaml*",
            "  test_marked.hl.yaml:5: the mark 'slow' of scenario 'slow_one' is not registered, "
            "and --strict-markers is on: register it like any pytest mark*",
            "  test_marked.hl.yaml:17: the mark 'slow' of scenario 'rows' is not registered*",
        ],
    )

    pytester.makeini("[pytest]\nmarkers =\n    slow: a slow scenario\n")
    recorded = pytester.runpytest("--hl-record-mode=once", "-rsx", "--strict-markers")
    recorded.assert_outcomes(passed=4, skipped=1, xfailed=1)
    match_lines(
        recorded,
        ["SKIPPED [1] test_marked.hl.yaml: not today", "XFAIL *known_bug* - the API answers 404"],
    )
    # An xfailed scenario did not run to its end: its recording is not kept.
    cassettes = pytester.path / "cassettes" / "test_marked.hl"
    assert not (cassettes / "known_bug.yaml").exists()
    assert (cassettes / "fast.yaml").exists()

    slow = pytester.runpytest("-m", "slow", "-v")
    slow.assert_outcomes(passed=2, deselected=4)
    match_lines(slow, ["*::slow_one PASSED*", "*::rows[marked] PASSED*"])
    pytester.runpytest("-m", "not slow").assert_outcomes(passed=2, skipped=1, xfailed=1)
    pytester.runpytest("-k", "rows and not plain").assert_outcomes(passed=1, deselected=5)


FAILING = """\
vars:
  other: sesh_other
scenarios:
  - name: status
    steps:
      - get: {id: sesh_demo}
        expect: {status: 404}
  - name: body
    steps:
      - get: {id: sesh_demo}
        expect:
          body:
            datapoints_count: 4
            projects: [{id: pr_demo}, {id: pr_nope}]
  - name: regex
    steps:
      - get: {id: sesh_demo}
        expect: {body: {id: !re "^pr_"}}
  - name: type_and_length
    steps:
      - list: {project_id: pr_demo, size: 10}
        expect:
          body:
            total: {$type: string}
            records: {$length: 3}
  - name: headers
    steps:
      - get: {id: sesh_demo}
        expect: {headers: {content-type: text/html, X-Missing: x}}
  - name: variables
    steps:
      - get: {id: sesh_demo}
        save: {sid: body.id}
      - get: {id: "{sid}"}
        expect: {body: {id: "{other}"}}
  - name: error_without_expectation
    steps:
      - get: {id: sesh_missing}
  - name: cannot_save
    steps:
      - list: {project_id: pr_empty}
        save:
          first: body.records[0].id
"""


PASSING = """\
scenarios:
  - {name: status, steps: [{get: {id: sesh_demo}}]}
  - {name: body, steps: [{get: {id: sesh_demo}}]}
  - {name: regex, steps: [{get: {id: sesh_demo}}]}
  - {name: type_and_length, steps: [{list: {project_id: pr_demo, size: 10}}]}
  - {name: headers, steps: [{get: {id: sesh_demo}}]}
  - {name: variables, steps: [{get: {id: sesh_demo}}, {get: {id: sesh_demo}}]}
  - {name: error_without_expectation, steps: [{get: {id: sesh_missing}, expect: {status: 404}}]}
  - {name: cannot_save, steps: [{list: {project_id: pr_empty}}]}
"""


def test_every_kind_of_expectation_fails_with_file_line_step_expected_and_actual(
    pytester: pytest.Pytester,
) -> None:
    # Recorded with expectations that hold (a failing test keeps no cassette) ...
    write(pytester, "test_fail.hl.yaml", PASSING)
    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=8)
    # ... then the same calls with expectations that do not, replayed.
    path = write(pytester, "test_fail.hl.yaml", FAILING)
    result = pytester.runpytest()
    result.assert_outcomes(failed=8)
    f = "test_fail.hl.yaml"
    match_lines(
        result,
        [
            "*_ scenario status _*",
            f"{f}:6: scenario 'status', step 1 (get): the response does not match",
            f"  {f}:7: status: expected 404, got 200",
            "  call:      get(id='sesh_demo')",
            '  response:  200 {"id": "sesh_demo", *',
            "*_ scenario body _*",
            f"{f}:10: scenario 'body', step 1 (get): the response does not match",
            f"  {f}:13: $.datapoints_count: expected 4, got 3",
            f'  {f}:14: $.projects[1].id: expected "pr_nope", got "pr_support"',
            "*_ scenario regex _*",
            f'  {f}:18: $.id: expected a string matching /^pr_/, got "sesh_demo"',
            "*_ scenario type_and_length _*",
            f"  {f}:24: $.total: expected string, got integer 23",
            f"  {f}:25: $.records: expected length 3, got 10: *",
            "  call:      list(project_id='pr_demo', size=10)",
            "*_ scenario headers _*",
            f'  {f}:29: headers[\'content-type\']: expected "text/html", got "application/json"',
            f"  {f}:29: headers['X-Missing']: missing (expected \"x\"; headers: Content-*",
            "*_ scenario variables _*",
            f"{f}:34: scenario 'variables', step 2 (get): the response does not match",
            f'  {f}:35: $.id: expected \'{{other}}\' = "sesh_other", got "sesh_demo"',
            "  call:      get(id='sesh_demo')",
            '  variables: other="sesh_other", sid="sesh_demo"',
            "*_ scenario error_without_expectation _*",
            f"  {f}:38: status: got 404 Not Found; a step without expect.status must succeed (2xx)",
            '  response:  404 Not Found {"detail": "Session not found"}',
            "*_ scenario cannot_save _*",
            f"{f}:41: scenario 'cannot_save', step 1 (list): cannot save first",
            f"  {f}:43: body.records[0].id: body.records has 0 item(s), no [0]",
        ],
    )
    out = result.stdout.str()
    assert "Traceback" not in out
    assert "hl_testkit/scenarios" not in out
    assert line_of(path, "expect: {status: 404}") == 7


def test_error_statuses_are_expectations(pytester: pytest.Pytester) -> None:
    write(
        pytester,
        "test_errors.hl.yaml",
        """\
        scenarios:
          - name: missing
            steps:
              - get: {id: sesh_nope}
                expect: {status: 404, body: {detail: Session not found}}
          - name: page_zero
            steps:
              - list: {project_id: pr_demo, page: 0}
                expect:
                  status: 422
                  body: {detail: [{loc: [query, page], type: value_error.number.not_ge}]}
        """,
    )
    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=2)
    pytester.runpytest().assert_outcomes(passed=2)


def test_invalid_files_fail_at_collection_with_file_line_and_no_traceback(
    pytester: pytest.Pytester,
) -> None:
    write(
        pytester,
        "test_typo.hl.yaml",
        """\
        scenarios:
          - name: x
            steps:
              - create: {}
                save: {sid: body.id}
              - get: {id: "{sid}"}
                expcet: {status: 200}
              - delete: {id: x}
              - get: {}
        """,
    )
    write(
        pytester,
        "test_unsaved.hl.yaml",
        """\
        scenarios:
          - name: y
            steps:
              - get: {id: "{session_id}"}
        """,
    )
    write(pytester, "test_yaml.hl.yaml", "scenarios:\n  - name: z\n    steps: [\n")
    pytester.makepyfile(test_plain="def test_ok():\n    pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    match_lines(
        result,
        [
            "*ERROR collecting test_typo.hl.yaml*",
            "hl-testkit: test_typo.hl.yaml is not a valid scenario file (3 problem(s)):",
            "  test_typo.hl.yaml:7: unknown key 'expcet' in step 2 (get) of scenario 'x' "
            "(allowed: one call: create, get or list; name, save, expect); did you mean 'expect'?",
            "  test_typo.hl.yaml:8: unknown call 'delete' in step 3 of scenario 'x'*",
            "  test_typo.hl.yaml:9: get in step 4 (get) of scenario 'x' lacks 'id'*",
            "*ERROR collecting test_unsaved.hl.yaml*",
            "  test_unsaved.hl.yaml:4: step 1 (get) of scenario 'y' uses {session_id}, which is "
            "not defined here: no earlier step saves it and no vars or parametrize row define it "
            "(defined here: nothing)",
            "*ERROR collecting test_yaml.hl.yaml*",
            "  test_yaml.hl.yaml:3: not valid YAML: *",
            "*Interrupted: 3 errors during collection*",
        ],
    )
    assert "Traceback" not in result.stdout.str()
    # As for a Python file that does not import: the rest runs when asked to.
    pytester.runpytest("--continue-on-collection-errors").assert_outcomes(passed=1, errors=3)


def test_env_var_is_recorded_with_the_cassette_and_not_needed_on_replay(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        pytester,
        "test_env.hl.yaml",
        """\
        vars:
          project: {env: HL_PROJECT_ID, default: pr_demo}
          size: {env: HL_PAGE_SIZE, default: 10}
          unused: {env: HL_UNUSED}
        scenarios:
          - name: listing
            steps:
              - list: {project_id: "{project}", size: "{size}"}
                expect: {body: {total: 0, size: "{size}"}}
        """,
    )
    cassette = pytester.path / "cassettes" / "test_env.hl" / "listing.yaml"
    monkeypatch.setenv("HL_PROJECT_ID", "pr_empty")
    monkeypatch.setenv("HL_PAGE_SIZE", "5")
    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=1)
    data = yaml.safe_load(cassette.read_text())
    assert data["vars"] == {"project": "pr_empty", "size": 5}  # typed like its default
    assert request_lines(cassette) == ["GET /sessions?project_id=pr_empty&size=5"]

    monkeypatch.delenv("HL_PROJECT_ID")
    monkeypatch.delenv("HL_PAGE_SIZE")
    pytester.runpytest().assert_outcomes(passed=1)  # the defaults would ask for pr_demo
    monkeypatch.setenv("HL_PROJECT_ID", "pr_other")
    pytester.runpytest().assert_outcomes(passed=1)  # the cassette's value wins until re-recorded

    # A re-record reads the environment again and stores what it used.
    monkeypatch.setenv("HL_PROJECT_ID", "pr_empty")
    pytester.runpytest("--hl-record-mode=rewrite").assert_outcomes(passed=1)
    assert yaml.safe_load(cassette.read_text())["vars"] == {"project": "pr_empty", "size": 10}
    assert request_lines(cassette) == ["GET /sessions?project_id=pr_empty&size=10"]

    # Without the environment and without a stored value, a variable with no default fails.
    write(
        pytester,
        "test_env.hl.yaml",
        """\
        vars: {project: {env: HL_PROJECT_ID}}
        scenarios:
          - name: needs_env
            steps: [{list: {project_id: "{project}"}}]
        """,
    )
    monkeypatch.delenv("HL_PROJECT_ID")
    result = pytester.runpytest("--hl-record-mode=once")
    result.assert_outcomes(failed=1)
    match_lines(
        result,
        [
            "test_env.hl.yaml:3: scenario 'needs_env': variable project: the environment "
            "variable HL_PROJECT_ID is not set and has no default; set it, or give one: "
            "{env: HL_PROJECT_ID, default: ...}"
        ],
    )


def test_schema_false_turns_the_schema_check_off_for_one_scenario(
    pytester: pytest.Pytester,
) -> None:
    text = """\
        scenarios:
          - name: checked
            steps: [{get: {id: sesh_demo}}]
          - name: unchecked
            schema: false
            steps: [{get: {id: sesh_demo}}]
        """
    write(pytester, "test_schema.hl.yaml", text)
    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=2)
    for name in ("checked", "unchecked"):  # a body that breaks the session schema
        path = pytester.path / "cassettes" / "test_schema.hl" / f"{name}.yaml"
        path.write_text(path.read_text().replace("datapoints_count: 3", "datapoints_count: x"))
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=2, errors=1)
    match_lines(
        result,
        [
            "*::checked PASSED*",
            "*::checked ERROR*",
            "*::unchecked PASSED*",
            "*break their JSON Schema*",
            "*$.datapoints_count: 'x' is not of type 'integer'*",
            "*If the API changed on purpose, update the schema (ini hl_schema_dir) or turn the "
            "check off for this test: schema: false in scenario 'checked' of test_schema.hl.yaml.",
        ],
    )
    assert "hl_cassette(schema=False)" not in result.stdout.str()  # a marker is for Python


def test_a_changed_step_misses_with_its_step_and_the_rerecord_command(
    pytester: pytest.Pytester,
) -> None:
    path = write(pytester, "test_miss.hl.yaml", MULTI_STEP)
    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=1)
    path.write_text(path.read_text().replace("page: 3, size: 10", "page: 2, size: 10"))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    match_lines(
        result,
        [
            "test_miss.hl.yaml:11: scenario 'create_get_list', step 3 (list):",
            "hl-testkit: the cassette has no answer for this request",
            "  request:  GET /sessions?page=2&project_id=pr_demo&size=10",
            "*pytest --hl-record-mode=new_episodes 'test_miss.hl.yaml::create_get_list'",
        ],
    )


def test_last_failed_reruns_only_the_failed_scenario(pytester: pytest.Pytester) -> None:
    write(
        pytester,
        "test_lf.hl.yaml",
        """\
        scenarios:
          - name: good
            steps: [{get: {id: sesh_demo}}]
          - name: bad
            steps:
              - get: {id: sesh_demo}
                expect: {status: 500}
        """,
    )
    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=1, failed=1)
    again = pytester.runpytest("--lf", "-v")
    again.assert_outcomes(failed=1)
    match_lines(again, ["run-last-failure: rerun previous 1 failure*", "*::bad FAILED*"])
    assert "::good" not in again.stdout.str()


def test_last_failed_reruns_only_the_failed_parametrize_row(pytester: pytest.Pytester) -> None:
    # pytest 9 parses a cached node id's "[...]" as parameters: the row's id must be built
    # the same way, or --lf matches nothing, runs everything and keeps the stale entry.
    rows = """\
        scenarios:
          - name: pages
            parametrize:
              - {id: first, page: 1, count: 10}
              - {id: last, page: 3, count: COUNT}
            steps:
              - list: {project_id: pr_demo, page: "{page}", size: 10}
                expect: {body: {records: {$length: "{count}"}}}
        """
    write(pytester, "test_rows.hl.yaml", rows.replace("COUNT", "3"))
    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=2)
    write(pytester, "test_rows.hl.yaml", rows.replace("COUNT", "4"))
    pytester.runpytest().assert_outcomes(passed=1, failed=1)
    again = pytester.runpytest("--lf", "-v")
    again.assert_outcomes(failed=1)
    match_lines(again, ["run-last-failure: rerun previous 1 failure*", "*::pages[last] FAILED*"])
    assert "pages[first]" not in again.stdout.str()
    write(pytester, "test_rows.hl.yaml", rows.replace("COUNT", "3"))
    pytester.runpytest("--lf").assert_outcomes(passed=1)
    cleared = pytester.runpytest("--lf", "-v")  # the fixed row left the cache
    cleared.assert_outcomes(passed=2)
    match_lines(cleared, ["run-last-failure: no previously failed tests, not deselecting*"])


def test_a_scenario_and_a_python_test_side_by_side_under_xdist(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    write(pytester, "test_flow.hl.yaml", MULTI_STEP)
    pytester.makepyfile(
        test_py="""
        def test_get(sessions):
            assert sessions.get(id="sesh_demo").body["datapoints_count"] == 3
        """
    )
    recorded = pytester.runpytest_subprocess("-n", "2", "--hl-record-mode=once")
    recorded.assert_outcomes(passed=2)
    cassettes = pytester.path / "cassettes"
    assert (cassettes / "test_flow.hl" / "create_get_list.yaml").is_file()
    assert (cassettes / "test_py" / "test_get.yaml").is_file()
    replayed = pytester.runpytest_subprocess("-n", "2")
    replayed.assert_outcomes(passed=2)
    match_lines(
        replayed,
        [
            "2 cassette(s) used, 0 written, 0 unchanged; 5 interaction(s) replayed, 0 recorded; "
            "0 miss(es)"
        ],
    )


def test_hl_cassette_mark_sets_the_record_mode_like_the_python_marker(
    pytester: pytest.Pytester,
) -> None:
    write(
        pytester,
        "test_mode.hl.yaml",
        """\
        scenarios:
          - name: self_recording
            marks: [{hl_cassette: {record_mode: once}}]
            steps: [{get: {id: sesh_demo}}]
        """,
    )
    pytester.runpytest().assert_outcomes(passed=1)  # mode none by default; the mark records
    cassette = pytester.path / "cassettes" / "test_mode.hl" / "self_recording.yaml"
    assert request_lines(cassette) == ["GET /sessions/sesh_demo"]


DOCS = Path(__file__).resolve().parent.parent / "docs" / "scenarios.md"


def test_the_documented_files_record_and_replay(pytester: pytest.Pytester) -> None:
    if not DOCS.is_file():
        pytest.skip("docs/ is not in the sdist")
    text = DOCS.read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(# tests/scenarios/test_sessions\.hl\.yaml\n.*?)```", text, re.S)
    assert len(blocks) == 2  # the opening example and the complete file
    for number, block in enumerate(blocks):
        write(pytester, f"test_doc{number}.hl.yaml", block)
    pytester.runpytest("--hl-record-mode=once").assert_outcomes(passed=13)
    pytester.runpytest().assert_outcomes(passed=13)
