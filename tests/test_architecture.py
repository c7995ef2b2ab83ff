"""The package's shape, checked: layered wings, no import cycle, short functions.

docs/architecture.md describes the wings; pyproject's `[tool.importlinter]`
holds the layering contract that `lint-imports` checks here.
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
import warnings
from pathlib import Path

import grimp
import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "hl_testkit"
BIN = Path(sys.executable).parent
MAX_FUNCTION_LINES = 80


def test_the_layering_contract_is_kept() -> None:
    result = subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b[1-9][0-9]* kept, 0 broken", result.stdout), result.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative enough here)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_back_lazy_imports_included() -> None:
    # grimp reads every import statement, those inside functions too; only
    # `if TYPE_CHECKING:` imports, which never run, are left out.
    graph = grimp.build_graph(
        "hl_testkit", include_external_packages=False, exclude_type_checking_imports=True
    )
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    # The check above must be able to fail: two modules importing each other.
    graph = grimp.ImportGraph()
    for module in ("p", "p.a", "p.b"):
        graph.add_module(module)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.a")
    assert _cycles(graph) == [["p.a", "p.b"]]


def _long_functions(root: Path) -> list[str]:
    out = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    out.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.name}")
    return out


def test_no_function_is_over_80_lines() -> None:
    assert _long_functions(PACKAGE) == []


def test_the_root_holds_few_modules_and_the_concerns_live_in_wings() -> None:
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(modules) <= 8, modules
    wings = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists())
    assert len(wings) >= 5, wings
    assert {"cassettes", "recording", "secrets", "contract", "cli"} <= set(wings)


@pytest.mark.parametrize(
    ("old", "name", "new"),
    [
        ("hl_testkit.scrub", "ScrubRules", "hl_testkit.secrets"),
        ("hl_testkit.schemas", "validate_response", "hl_testkit.contract"),
    ],
)
def test_a_moved_module_still_imports_and_says_where_it_went(old: str, name: str, new: str) -> None:
    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    assert getattr(module, name) is getattr(importlib.import_module(new), name)
    (warning,) = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert f"{old} moved to {new}" in str(warning.message)


def test_the_documented_imports_work() -> None:
    from hl_testkit import ApiException, SessionsClient
    from hl_testkit.contract import validate_response
    from hl_testkit.secrets import ScrubRules
    from hl_testkit.standin import StandinServer

    assert ApiException.__module__ == "hl_testkit.errors"
    assert SessionsClient.__module__ == "hl_testkit.client"
    assert validate_response("get", 200, {}) is not None  # a missing id is reported
    assert ScrubRules().extended(header_names=["x-extra"]).header_names[-1] == "x-extra"
    assert StandinServer.__module__.startswith("hl_testkit.standin")
