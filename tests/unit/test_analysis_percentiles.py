"""Nearest-rank percentiles: known values and the defining property."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from dagstorm.analysis.percentiles import Percentiles, nearest_rank


def test_known_values() -> None:
    values = [15, 20, 35, 40, 50]
    assert nearest_rank(values, 0.05) == 15
    assert nearest_rank(values, 0.30) == 20
    assert nearest_rank(values, 0.40) == 20
    assert nearest_rank(values, 0.50) == 35
    assert nearest_rank(values, 1.00) == 50
    assert nearest_rank([], 0.5) is None


def test_infinity_is_an_ordinary_value() -> None:
    assert nearest_rank([60.0, math.inf], 0.95) == math.inf
    assert nearest_rank([60.0] * 19 + [math.inf], 0.95) == 60.0


def test_summary_drops_nan() -> None:
    p = Percentiles.of([1.0, float("nan"), 3.0])
    assert (p.count, p.p50, p.max) == (2, 1.0, 3.0)


@settings(deadline=None)
@given(
    st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=50),
    st.floats(min_value=0.01, max_value=1.0),
)
def test_nearest_rank_is_an_observed_value_with_q_at_or_below(
    values: list[float], q: float
) -> None:
    result = nearest_rank(values, q)
    assert result in values
    at_or_below = sum(1 for v in values if v <= result)
    assert at_or_below >= q * len(values) - 1e-9
    below = sum(1 for v in values if v < result)
    assert below < q * len(values) + 1e-9
