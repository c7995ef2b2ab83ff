"""The scenario format without pytest: loading with lines, the schema and semantic checks,
variables, matching and saving. Pure functions, so every kind is tested here, fast;
the plugin tests (test_scenarios_plugin.py) show the same through a pytest run.
"""

from __future__ import annotations

import json
from textwrap import dedent
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from hl_testkit.contract.schemas import SCHEMA_NAMES, schema_dir
from hl_testkit.scenarios import loader, source, structure
from hl_testkit.scenarios.expect import Mismatch, extract, match, match_headers, parse_path
from hl_testkit.scenarios.source import ScenarioError
from hl_testkit.scenarios.variables import EnvVar, names_in, render

FILE = "tests/test_x.hl.yaml"


def cases(text: str) -> list[loader.Case]:
    return loader.cases(source.load(dedent(text), FILE), FILE)


def problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        cases(text)
    return info.value.problems


def expected(text: str) -> Any:
    """An expectation as the loader gives it (with lines)."""
    return source.load(dedent(text), FILE)


# -- the schema file ---------------------------------------------------------------------


def test_scenario_schema_is_a_valid_draft_2020_12_schema_apart_from_the_api_ones() -> None:
    schema = json.loads((schema_dir() / "scenario.json").read_text(encoding="utf-8"))
    assert structure.format_schema() == schema  # loaded apart from the API body schemas
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == "https://schemas.hl-testkit.invalid/v4/scenario.json"
    assert schema["title"]
    assert schema["description"]
    assert "scenario" not in SCHEMA_NAMES  # never routed to an API response
    for example in schema["examples"]:
        assert list(Draft202012Validator(schema).iter_errors(example)) == []


# -- loading -------------------------------------------------------------------------------


def test_a_valid_file_gives_one_case_per_scenario_and_row_with_lines() -> None:
    found = cases(
        """\
        vars:
          project: {env: HL_PROJECT_ID, default: pr_demo}
        scenarios:
          - name: one
            steps:
              - create: {}
                save: {sid: body.id}
              - get: {id: "{sid}"}
          - name: pages
            parametrize:
              - {page: 1, count: 10}
              - {id: last, page: 3, count: 3}
              - {page: 1, count: 10}
            steps:
              - list: {project_id: "{project}", page: "{page}"}
        """
    )
    assert [c.name for c in found] == ["one", "pages[1-10_0]", "pages[last]", "pages[1-10_1]"]
    assert [c.line for c in found] == [4, 11, 12, 13]
    one = found[0]
    assert [(s.number, s.op, s.line) for s in one.scenario.steps] == [
        (1, "create", 6),
        (2, "get", 8),
    ]
    assert one.env_vars == {}  # the project variable is not used by `one`
    assert found[1].env_vars == {"project": EnvVar("HL_PROJECT_ID", "pr_demo")}
    assert found[2].row == {"page": 3, "count": 3}


def test_unquoted_timestamps_stay_strings_and_re_is_a_regex_matcher() -> None:
    document = expected(
        """\
        created_at: 2024-01-01T00:00:00Z
        id: !re "^sesh_"
        """
    )
    assert document == {"created_at": "2024-01-01T00:00:00Z", "id": {"$regex": "^sesh_"}}
    assert document.line_of("id") == 2


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("scenarios:\n  - name: y\n    steps:\n      - get: {id: x\n", ":4: not valid YAML"),
        (
            "scenarios:\n  - name: y\n    steps:\n      - save: {a: body.b[0]}\n",
            ":4: not valid YAML: expected ',' or '}', but got '['; inside {...} or [...] quote "
            "values holding [ ] { } or ','",
        ),
        ("a: 1\na: 2\n", ":2: not valid YAML: the key 'a' appears twice"),
        ("x: !!python/object:os.system y\n", ":1: not valid YAML: unknown YAML tag"),
        ("200: x\n", ":1: not valid YAML: the key 200 is not a string; quote it"),
    ],
)
def test_bad_yaml_names_file_and_line(text: str, wanted: str) -> None:
    with pytest.raises(ScenarioError) as info:
        source.load(text, FILE)
    assert info.value.problems[0].startswith(FILE + wanted)


# -- errors at collection: each kind, with file:line, scenario, step and what is allowed --------

STEPS = """\
scenarios:
  - name: x
    steps:
      - create: {}
        save: {session_id: body.id}
"""


