"""Quantiles (nearest rank): known values, the defining property, and one definition.

The weighted and histogram variants must equal the plain quantile of the expanded
data; the StatsD, Kafka and Locust figures and the analysis all rely on that.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dagstorm.core.quantiles import METHOD, histogram_quantile, quantile, weighted_quantile

QS = (0.0, 0.01, 0.05, 0.07, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0)


def test_known_values() -> None:
    values = [15, 20, 35, 40, 50]
    assert quantile(values, 0.05) == 15
    assert quantile(values, 0.30) == 20
    assert quantile(values, 0.40) == 20
    assert quantile(values, 0.50) == 35
    assert quantile(values, 1.00) == 50
    assert quantile(values, 0.0) == 15
    assert quantile([], 0.5) is None
    assert quantile([math.nan], 0.5) is None


def test_it_is_numpys_inverted_cdf() -> None:
    values = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
    for q in (0.1, 0.5, 0.95):
        assert quantile(values, q) == np.quantile(values, q, method=METHOD)


def test_the_rank_is_the_exact_share_not_a_rounded_product() -> None:
    # 0.07 × 100 is 7.000000000000001 in floating point; 7 % of 100 values is the 7th.
    assert quantile(range(100), 0.07) == 6.0


def test_infinity_is_an_ordinary_value() -> None:
    assert quantile([60.0, math.inf], 0.95) == math.inf
    assert quantile([60.0] * 19 + [math.inf], 0.95) == 60.0


def test_nan_is_dropped() -> None:
    assert quantile([1.0, math.nan, 3.0], 0.5) == 1.0
    assert weighted_quantile([math.nan, 2.0], [5, 1], 0.5) == 2.0


def test_weights_count_each_value() -> None:
    values = [10.0, 20.0, 30.0]
    assert weighted_quantile(values, [1, 98, 1], 0.5) == 20.0
    assert weighted_quantile(values, [1, 1, 98], 0.5) == 30.0
    assert weighted_quantile(values, [1, 1, 1], 0.99) == 30.0
    assert weighted_quantile(values, [0, 0, 0], 0.5) is None
    assert histogram_quantile({40: 3, 90: 1}, 0.75) == 40.0
    assert histogram_quantile({40: 3, 90: 1}, 0.76) == 90.0
    assert histogram_quantile({}, 0.5) is None


@pytest.mark.parametrize(
    ("weights", "q"), [([1, -1], 0.5), ([1, math.inf], 0.5), ([1], 0.5), ([1, 1], 1.5)]
)
def test_bad_input_is_refused(weights: list[float], q: float) -> None:
    with pytest.raises(ValueError):
        weighted_quantile([1.0, 2.0], weights, q)


@settings(deadline=None)
@given(
    st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=50),
    st.floats(min_value=0.01, max_value=1.0),
)
def test_an_observed_value_with_share_q_at_or_below(values: list[float], q: float) -> None:
    result = quantile(values, q)
    assert result in values
    at_or_below = sum(1 for v in values if v <= result)
    assert at_or_below >= q * len(values) - 1e-9
    below = sum(1 for v in values if v < result)
    assert below < q * len(values) + 1e-9


@settings(deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(allow_nan=False, allow_infinity=True, width=32),
            st.integers(min_value=0, max_value=40),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_weighted_equals_plain_on_the_expanded_values(pairs: list[tuple[float, int]]) -> None:
    values = [v for v, _ in pairs]
    weights = [w for _, w in pairs]
    expanded = [v for v, w in pairs for _ in range(w)]
    for q in QS:
        assert weighted_quantile(values, weights, q) == quantile(expanded, q)


@settings(deadline=None)
@given(st.dictionaries(st.integers(0, 10_000), st.integers(0, 50), max_size=40))
def test_histogram_equals_plain_on_the_expanded_values(histogram: dict[int, int]) -> None:
    expanded = [float(v) for v, n in histogram.items() for _ in range(n)]
    for q in QS:
        assert histogram_quantile(histogram, q) == quantile(expanded, q)
