"""The benchmarks' verdicts (bench/_common.py): a target is met or missed only when the
run can tell, from each round's paired ratio and a distribution-free interval of its
median."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from tests import bench_scripts

c: Any = bench_scripts.load("_common.py", "bench_common")


@pytest.mark.parametrize("n", [5, 7, 11, 21, 25])
def test_the_interval_covers_the_true_median_as_often_as_it_says(n: int) -> None:
    rng = random.Random(n)
    trials, covered = 4000, 0
    for _ in range(trials):  # an exponential's median is ln 2
        low, high, _ = c.median_interval([rng.expovariate(1.0) for _ in range(n)])
        covered += low <= math.log(2) <= high
    _, _, coverage = c.median_interval(list(range(n)))
    assert coverage >= c.CONFIDENCE
    assert abs(covered / trials - coverage) < 0.02


def test_the_interval_is_the_narrowest_that_keeps_the_confidence() -> None:
    # n = 11: x(3)..x(9) covers 93.5%; x(4)..x(8) would cover only 77.4%.
    assert c.median_interval([float(v) for v in range(1, 12)]) == (3.0, 9.0, 1 - 2 * 67 / 2048)
    # Too few rounds for 90%: the whole range, and the coverage it has.
    assert c.median_interval([1.0, 2.0, 3.0]) == (1.0, 3.0, 0.75)


def test_a_verdict_is_given_only_when_the_interval_is_on_one_side() -> None:
    assert c.verdict([1.1, 1.2, 1.15, 1.22, 1.18, 1.25, 1.12], 1.3)[0] is True
    assert c.verdict([1.4, 1.35, 1.5, 1.38, 1.45, 1.42, 1.36], 1.3)[0] is False
    # A median under the target, but rounds on both sides: the run cannot tell.
    ok, detail = c.verdict([1.2, 1.25, 1.28, 1.29, 1.33, 1.36, 1.4], 1.3)
    assert ok is None
    assert detail == "per-round median 1.29x, 98% interval 1.20-1.40x over 7 rounds"
    assert c.VERDICTS[ok] == "WITHIN NOISE"


def test_several_verdicts_give_the_worst() -> None:
    assert c.worst([True, True]) is True
    assert c.worst([True, None, True]) is None
    assert c.worst([None, False, True]) is False


def test_rounds_are_paired_one_to_one() -> None:
    assert c.paired([2.0, 3.0], [1.0, 2.0]) == [2.0, 1.5]
    with pytest.raises(ValueError, match="unpaired rounds: 2 against 1"):
        c.paired([2.0, 3.0], [1.0])