@pytest.mark.parametrize(
    ("step", "wanted"),
    [
        (
            '      - get: {id: "{session_id}"}\n        expcet: {status: 200}\n',
            ":7: unknown key 'expcet' in step 2 (get) of scenario 'x' (allowed: one call: create,"
            " get or list; name, save, expect); did you mean 'expect'?",
        ),
        (
            '      - delete: {id: "{session_id}"}\n',
            ":6: unknown call 'delete' in step 2 of scenario 'x' (allowed: one call: create, get "
            "or list; name, save, expect)",
        ),
        (
            "      - get: {}\n",
            ":6: get in step 2 (get) of scenario 'x' lacks 'id' (get's arguments: {id: ...})",
        ),
        (
            "      - get: {id: x}\n        list: {project_id: p}\n",
            ":6: step 2 (get) of scenario 'x' has 2 calls (get, list): one per step",
        ),
        (
            "      - list: {project_id: p, page: two}\n",
            ":6: list.page in step 2 (list) of scenario 'x': the string 'two' is not a "
            'whole-string variable reference such as "{page}"',
        ),
        (
            '      - get: {id: "{sesion_id}"}\n',
            ":6: step 2 (get) of scenario 'x' uses {sesion_id}, which is not defined here: no "
            "earlier step saves it and no vars or parametrize row define it (defined here: "
            "session_id); did you mean session_id?",
        ),
        (
            '      - get: {id: "{later}"}\n      - create: {}\n        save: {later: body.id}\n',
            ":6: step 2 (get) of scenario 'x' uses {later}, which is not defined here: only step "
            "3 saves it, after this one (defined here: session_id)",
        ),
        (
            "      - get: {id: x}\n        expect: {body: {id: {$len: 3}}}\n",
            ":7: unknown matcher '$len' in expect.body.id in step 2 (get) of scenario 'x' "
            "(allowed: $regex, $type, $length, $min_length, $max_length, $contains, $each); "
            "did you mean '$length'?",
        ),
        (
            '      - get: {id: x}\n        expect:\n          body: {id: !re "sesh_("}\n',
            ":8: expect.body.id.$regex in step 2 (get) of scenario 'x': the regex 'sesh_(' does "
            "not compile",
        ),
        (
            "      - get: {id: x}\n        expect:\n          headers: {Date: x}\n",
            ":8: expect.headers in step 2 (get) of scenario 'x' checks 'Date', which cassettes do "
            "not keep",
        ),
        (
            "      - get: {id: x}\n        save: {v: body..id}\n",
            ":7: save.v in step 2 (get) of scenario 'x': the string 'body..id' is not a response "
            "path: status, headers.<Name>, body",
        ),
        (
            "      - get: {id: x}\n        expect: {status: 1000}\n",
            ":7: expect.status in step 2 (get) of scenario 'x': the number 1000 is not an HTTP "
            "status (100-599)",
        ),
        (
            '      - get: {id: x}\n        expect: {status: "201"}\n',
            ":7: expect.status in step 2 (get) of scenario 'x' must be an integer: remove the "
            "quotes around '201'",
        ),
        (
            '      - list: {project_id: p, page: "2"}\n',
            ":6: list.page in step 2 (list) of scenario 'x' must be an integer: remove the "
            "quotes around '2'",
        ),
    ],
    ids=[
        "typo",
        "unknown-op",
        "missing-arg",
        "two-calls",
        "bad-arg",
        "unsaved-var",
        "saved-later",
        "unknown-matcher",
        "bad-regex",
        "unkept-header",
        "bad-save-path",
        "bad-status",
        "quoted-status",
        "quoted-page",
    ],
)
def test_each_kind_of_error_names_line_scenario_step_and_what_is_allowed(
    step: str, wanted: str
) -> None:
    found = problems(STEPS + step)
    assert len(found) == 1, found
    assert found[0].startswith(FILE + wanted), found[0]


def test_file_level_errors() -> None:
    assert problems("vars: {}\n") == [
        f"{FILE}:1: the file lacks 'scenarios' (a scenario file holds scenarios:, a list of "
        "scenarios, and optionally vars:)"
    ]
    assert problems("# nothing\n") == [
        f"{FILE}:1: the file is empty; a scenario file holds scenarios:"
    ]
    found = problems(
        """\
        vars:
          list_of: [1, 2]
          from_env: {env: X, dflt: 1}
        scenarios:
          - name: "has space"
            steps: []
          - name: y
            stpes: []
          - name: z
        """
    )
    assert found == [
        f"{FILE}:2: list_of in the file's vars must be a string, number, boolean or null, or "
        "{env: NAME, default: value}, not a list",
        f"{FILE}:3: unknown key 'dflt' in from_env in the file's vars (allowed: env, default); "
        "did you mean 'default'?",
        f"{FILE}:5: name in scenario 'has space': the string 'has space' is not a test name of "
        "letters, digits, '_', '.' and '-' (usable with -k, in node ids and cassette names)",
        f"{FILE}:6: steps in scenario 'has space' is empty; it must be a list of at least one step",
        f"{FILE}:8: unknown key 'stpes' in scenario 'y' (allowed: name, description, marks, "
        "vars, parametrize, schema, steps); did you mean 'steps'?",  # not also "lacks steps"
        f"{FILE}:9: scenario 'z' lacks 'steps' (a scenario: name and steps, optionally "
        "description, marks, vars, parametrize, schema)",
    ]


