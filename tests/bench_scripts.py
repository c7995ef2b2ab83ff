"""The benchmark scripts, for tests: bench/ is scripts, not a package, so each is loaded
by its path (once; the scripts put bench/ on sys.path for their own imports)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[1] / "bench"


def load(script: str, name: str) -> Any:
    """bench/`script` as the module `name`."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCH / script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while made
    spec.loader.exec_module(module)
    return module
