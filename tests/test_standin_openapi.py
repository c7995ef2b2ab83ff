"""The stand-in's OpenAPI 3.1 document: shipped, served, true, and fuzzed by schemathesis.

`schemas/openapi.json` (in the wheel beside the JSON Schemas) states what the
stand-in answers; it is served at `/v4/openapi.json`. schemathesis (its current
release) runs against `hl-testkit serve` with every check and a fixed seed, and
must find nothing; the same run against a document that lies must fail, so the
run is known to look.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from hl_testkit.contract.schemas import load_schema, schema_dir
from hl_testkit.standin import DEMO_PROJECT_ID, DEMO_SESSION_ID, STANDIN_API_KEY, StandinServer

BIN = Path(sys.executable).parent


def _document() -> dict[str, Any]:
    return dict(json.loads((schema_dir() / "openapi.json").read_text(encoding="utf-8")))


def test_the_document_is_served_without_a_key(standin: StandinServer) -> None:
    answer = requests.get(f"{standin.base_url}/openapi.json", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json() == _document()
    assert _document()["openapi"] == "3.1.0"
    assert requests.post(f"{standin.base_url}/openapi.json", timeout=10).status_code == 404


def _strict(name: str) -> dict[str, Any]:
    schema = load_schema(name, "strict")
    for key in ("$schema", "$id", "examples"):
        schema.pop(key)
    return schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def test_the_body_schemas_are_the_strict_profile() -> None:
    # The stand-in answers strictly: the document says what schemas/strict/ says, with the
    # $refs between files turned into $refs between components.
    session, page, error = _strict("session"), _strict("session_page"), _strict("validation_error")
    project = session.pop("$defs")["SessionProjectResponse"]
    item = error.pop("$defs")["ValidationError"]
    session["properties"]["projects"]["items"] = _ref("SessionProjectResponse")
    page["properties"]["records"]["items"] = _ref("SessionResponse")
    error["properties"]["detail"]["items"] = _ref("ValidationError")
    assert _document()["components"]["schemas"] == {
        "CreateSessionResponse": _strict("session_created"),
        "SessionResponse": session,
        "SessionProjectResponse": project,
        "PaginatedDataSessionResponse": page,
        "HTTPValidationError": error,
        "ValidationError": item,
        "ErrorResponse": _strict("error"),
    }


#: (method, path and query, with the key?, the status the stand-in gives)
_CALLS = [
    ("POST", "/sessions", True, 201),
    ("POST", "/sessions", False, 401),
    ("GET", f"/sessions/{DEMO_SESSION_ID}", True, 200),
    ("GET", "/sessions/sesh_missing", True, 404),
    ("GET", "/sessions/sesh_missing", False, 401),
    ("GET", f"/sessions?project_id={DEMO_PROJECT_ID}&page=2&size=5", True, 200),
    ("GET", "/sessions?project_id=pr_nobody", True, 200),
    ("GET", "/sessions?page=0&size=0", True, 422),
    ("GET", "/sessions?page=0", False, 401),
]


@pytest.mark.parametrize(("method", "target", "keyed", "status"), _CALLS)
def test_each_answer_is_documented_with_its_body(
    standin: StandinServer, method: str, target: str, keyed: bool, status: int
) -> None:
    document = _document()
    headers = {"X-API-KEY": STANDIN_API_KEY} if keyed else {}
    answer = requests.request(method, standin.base_url + target, headers=headers, timeout=10)
    assert answer.status_code == status
    template = "/sessions/{id}" if target.startswith("/sessions/") else "/sessions"
    documented = document["paths"][template][method.lower()]["responses"][str(status)]
    if "$ref" in documented:
        documented = document["components"]["responses"][documented["$ref"].rsplit("/", 1)[1]]
    schema = {**documented["content"]["application/json"]["schema"], **document}
    Draft202012Validator(schema).validate(answer.json())


# -- schemathesis against `hl-testkit serve` ----------------------------------------------


@pytest.fixture
def served() -> Iterator[str]:
    """`hl-testkit serve` on a free loopback port; its base URL."""
    process = subprocess.Popen(
        [str(BIN / "hl-testkit"), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, line
        yield line.rsplit(" ", 1)[1].strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


def _schemathesis(location: str, base_url: str, cwd: Path, *extra: str) -> str:
    pytest.importorskip(
        "schemathesis", reason="in the fuzz extra (and dev): pip install -e '.[fuzz]'"
    )
    st = shutil.which("st", path=str(BIN))
    assert st is not None, f"schemathesis is installed but its `st` is not in {BIN}"
    # All checks, a fixed seed, one worker (the machine is shared), no example database.
    command = [st, "run", location, "--url", base_url, "--checks", "all", "--seed", "14"]
    command += ["-H", f"X-API-KEY: {STANDIN_API_KEY}", "--generation-database", "none"]
    command += ["--workers", "1", "--no-color", *extra]
    run = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return f"exit {run.returncode}\n{run.stdout}{run.stderr}"


def test_schemathesis_finds_nothing(served: str, tmp_path: Path) -> None:
    out = _schemathesis(f"{served}/openapi.json", served, tmp_path, "--max-examples", "30")
    assert out.startswith("exit 0\n"), out
    assert "No issues found" in out
    assert "Stateful" in out  # the create → get link was followed too


def test_schemathesis_fails_a_document_that_lies(served: str, tmp_path: Path) -> None:
    lying = _document()
    session = lying["components"]["schemas"]["SessionResponse"]
    session["required"] = [*session["required"], "not_sent"]
    (tmp_path / "lying.json").write_text(json.dumps(lying), encoding="utf-8")
    out = _schemathesis(
        "lying.json", served, tmp_path, "--max-examples", "5", "--phases", "fuzzing"
    )
    assert out.startswith("exit 1\n"), out
    assert "not_sent" in out
