"""The built wheel carries the schemas and py.typed, and finds its schemas once installed."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap
import zipfile

import pytest

from hl_testkit.contract.schemas import SCHEMA_NAMES

REPO = pathlib.Path(__file__).resolve().parent.parent
_PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]


def _run(
    args: list[str], *, cwd: pathlib.Path | None = None, env: dict[str, str] | None = None
) -> None:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("wheel")
    # Offline: no index, no build isolation (hatchling is in the venv).
    _run(
        [
            *_PIP,
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(out),
            str(REPO),
        ]
    )
    [built] = out.glob("hl_testkit-*.whl")
    return built


def test_wheel_carries_schemas_and_py_typed(wheel: pathlib.Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert "hl_testkit/py.typed" in names
        assert "hl_testkit/contract/schemas.py" in names
        files = [f"{name}.json" for name in SCHEMA_NAMES]
        files += [f"strict/{name}.json" for name in SCHEMA_NAMES]  # the strict profile
        files.append("openapi.json")  # the stand-in's OpenAPI document
        for file in files:
            member = f"hl_testkit/_schemas/{file}"
            assert member in names
            assert zf.read(member) == (REPO / "schemas" / file).read_bytes()


def test_installed_wheel_loads_its_own_schemas(wheel: pathlib.Path, tmp_path: pathlib.Path) -> None:
    site = tmp_path / "site"
    _run([*_PIP, "install", "--no-deps", "--no-index", "--target", str(site), str(wheel)])
    script = textwrap.dedent(
        f"""
        import pathlib
        import hl_testkit, hl_testkit.contract.schemas as s
        site = pathlib.Path({str(site)!r}).resolve()
        here = pathlib.Path(hl_testkit.__file__).resolve()
        assert here.is_relative_to(site), here
        assert s.schema_dir() == site / "hl_testkit" / "_schemas", s.schema_dir()
        assert s.load_schema("session")["title"] == "SessionResponse"
        assert s.validate("session_created", {{"id": "sesh_1"}}) == []
        assert [v.keyword for v in s.validate("session", {{"id": "sesh_1"}})] == ["required"] * 3
        strict = s.SchemaSet.default("strict")
        assert [v.keyword for v in strict.validate("session_created", {{"id": "sesh_a.b"}})] == [
            "pattern"
        ]
        from hl_testkit.standin.app import openapi_document
        assert b'"openapi": "3.1.0"' in openapi_document()
        """
    )
    # cwd=tmp_path keeps the source tree off sys.path; PYTHONPATH puts the install first.
    env = {**os.environ, "PYTHONPATH": str(site)}
    _run([sys.executable, "-c", script], cwd=tmp_path, env=env)
