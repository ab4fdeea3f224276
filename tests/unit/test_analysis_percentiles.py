"""The p50/p95/p99/max summary (the quantile itself: test_core_quantiles.py)."""

from __future__ import annotations

import math

from dagstorm.analysis.measures.percentiles import Percentiles


def test_summary_drops_nan() -> None:
    p = Percentiles.of([1.0, float("nan"), 3.0])
    assert (p.count, p.p50, p.max) == (2, 1.0, 3.0)


def test_summary_of_twenty_delays() -> None:
    p = Percentiles.of([float(v) for v in range(1, 20)] + [math.inf])
    assert (p.count, p.p50, p.p95, p.p99, p.max) == (20, 10.0, 19.0, math.inf, math.inf)


def test_summary_of_nothing_is_none() -> None:
    p = Percentiles.of([])
    assert (p.count, p.p50, p.p95, p.p99, p.max) == (0, None, None, None, None)
