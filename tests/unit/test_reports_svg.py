"""Inline SVG charts: ticks, bands, thresholds, and deterministic output."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dagstorm.reports.svg import Band, Chart, Series, nice_ticks, render_chart


def test_nice_ticks() -> None:
    assert nice_ticks(0, 10) == [0, 2, 4, 6, 8, 10]
    assert nice_ticks(0, 0.33) == [0, 0.1, 0.2, 0.3, 0.4]
    assert nice_ticks(0, 7) == [0, 2, 4, 6, 8]
    assert nice_ticks(0, 0) == [0]


@given(st.floats(min_value=1e-6, max_value=1e12))
def test_nice_ticks_cover_the_range(high: float) -> None:
    ticks = nice_ticks(0.0, high)
    assert ticks[0] <= 0.0
    assert ticks[-1] >= high * (1 - 1e-9)
    assert len(ticks) <= 12


def test_chart_has_bands_threshold_and_points() -> None:
    chart = Chart(
        title="t",
        y_label="y",
        series=(Series("a", ((0.0, 1.0), (60.0, 2.0))), Series("b", ((30.0, 5.0),), "points")),
        x_end=120.0,
        bands=(Band(0, 60, "warm-up", "phase"), Band(40, 80, "broker kill", "fault")),
        threshold=(4.0, "SLA"),
    )
    svg = render_chart(chart)
    assert 'class="phase"' in svg and 'class="fault"' in svg
    assert 'class="threshold"' in svg
    assert "<polyline" in svg and "<circle" in svg
    assert "fault window: broker kill" in svg
    assert render_chart(chart) == svg


def test_non_finite_values_are_dropped() -> None:
    chart = Chart("t", "y", (Series("a", ((0.0, float("inf")), (1.0, float("nan")))),), 10.0)
    assert "<polyline" not in render_chart(chart)


def test_a_single_sample_is_drawn_as_a_dot() -> None:
    chart = Chart("t", "y", (Series("a", ((30.0, 5.0),)),), 60.0)
    assert "<circle" in render_chart(chart)
