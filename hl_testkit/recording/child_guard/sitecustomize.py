"""hl-testkit's network guard for child Python processes (`--hl-guard-children`).

This directory is put first on PYTHONPATH, with the policy in
HL_TESTKIT_CHILD_GUARD, for the processes a test starts: Python imports
`sitecustomize` as it starts, before the child's own code. Without the variable,
or without hl-testkit importable (another Python), nothing is guarded. Then the
`sitecustomize` this one hides (a distribution's or a virtualenv's) runs as it
would have.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys


def _guard() -> None:
    if not os.environ.get("HL_TESTKIT_CHILD_GUARD"):
        return
    try:
        from hl_testkit.recording.network import guard_child_process
    except ImportError:  # a Python without hl-testkit: documented as not guarded
        return
    guard_child_process()


def _chain() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


_guard()
_chain()