def test_semantic_errors_are_all_reported_in_line_order() -> None:
    found = problems(
        """\
        scenarios:
          - name: a
            marks: [skipif, {skip: [1]}, {hl_cassette: {record_mode: sometimes}}]
            parametrize:
              - {page: "2"}
              - {size: 2}
            steps:
              - list: {project_id: p, page: "{page}"}
                expect: {status: "{page}", body: {a: {$regex: "x["}}}
          - name: a
            steps: [{create: {}}]
        """
    )
    assert [p.split(": ", 1)[0] for p in found] == [
        f"{FILE}:{n}" for n in (3, 3, 3, 6, 8, 9, 9, 10)
    ]
    text = "\n".join(found)
    assert "skipif cannot mark a scenario" in text
    assert "skip takes a mapping of reason (or a string: the reason), not a list" in text
    assert "record_mode 'sometimes' is not one of none, once, new_episodes, all, rewrite" in text
    assert "row 2 of scenario 'a' sets size, row 1 sets page: every row sets the same" in text
    assert (
        "list.page in step 1 (list) of scenario 'a' (row 1) is {page} = the string '2', but it"
        in text
    )
    assert "expect.status in step 1 (list) of scenario 'a' (row 1) is {page}" in text
    assert "the regex 'x[' does not compile" in text
    assert "a second scenario named 'a' (the first is at line 2)" in text


def test_a_broken_scenario_does_not_hide_the_semantic_problems_of_the_others() -> None:
    found = problems(
        """\
        scenarios:
          - name: broken
            steps: [{gett: {id: x}}]
          - name: fine_structure
            steps: [{get: {id: "{nowhere}"}}]
        """
    )
    assert [p.split(": ", 1)[0] for p in found] == [f"{FILE}:3", f"{FILE}:5"]
    assert "unknown call 'gett'" in found[0]
    assert "uses {nowhere}, which is not defined here" in found[1]


# -- variables --------------------------------------------------------------------------------


def test_interpolation_keeps_whole_values_typed_and_leaves_regex_braces() -> None:
    values = {"page": 2, "sid": "sesh_1", "flag": True}
    assert render("{page}", values) == 2
    assert render("p{page}-{sid}-{flag}", values) == "p2-sesh_1-true"
    assert render("{{page}} [0-9]{24}", values) == "{page} [0-9]{24}"
    assert render({"$regex": "^{sid}$", "x": ["{page}"]}, values) == {
        "$regex": "^{sid}$",
        "x": [2],
    }
    assert names_in("a{b}c{{d}}{e_1}{2}") == ["b", "e_1"]
    with pytest.raises(KeyError):
        render("{missing}", values)


def test_env_vars_take_the_type_of_their_default() -> None:
    assert EnvVar("P", "pr_demo").resolve({}) == "pr_demo"
    assert EnvVar("P", "pr_demo").resolve({"P": "pr_x"}) == "pr_x"
    assert EnvVar("N", 10).resolve({"N": "25"}) == 25
    assert EnvVar("B", False).resolve({"B": "true"}) is True
    with pytest.raises(LookupError, match="variable N is not an integer") as caught:
        EnvVar("N", 10).resolve({"N": "ten"})
    assert "ten" not in str(caught.value)  # the value may be a secret: never shown
    with pytest.raises(LookupError, match="P is not set and has no default"):
        EnvVar("P").resolve({})


# -- expectations -------------------------------------------------------------------------------

BODY = {
    "id": "sesh_abc",
    "datapoints_count": 3,
    "projects": [{"id": "pr_demo", "name": "Demo"}, {"id": "pr_support", "name": "Support"}],
    "reference_id": None,
    "ok": True,
}


def problems_of(found: list[Mismatch]) -> list[str]:
    return [str(m) for m in found]


