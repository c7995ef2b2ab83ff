"""`hl_diff_ignore` for `hl-testkit diff`, from the configuration file the installed
pytest would take, so the command and the end-of-run summary ignore the same paths.

pytest looks in the current directory, then each parent, for these names in this
order, and takes the first that holds its configuration (`_pytest/config/findpaths.py`):
pytest.toml, .pytest.toml (pytest 9), pytest.ini, .pytest.ini, pyproject.toml,
tox.ini, setup.cfg. That finder is private API and changed shape three times
across the versions we support (8.0: `locate_config(args)`; 8.1: an
invocation directory first; 9.0: a fourth result, values wrapped in
`ConfigValue`), and it can stop the process (`fail()` on a `[pytest]` section in
setup.cfg). So it is mirrored here, per version, and
tests/test_drift_ini.py holds the mirror to pytest's own answer
(`config.inipath`, `config.getini`) for every kind of file. INI files are read
with `iniconfig`, pytest's own parser.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import iniconfig

from hl_testkit.errors import HlTestkitError

INI_KEY = "hl_diff_ignore"

#: What a reader gives: the key's raw value (a text or a list), or `_NOT_CONFIG` when the
#: file does not hold pytest's configuration (pytest looks on).
_Value = Any
_NOT_CONFIG = object()


class IniError(HlTestkitError):
    """A configuration file pytest would refuse too (exit 2)."""


def _pytest_major() -> int:
    # Not `import pytest`: the command would pay for all of it to read one number.
    return int(importlib.metadata.version("pytest").split(".")[0])


def _ini(path: Path, section: str) -> iniconfig.IniConfig | None:
    try:
        parsed = iniconfig.IniConfig(str(path))
    except iniconfig.ParseError as exc:
        raise IniError(str(exc)) from None
    return parsed if section in parsed.sections else None


def _dedicated_ini(path: Path, *, always: bool) -> _Value:
    """pytest.ini (always pytest's, even without a [pytest] section); .pytest.ini (so
    from pytest 9 on, before only with the section)."""
    parsed = _ini(path, "pytest")
    if parsed is None:
        return [] if always else _NOT_CONFIG
    return parsed["pytest"].get(INI_KEY, [])


def _shared_ini(path: Path, section: str) -> _Value:
    """tox.ini's [pytest], setup.cfg's [tool:pytest]: only with the section."""
    parsed = _ini(path, section)
    return _NOT_CONFIG if parsed is None else parsed[section].get(INI_KEY, [])


def _toml(path: Path) -> Any:
    # tomli before Python 3.11, as pytest itself (it depends on it there)
    toml: Any = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    try:
        return toml.loads(path.read_text(encoding="utf-8"))
    except toml.TOMLDecodeError as exc:
        raise IniError(f"{path}: {exc}") from None


def _pytest_toml(path: Path) -> _Value:
    """pytest.toml, .pytest.toml: always pytest's; the [pytest] table."""
    return _toml(path).get("pytest", {}).get(INI_KEY, [])


def _pyproject(path: Path, *, native: bool) -> _Value:
    """[tool.pytest.ini_options]; from pytest 9 on also [tool.pytest] itself."""
    tool = _toml(path).get("tool", {}).get("pytest", {})
    if "ini_options" in tool:
        return tool["ini_options"].get(INI_KEY, [])
    if native and tool:
        return tool.get(INI_KEY, [])
    return _NOT_CONFIG


def _readers(major: int) -> list[tuple[str, Callable[[Path], _Value]]]:
    """The names pytest `major` looks for, in its order, each with how it reads one."""
    nine = major >= 9
    toml = [("pytest.toml", _pytest_toml), (".pytest.toml", _pytest_toml)] if nine else []
    return [
        *toml,
        ("pytest.ini", lambda p: _dedicated_ini(p, always=True)),
        (".pytest.ini", lambda p: _dedicated_ini(p, always=nine)),
        ("pyproject.toml", lambda p: _pyproject(p, native=nine)),
        ("tox.ini", lambda p: _shared_ini(p, "pytest")),
        ("setup.cfg", lambda p: _shared_ini(p, "tool:pytest")),
    ]


def _lines(value: _Value) -> list[str]:
    """As pytest's `linelist`: a text is its non-blank lines, stripped; a list as it is."""
    if isinstance(value, str):
        return [line.strip() for line in value.split("\n") if line.strip()]
    return [str(v) for v in value]


def ini_ignores(start: Path) -> tuple[list[str], str | None]:
    """`hl_diff_ignore` from the pytest configuration file, and that file's name."""
    readers = _readers(_pytest_major())
    for directory in (start.resolve(), *start.resolve().parents):
        for name, read in readers:
            path = directory / name
            if path.is_file():
                value = read(path)
                if value is not _NOT_CONFIG:
                    return _lines(value), str(path)
    return [], None
