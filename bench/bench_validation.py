"""How long validating a sessions body takes: fast path (`is_valid`) vs full report.

    .venv/bin/python bench/bench_validation.py [--quick]

For each body: the median and the spread (25th-75th percentile) in µs of
  is_valid     yes/no, stops at the first violation (the fast path's question)
  iter_errors  jsonschema's full error list, unsorted
  check        SchemaSet.check: is_valid, then the full report only if invalid
  validate     SchemaSet.validate: the sorted, detailed report
and the ratio of each to is_valid. If the optional `jsonschema_rs` (not a
dependency) is importable, its compiled `is_valid` is measured too, for
comparison. Runs in well under 30 s.
"""

from __future__ import annotations

import argparse
import copy
import gc
import importlib
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from hl_testkit.schemas import SchemaSet


def session(n: int = 1, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"sesh_{n:024x}",
        "projects": [{"id": "pr_demo", "name": "Demo assistant"}],
        "datapoints_count": 3,
        "created_at": "2024-05-01T12:34:56.789Z",
        "reference_id": f"conversation-{n}",
        "first_inputs": {"question": "How do I reset my password?"},
        "last_output": "You're welcome.",
    }
    body.update(changes)
    return body


def page(records: int = 100) -> dict[str, Any]:
    return {
        "records": [session(n) for n in range(records)],
        "page": 1,
        "size": records,
        "total": 250,
    }


def invalid_session() -> dict[str, Any]:
    return session(id=42, created_at="not-a-date", datapoints_count=-1)


def invalid_page() -> dict[str, Any]:
    body = page()
    body["records"][57] = invalid_session()  # one bad record among 100
    return body


def _all_errors(validator: Any, body: Any) -> list[Any]:
    return list(validator.iter_errors(body))


def measure(fn: Callable[[], object], budget: float) -> list[float]:
    """Per-call times in µs: batches of calls for `budget` seconds, at least 25 samples."""
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    batch = max(1, int(0.002 / once))  # ~2 ms a sample keeps timer noise out
    samples: list[float] = []
    gc_was = gc.isenabled()
    gc.disable()
    try:
        deadline = time.perf_counter() + budget
        while len(samples) < 25 or time.perf_counter() < deadline:
            t0 = time.perf_counter()
            for _ in range(batch):
                fn()
            samples.append((time.perf_counter() - t0) / batch * 1e6)
    finally:
        if gc_was:
            gc.enable()
    return samples


def spread(samples: list[float]) -> tuple[float, float, float]:
    q1, median, q3 = statistics.quantiles(samples, n=4)
    return median, q1, q3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a shorter run (about 5 s)")
    args = parser.parse_args(argv)
    budget = 0.2 if args.quick else 0.6

    schemas = SchemaSet.default()
    cases: list[tuple[str, str, Any]] = [
        ("valid session", "session", session()),
        ("valid page of 100", "session_page", page()),
        ("invalid session", "session", invalid_session()),
        ("invalid page (1 bad of 100)", "session_page", invalid_page()),
    ]
    try:
        rs: Any = importlib.import_module("jsonschema_rs")
    except ImportError:
        rs = None
    rs_validators: dict[str, Any] = {}
    if rs is not None:
        rs_registry = rs.Registry(
            [(schemas.schema(n)["$id"], schemas.schema(n)) for n in schemas.names]
        )
        rs_validators = {
            n: rs.Draft202012Validator(
                schemas.schema(n), registry=rs_registry, validate_formats=True
            )
            for n in schemas.names
        }

    print(f"python {sys.version.split()[0]}; µs per call: median [25th-75th percentile]")
    header = f"{'body':<28} {'method':<22} {'median':>10}  {'spread':>19}  {'÷ is_valid':>10}"
    print(header)
    print("-" * len(header))
    for label, name, body in cases:
        validator = schemas.validator(name)
        body = copy.deepcopy(body)
        expect_valid = label.startswith("valid")
        assert schemas.is_valid(name, body) is expect_valid, label
        assert (schemas.check(name, body) == []) is expect_valid, label
        methods: list[tuple[str, Callable[[], object]]] = [
            ("is_valid", partial(validator.is_valid, body)),
            ("iter_errors (list)", partial(_all_errors, validator, body)),
            ("check (fast path)", partial(schemas.check, name, body)),
            ("validate (full)", partial(schemas.validate, name, body)),
        ]
        if rs_validators:
            rs_validator = rs_validators[name]
            assert rs_validator.is_valid(body) is expect_valid, label
            methods.append(("jsonschema_rs is_valid", partial(rs_validator.is_valid, body)))
        base = None
        for method, fn in methods:
            median, q1, q3 = spread(measure(fn, budget))
            base = base or median
            print(
                f"{label:<28} {method:<22} {median:>10.1f}  "
                f"[{q1:>8.1f}-{q3:>8.1f}]  {median / base:>9.2f}x"
            )
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