@pytest.mark.parametrize(
    ("yaml_text", "wanted"),
    [
        ("id: sesh_abc\nok: true", []),  # a subset
        ("id: sesh_x", ['$.id: expected "sesh_x", got "sesh_abc" (line 1)']),
        ('id: "{sid}"', []),
        ('id: "{other}"', ['$.id: expected \'{other}\' = "sesh_zzz", got "sesh_abc" (line 1)']),
        ('datapoints_count: "{n}"', []),  # whole placeholder keeps the int
        ('datapoints_count: "3"', ['$.datapoints_count: expected "3", got 3 (line 1)']),
        ("ok: 1", ["$.ok: expected 1, got true (line 1)"]),
        ("reference_id: null", []),
        (
            "missing: 1",
            [
                "$.missing: missing (expected 1; keys: 'id', 'datapoints_count', "
                "'projects', 'reference_id', 'ok') (line 1)"
            ],
        ),
        (
            "projects: [{id: pr_demo}]",
            [
                "$.projects: expected 1 item(s), got 2: "
                '[{"id": "pr_demo", "name": "Demo"}, {"id": "pr_support",'
                ' "name": "Support"}] (line 1)'
            ],
        ),
        (
            "projects:\n  - {id: pr_demo}\n  - {name: Nope}",
            ['$.projects[1].name: expected "Nope", got "Support" (line 3)'],
        ),
        ('id: !re "^sesh_"', []),
        ('id: !re "^pr_"', ['$.id: expected a string matching /^pr_/, got "sesh_abc" (line 1)']),
        (
            "datapoints_count: {$regex: x}",
            ["$.datapoints_count: expected a string matching /x/, got 3 (line 1)"],
        ),
        ("id: {$type: string}\nok: {$type: [boolean, null]}", []),
        ("id: {$type: integer}", ['$.id: expected integer, got string "sesh_abc" (line 1)']),
        ("datapoints_count: {$type: number}", []),
        ("ok: {$type: integer}", ["$.ok: expected integer, got boolean true (line 1)"]),
        ("projects: {$length: 2}\nid: {$min_length: 8, $max_length: 8}", []),
        (
            'projects: {$length: "{n}"}',
            [
                '$.projects: expected length 3, got 2: [{"id": '
                '"pr_demo", "name": "Demo"}, {"id": "pr_support", '
                '"name": "Support"}] (line 1)'
            ],
        ),
        ("id: {$min_length: 9}", ['$.id: expected length >= 9, got 8: "sesh_abc" (line 1)']),
        ("id: {$max_length: 2}", ['$.id: expected length <= 2, got 8: "sesh_abc" (line 1)']),
        ("projects: {$contains: [{id: pr_support}]}", []),
        (
            "projects:\n  $contains:\n    - {id: pr_nope}",
            [
                '$.projects: expected an item matching {"id": "pr_nope"}, none of the 2 '
                "item(s) does "
                "(line 3)"
            ],
        ),
        ('projects: {$each: {id: !re "^pr_"}}', []),
        (
            "projects: {$each: {name: Demo}}",
            ['$.projects[1].name: expected "Demo", got "Support" (line 1)'],
        ),
        ('projects: "{expected_projects}"', []),  # a list variable matches like a literal
    ],
)
def test_body_expectations_pass_and_fail_with_path_line_expected_and_actual(
    yaml_text: str, wanted: list[str]
) -> None:
    variables = {
        "sid": "sesh_abc",
        "other": "sesh_zzz",
        "n": 3,
        "expected_projects": [{"id": "pr_demo"}, {"id": "pr_support"}],
    }
    assert problems_of(match(expected(yaml_text), BODY, variables)) == wanted


def test_header_expectations_ignore_name_case() -> None:
    headers = {"Content-Type": "application/json", "X-Rate": "10"}
    wanted = expected("content-type: application/json\nx-rate: !re '^\\d+$'")
    assert match_headers(wanted, headers, {}) == []
    assert problems_of(match_headers(expected("CONTENT-TYPE: text/html"), headers, {})) == [
        'headers[\'CONTENT-TYPE\']: expected "text/html", got "application/json" (line 1)'
    ]
    assert problems_of(match_headers(expected("X-Missing: a"), headers, {})) == [
        "headers['X-Missing']: missing (expected \"a\"; headers: Content-Type, X-Rate) (line 1)"
    ]


# -- saving -------------------------------------------------------------------------------------


def test_save_paths_read_body_headers_and_status() -> None:
    body = {"records": [{"id": "a"}, {"id": "b"}], "total": 2, "odd key": 1}
    headers = {"Content-Type": "application/json"}
    assert extract("body.records[0].id", 200, headers, body) == "a"
    assert extract("body.records[-1].id", 200, headers, body) == "b"
    assert extract("body['odd key']", 200, headers, body) == 1
    assert extract("body", 200, headers, body) is body
    assert extract("headers.content-type", 200, headers, body) == "application/json"
    assert extract("status", 201, headers, body) == 201
    assert parse_path("body.a[2]['b c']") == ("body", ["a", 2, "b c"])
    with pytest.raises(LookupError, match=r"body.records has 2 item\(s\), no \[5\]"):
        extract("body.records[5].id", 200, headers, body)
    with pytest.raises(LookupError, match=r"body.records\[0\] has no key 'name' \(keys: 'id'\)"):
        extract("body.records[0].name", 200, headers, body)
    with pytest.raises(LookupError, match=r"body\.total is integer 2, not an object"):
        extract("body.total.x", 200, headers, body)
