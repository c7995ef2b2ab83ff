"""`hl-testkit diff` reads `hl_diff_ignore` from the file the installed pytest takes.

Each layout is given to pytest itself (`config.inipath`, `config.getini`, public API)
and to `drift.ini.ini_ignores`: the two must name the same file and the same paths.
Under pytest 8 the pytest 9 files are simply not found, by either.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hl_testkit.drift import ini

PYTEST_9 = pytest.version_tuple >= (9,)

#: name → a file of that kind holding hl_diff_ignore = body.<name's stem>, body.shared
_FILES = {
    "pytest.toml": '[pytest]\nhl_diff_ignore = ["body.a", "body.shared"]\n',
    ".pytest.toml": '[pytest]\nhl_diff_ignore = ["body.a", "body.shared"]\n',
    "pytest.ini": "[pytest]\nhl_diff_ignore =\n    body.a\n    body.shared\n",
    ".pytest.ini": "[pytest]\nhl_diff_ignore =\n    body.a\n    body.shared\n",
    "pyproject.toml": '[tool.pytest.ini_options]\nhl_diff_ignore = ["body.a", "body.shared"]\n',
    "tox.ini": "[tox]\nenvlist = py\n\n[pytest]\nhl_diff_ignore = body.a\n  body.shared\n",
    "setup.cfg": "[metadata]\nname = x\n[tool:pytest]\nhl_diff_ignore =\n  body.a\n  body.shared\n",
}

#: layout name → {relative path: text}; the run starts in "project/sub".
_LAYOUTS: dict[str, dict[str, str]] = {
    **{f"only {name}": {f"project/{name}": text} for name, text in _FILES.items()},
    "pyproject [tool.pytest], pytest 9's native form": {
        "project/pyproject.toml": '[tool.pytest]\nhl_diff_ignore = ["body.native"]\n'
    },
    "pyproject [tool.pytest] under pytest 8 is not a config": {
        "project/pyproject.toml": '[tool.pytest]\nhl_diff_ignore = ["body.native"]\n',
        "pytest.ini": "[pytest]\nhl_diff_ignore = body.above\n",
    },
    "pytest.toml before pytest.ini": {
        "project/pytest.toml": '[pytest]\nhl_diff_ignore = ["body.toml"]\n',
        "project/pytest.ini": "[pytest]\nhl_diff_ignore = body.ini\n",
    },
    "pytest.ini before .pytest.ini": {
        "project/pytest.ini": "[pytest]\nhl_diff_ignore = body.plain\n",
        "project/.pytest.ini": "[pytest]\nhl_diff_ignore = body.hidden\n",
    },
    ".pytest.ini before pyproject.toml": {
        "project/.pytest.ini": "[pytest]\nhl_diff_ignore = body.hidden\n",
        "project/pyproject.toml": _FILES["pyproject.toml"],
    },
    "pyproject.toml before tox.ini before setup.cfg": {
        "project/pyproject.toml": _FILES["pyproject.toml"],
        "project/tox.ini": "[pytest]\nhl_diff_ignore = body.tox\n",
        "project/setup.cfg": "[tool:pytest]\nhl_diff_ignore = body.cfg\n",
    },
    "tox.ini before setup.cfg": {
        "project/tox.ini": "[pytest]\nhl_diff_ignore = body.tox\n",
        "project/setup.cfg": "[tool:pytest]\nhl_diff_ignore = body.cfg\n",
    },
    "an empty pytest.ini stops the search": {
        "project/pytest.ini": "",
        "pytest.ini": "[pytest]\nhl_diff_ignore = body.above\n",
    },
    "an empty .pytest.ini stops it from pytest 9 on": {
        "project/.pytest.ini": "",
        "pytest.ini": "[pytest]\nhl_diff_ignore = body.above\n",
    },
    "an empty pytest.toml stops it": {
        "project/pytest.toml": "",
        "pytest.ini": "[pytest]\nhl_diff_ignore = body.above\n",
    },
    "files without pytest's section are passed over": {
        "project/tox.ini": "[tox]\nenvlist = py\n",
        "project/setup.cfg": "[metadata]\nname = x\n",
        "project/pyproject.toml": "[project]\nname = 'x'\n",
        "pytest.ini": "[pytest]\nhl_diff_ignore = body.above\n",
    },
    "the nearest directory wins": {
        "project/sub/tox.ini": "[pytest]\nhl_diff_ignore = body.near\n",
        "project/pytest.toml": '[pytest]\nhl_diff_ignore = ["body.far"]\n',
    },
    "a config without the key": {"project/pytest.ini": "[pytest]\naddopts = -q\n"},
}


def _pytest_answer(pytester: pytest.Pytester, start: Path) -> tuple[list[str], str | None]:
    config = pytester.parseconfig(start)
    found = config.inipath
    return list(config.getini("hl_diff_ignore")), None if found is None else str(found)


@pytest.mark.parametrize("layout", _LAYOUTS, ids=list(_LAYOUTS))
def test_the_ini_file_is_the_one_pytest_takes(pytester: pytest.Pytester, layout: str) -> None:
    for relative, text in _LAYOUTS[layout].items():
        path = pytester.path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    start = pytester.path / "project" / "sub"
    start.mkdir(parents=True, exist_ok=True)
    ours = ini.ini_ignores(start)
    assert ours == _pytest_answer(pytester, start)
    name = layout.removeprefix("only ")
    if name in _FILES and (PYTEST_9 or name not in ("pytest.toml", ".pytest.toml")):
        assert ours == (["body.a", "body.shared"], str(start.parent / name))


def test_each_version_looks_for_its_own_names() -> None:
    eight = [name for name, _ in ini._readers(8)]
    assert eight == ["pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg"]
    assert [name for name, _ in ini._readers(9)] == ["pytest.toml", ".pytest.toml", *eight]


def test_a_broken_ini_file_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest\nx = 1\n", encoding="utf-8")
    with pytest.raises(ini.IniError, match=r"pytest\.ini"):
        ini.ini_ignores(tmp_path)
    (tmp_path / "pytest.ini").unlink()
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options\n", encoding="utf-8")
    with pytest.raises(ini.IniError, match=r"pyproject\.toml"):
        ini.ini_ignores(tmp_path)
