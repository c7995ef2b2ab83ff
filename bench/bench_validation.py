"""How long validating a sessions body takes: the hot path vs jsonschema alone.

    .venv/bin/python bench/bench_validation.py [--quick]

For a session body and a page of 100 records, valid and invalid (one bad
record of 100), the median and the spread (25th-75th percentile) in µs of

  check          SchemaSet.check: what hl-testkit runs on every response --
                 the compiled yes/no (jsonschema-rs) and, only for an invalid
                 body, the full report (every violation, with its JSON path)
  jsonschema     jsonschema's own `is_valid` (what the yes/no cost before)
  full report    SchemaSet.validate: jsonschema's sorted, detailed report

and the ratio of jsonschema's `is_valid` to `check`. Runs in well under 30 s.
"""

from __future__ import annotations

import argparse
import copy
import sys
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

from hl_testkit.contract.schemas import SchemaSet


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
    # A count as a string: the default profile (no stricter than the contract) no longer
    # refuses -1, which this bench used before, and stopped with "expected 3 violations".
    return session(id=42, created_at="not-a-date", datapoints_count="3")


def invalid_page() -> dict[str, Any]:
    body = page()
    body["records"][57] = invalid_session()  # one bad record among 100
    return body


CASES: list[tuple[str, str, Any, int]] = [  # label, schema, body, violations expected
    ("valid session", "session", session(), 0),
    ("valid page of 100", "session_page", page(), 0),
    ("invalid session", "session", invalid_session(), 3),
    ("invalid page (1 bad of 100)", "session_page", invalid_page(), 3),
]


def _timed(fn: Any, budget: float) -> c.Stat:
    size = c.batch_size(fn, target=0.002)

    def batch() -> int:
        for _ in range(size):
            fn()
        return size

    return c.sample(batch, budget=budget, min_samples=25, max_samples=10_000)


def run(quick: bool = False) -> dict[str, Any]:
    budget = 0.3 if quick else 1.0
    schemas = SchemaSet.default()
    rows: list[list[str]] = []
    data: dict[str, Any] = {}
    measured: dict[str, c.Stat] = {}
    for label, name, body, expected in CASES:
        body = copy.deepcopy(body)
        report = schemas.check(name, body)
        if len(report) != expected or schemas.validate(name, body) != report:
            raise RuntimeError(f"{label}: expected {expected} violations, got {report}")
        paths = ", ".join(v.path for v in report)
        methods = {
            "check": partial(schemas.check, name, body),
            "jsonschema is_valid": partial(schemas.validator(name).is_valid, body),
            "full report": partial(schemas.validate, name, body),
        }
        stats = {method: _timed(fn, budget) for method, fn in methods.items()}
        measured[label] = stats["check"]
        rows.append(
            [
                label,
                *(c.cell(s) for s in stats.values()),
                c.ratio(stats["jsonschema is_valid"], stats["check"]),
                paths or "-",
            ]
        )
        data[label] = {m: s.as_data() for m, s in stats.items()}
    session_us = measured["valid session"].median
    page_us = measured["valid page of 100"].median
    return {
        "title": "Schema validation, per body",
        "table": c.table(
            [
                "body",
                "check (hl-testkit)",
                "jsonschema is_valid",
                "full report (jsonschema)",
                "jsonschema ÷ check",
                "violations reported by check",
            ],
            rows,
        ),
        "targets": [
            ("≤ 5 µs per valid session body", session_us <= 5, f"{session_us:.2f} µs"),
            ("≤ 100 µs per valid 100-record page", page_us <= 100, f"{page_us:.1f} µs"),
            (
                "an invalid body gets the full report (every violation, JSON path)",
                True,
                "checked above: all 3 violations of the bad session, at their paths",
            ),
        ],
        "data": data,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a shorter run (about 5 s)")
    args = parser.parse_args(argv)
    print(c.show(run(args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
