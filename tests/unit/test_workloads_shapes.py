"""Traffic shapes against their formulas (dagstorm.workloads.traffic.shapes); no clock, no sleep."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from dagstorm.workloads.traffic.shapes import (
    DEFAULT_PROFILE,
    Diurnal,
    PoissonArrivals,
    PoissonBursts,
    Product,
    Ramp,
    Sawtooth,
    Shape,
    ShapeLike,
    Spike,
    SquareWave,
    Steady,
    Sum,
    Weekly,
    ad_traffic,
)

HOUR, DAY = 3600.0, 86_400.0
SHAPE = TypeAdapter(Shape)


def test_steady() -> None:
    assert Steady(level=2.5).rate_at(123.0) == 2.5


def test_diurnal_hits_profile_points_and_interpolates() -> None:
    shape = Diurnal()
    mean = sum(DEFAULT_PROFILE) / 24
    for hour in range(24):
        assert shape.rate_at(hour * HOUR) == pytest.approx(DEFAULT_PROFILE[hour] / mean)
    halfway = (DEFAULT_PROFILE[4] + DEFAULT_PROFILE[5]) / 2 / mean
    assert shape.rate_at(4.5 * HOUR) == pytest.approx(halfway)
    assert shape.rate_at(3 * HOUR + DAY) == pytest.approx(shape.rate_at(3 * HOUR))


def test_diurnal_mean_is_one_and_shape_is_realistic() -> None:
    shape = Diurnal()
    values = np.array([shape.rate_at(t) for t in np.arange(0, DAY, 60.0)])
    assert values.mean() == pytest.approx(1.0, abs=1e-3)
    trough, peak = int(values.argmin() * 60 // HOUR), int(values.argmax() * 60 // HOUR)
    assert 2 <= trough <= 6 and 18 <= peak <= 22
    assert values.max() / values.min() > 4


def test_diurnal_start_hour_and_amplitude() -> None:
    assert Diurnal(start_hour=20).rate_at(0) == pytest.approx(Diurnal().rate_at(20 * HOUR))
    assert Diurnal(amplitude=0).rate_at(7777) == 1.0
    half = Diurnal(amplitude=0.5)
    assert half.rate_at(HOUR) - 1 == pytest.approx((Diurnal().rate_at(HOUR) - 1) / 2)


def test_weekly_levels_and_mean() -> None:
    shape = Weekly(weekend=0.5, start_weekday=0)
    norm = 7 / (5 + 2 * 0.5)
    assert shape.rate_at(0) == pytest.approx(norm)
    assert shape.rate_at(5 * DAY + 1) == pytest.approx(0.5 * norm)
    assert shape.rate_at(7 * DAY) == pytest.approx(norm)
    assert np.mean([shape.rate_at(d * DAY) for d in range(7)]) == pytest.approx(1.0)
    assert Weekly(start_weekday=5).rate_at(0) == Weekly().rate_at(5 * DAY)


def test_spike_with_ramps() -> None:
    spike = Spike(at=100, duration=60, factor=5, rise=10, fall=20)
    assert spike.rate_at(99.9) == 1.0
    assert spike.rate_at(100) == 1.0
    assert spike.rate_at(105) == pytest.approx(3.0)
    assert spike.rate_at(130) == 5.0
    assert spike.rate_at(150) == pytest.approx(3.0)
    assert spike.rate_at(160) == 1.0


def test_square_wave() -> None:
    wave = SquareWave(period=10, high=3, low=1, duty=0.3)
    assert [wave.rate_at(t) for t in (0, 2.9, 3, 9.9, 10)] == [3, 3, 1, 1, 3]
    assert SquareWave(period=10, phase=5).rate_at(0) == SquareWave(period=10).rate_at(5)


def test_sawtooth() -> None:
    saw = Sawtooth(period=100, low=1, high=3)
    assert saw.rate_at(0) == 1
    assert saw.rate_at(50) == pytest.approx(2)
    assert saw.rate_at(99.99) == pytest.approx(3, abs=1e-3)
    assert saw.rate_at(100) == 1


def test_ramp_linear_and_staircase() -> None:
    ramp = Ramp(start=1, end=3, begin=100, until=200)
    assert [ramp.rate_at(t) for t in (0, 100, 150, 200, 1e6)] == [1, 1, 2, 3, 3]
    stairs = Ramp(start=0, end=4, begin=0, until=100, steps=4)
    assert [stairs.rate_at(t) for t in (0, 24.9, 25, 60, 99, 100)] == [0, 0, 1, 2, 3, 4]


def test_ramp_needs_order() -> None:
    with pytest.raises(ValidationError, match="until"):
        Ramp(begin=10, until=5)


def test_poisson_arrivals_deterministic_and_unbiased() -> None:
    shape = PoissonArrivals(mean=50, bin_seconds=2, seed=3)
    values = np.array([shape.rate_at(t) for t in np.arange(0, 4000, 2.0)])
    again = PoissonArrivals(mean=50, bin_seconds=2, seed=3)
    assert [again.rate_at(t) for t in (0, 1.9, 2, 777)] == [
        shape.rate_at(0),
        shape.rate_at(0),
        shape.rate_at(2),
        shape.rate_at(777),
    ]
    assert values.mean() == pytest.approx(1.0, abs=0.02)  # sd of the mean: 0.0045
    assert values.std() == pytest.approx(1 / math.sqrt(50), rel=0.1)
    other = PoissonArrivals(mean=50, bin_seconds=2, seed=4)
    assert [other.rate_at(t) for t in range(0, 200, 2)] != list(values[:100])
    assert shape.rate_at(3.0) * 50 == shape.count(1)


def test_poisson_bursts_match_their_starts() -> None:
    shape = PoissonBursts(per_hour=6, duration=60, factor=4, seed=1)
    starts = [s for k in range(-1, 24 * 60) for s in shape.starts(k)]
    assert 24 * 6 * 0.6 < len(starts) < 24 * 6 * 1.4
    for t in np.arange(0, DAY, 7.0):
        inside = any(s <= t < s + 60 for s in starts)
        assert shape.rate_at(float(t)) == (4.0 if inside else 1.0)


def test_composition_by_operators_and_config() -> None:
    diurnal, spike = Diurnal(), Spike(at=3600, duration=600, factor=3)
    product = diurnal * spike
    total = Steady(level=1) + spike
    assert isinstance(product, Product) and isinstance(total, Sum)
    for t in (0.0, 3700.0, 5000.0):
        assert product.rate_at(t) == pytest.approx(diurnal.rate_at(t) * spike.rate_at(t))
        assert total.rate_at(t) == pytest.approx(1 + spike.rate_at(t))
    parsed = SHAPE.validate_python(
        {
            "kind": "product",
            "factors": [
                {"kind": "diurnal"},
                {"kind": "sum", "terms": [{"kind": "steady"}, {"kind": "bursts", "seed": 2}]},
            ],
        }
    )
    assert isinstance(parsed, Product)
    assert isinstance(parsed.factors[1], Sum)
    assert SHAPE.validate_python(product.model_dump()) == product


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "sine"},
        {"kind": "steady", "level": -1},
        {"kind": "steady", "levle": 2},
        {"kind": "spike", "at": 0},
        {"kind": "product", "factors": []},
        {"kind": "diurnal", "profile": [1, 2, 3]},
    ],
)
def test_bad_shape_configs(data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SHAPE.validate_python(data)


def test_ad_traffic_default_and_protocol() -> None:
    shape = ad_traffic(start_hour=0, start_weekday=0)
    assert isinstance(shape, ShapeLike)
    week = [shape.rate_at(t) for t in np.arange(0, 7 * DAY, 600.0)]
    assert np.mean(week) == pytest.approx(1.0, abs=0.01)


_simple = st.one_of(
    st.builds(Steady, level=st.floats(0, 10)),
    st.builds(Diurnal, start_hour=st.floats(0, 23.9), amplitude=st.floats(0, 1)),
    st.builds(Weekly, weekend=st.floats(0, 2), start_weekday=st.integers(0, 6)),
    st.builds(Spike, at=st.floats(0, 1e5), duration=st.floats(1, 1e4), factor=st.floats(0, 20)),
    st.builds(SquareWave, period=st.floats(1, 1e4), duty=st.floats(0, 1)),
    st.builds(Sawtooth, period=st.floats(1, 1e4)),
)


@given(a=_simple, b=_simple, t=st.floats(0, 30 * DAY))
def test_shapes_are_finite_non_negative_and_compose(a: Shape, b: Shape, t: float) -> None:
    for value in (a.rate_at(t), b.rate_at(t)):
        assert math.isfinite(value) and value >= 0
    assert (a * b).rate_at(t) == pytest.approx(a.rate_at(t) * b.rate_at(t))
    assert (a + b).rate_at(t) == pytest.approx(a.rate_at(t) + b.rate_at(t))
