"""The instruction counts that decide what the clock cannot (bench/bench_instructions.py):
valgrind's summary read right, a figure as the difference of two processes, and the
count itself deterministic, which is the whole reason to use it."""

from __future__ import annotations

import shutil
import sys
from typing import Any

import pytest

from tests import bench_scripts

SUMMARY = """==4242== Cachegrind, a cache and branch-prediction profiler
==4242== Command: python worker.py
==4242==
==4242== I   refs:      12,022,172,618
"""


b: Any = bench_scripts.load("bench_instructions.py", "bench_instructions")


def test_the_count_is_read_from_valgrinds_summary() -> None:
    assert b.instructions("noise\n" + SUMMARY + "more noise\n") == 12_022_172_618


@pytest.mark.parametrize(
    "stderr",
    ["", "==1== Cachegrind\n", SUMMARY + SUMMARY.replace("4242", "4243")],
    ids=["none", "no summary", "two processes"],
)
def test_anything_but_one_summary_is_refused(stderr: str) -> None:
    with pytest.raises(RuntimeError, match="expected one valgrind summary"):
        b.instructions(stderr)


def test_a_figure_is_the_measured_work_over_its_requests() -> None:
    assert b.per_request(4_000_000, 1_000_000, 1000) == 3000.0
    with pytest.raises(ValueError, match="no measured work"):
        b.per_request(1_000_000, 1_000_000, 1000)


def test_a_target_is_met_at_its_limit_and_missed_past_it() -> None:
    assert b._verdict(1.3e6, 1e6, 1.3)[0] is True
    assert b._verdict(1.31e6, 1e6, 1.3)[0] is False
    assert b._verdict(2.6e6, 2e6, 1.3)[1] == "2.600 M ÷ 2.000 M = 1.300x"


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_the_count_is_the_same_run_after_run_and_sees_the_work() -> None:
    loop = "x = 0\nfor k in range(%d):\n    x += k\n"
    command = [*b.VALGRIND, sys.executable, "-S", "-c"]
    small = [b.counted([*command, loop % 1000]) for _ in range(2)]
    large = b.counted([*command, loop % 101_000])
    assert abs(small[0] - small[1]) <= small[0] * 1e-4  # deterministic to 0.01%
    per_iteration = (large - small[0]) / 100_000
    assert 20 < per_iteration < 2000  # a few hundred instructions per bytecode loop turn


def test_only_a_target_the_clock_cannot_tell_takes_the_counts_verdict() -> None:
    """The rule docs/benchmarks.md states: the clock's MET or NOT MET stands."""
    wall = b.bench_record.target_name(1000)
    clock = {
        "targets": [
            (wall, None, "per-round median 1.23x"),
            ("replay flat", True, "1.09x"),
            ("missed", False, "1.4x"),
        ]
    }
    counts = {
        "targets": [(f"{wall}, in instructions", False, "1.310x")],
        "decides": {wall: (False, "1.310x"), "missed": (True, "0.9x")},
    }
    lines = bench_scripts.load("run.py", "bench_run").target_lines([clock, counts])
    assert lines == [
        f"- NOT MET in instructions, WITHIN NOISE on the clock: {wall} "
        "(instructions: 1.310x; clock: per-round median 1.23x)",
        "- MET: replay flat (1.09x)",
        "- NOT MET: missed (1.4x)",
        f"- NOT MET: {wall}, in instructions (1.310x)",
    ]


def test_the_counts_decide_the_very_targets_the_clock_judges() -> None:
    """A count's verdict reaches a clock's target only by its exact name."""
    replay_names = {b.bench_replay.target_name(*ratio) for ratio in b.REPLAY_PAIRS}
    assert replay_names == {
        "sessions replay ≤ 2.0x dict adapter at every N",
        "hl_cassette + requests replay ≤ 1.0x responses at every N",
    }
    assert b.bench_record.target_name(1000) == (
        "sessions recording at N=1,000 ≤ 1.3x plain requests to the same server"
    )
