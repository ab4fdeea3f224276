"""Inline SVG charts: ticks, bands, thresholds, and deterministic output."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dagstorm.reports.charts.chart import SMALL, Band, Chart, Series
from dagstorm.reports.charts.svg import nice_ticks, render_chart


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


def test_categorical_axis_labels_the_last_category_and_stays_inside() -> None:
    days = tuple(f"11-{d:02d}" for d in range(10, 22))  # 12 categories: too many to label all
    chart = Chart(
        "t",
        "%",
        (
            Series(
                "runs",
                tuple((float(i), 50.0) for i in range(12)),
                "points",
                titles=tuple(f"run {i}" for i in range(12)),
                ring=True,
            ),
        ),
        x_end=0.0,
        x_categories=days,
        x_label="",
        y_top=100.0,
        frame=SMALL,
        legend=False,
        variant="trend",
    )
    svg = render_chart(chart)
    ticks = re.findall(
        r'<text x="([\d.]+)" y="[\d.]+" text-anchor="middle" class="tick">([^<]*)<', svg
    )
    assert ticks[-1][1] == "11-21"  # the newest always
    assert 2 <= len(ticks) < len(days)
    slot = (SMALL.width - SMALL.left - SMALL.right) / len(days)
    for x, label in ticks:  # each label over the middle of its category's slot
        assert float(x) == pytest.approx(SMALL.left + slot * (days.index(label) + 0.5), abs=0.06)
    assert [float(cx) for cx in re.findall(r'cx="([\d.]+)"', svg)] == [
        pytest.approx(SMALL.left + slot * (i + 0.5), abs=0.06) for i in range(12)
    ]
    assert "<title>run 11</title>" in svg and 'class="dots ring"' in svg
    y_labels = re.findall(r'text-anchor="end" class="tick">([^<]*)<', svg)
    assert y_labels[-1] == "100"  # the fixed top, not 150
    assert 'class="legend"' not in svg and "wall time since start" not in svg
    assert 'class="chart-box trend"' in svg and 'class="chart trend"' in svg


def test_default_point_titles_name_the_series_value_and_time() -> None:
    chart = Chart("t", "y", (Series("lag", ((90.0, 1500.0),), "points"),), 120.0)
    assert "<title>lag: 1500 at 1m30s</title>" in render_chart(chart)


def test_every_line_point_has_a_hover_title_up_to_the_cap() -> None:
    from dagstorm.reports.charts.svg import HOVER_POINTS

    few = Chart(
        title="t",
        y_label="y",
        series=(Series("lag", ((0, 1.0), (30, 2.5), (60, 0.00005))),),
        x_end=60.0,
    )
    svg = render_chart(few)
    hover = re.search(r'<g[^>]*class="hover"[^>]*>(.*?)</g>', svg, re.S)
    assert hover is not None
    assert re.findall(r"<title>(.*?)</title>", hover.group(1)) == [
        "lag: 1 at 0s",
        "lag: 2.5 at 30s",
        "lag: 0.00005 at 1m",
    ]
    values = [(float(i), float(i % 7)) for i in range(500)]
    values[333] = (333.0, 99.0)  # the peak is always hoverable
    many = render_chart(
        Chart(title="t", y_label="y", series=(Series("n", tuple(values)),), x_end=500.0)
    )
    hover = re.search(r'<g[^>]*class="hover"[^>]*>(.*?)</g>', many, re.S)
    assert hover is not None
    titles = re.findall(r"<title>(.*?)</title>", hover.group(1))
    # A long line is read through the readout strips; its own dots mark its peak,
    # its lowest point and its last one.
    assert titles == ["n: 0 at 0s", "n: 99 at 5m33s", "n: 2 at 8m19s"]
    assert len(_readouts(many)) > HOVER_POINTS


def _readouts(svg: str) -> list[str]:
    group = re.search(r'<g[^>]*class="readout"[^>]*>(.*?)</g>', svg, re.S)
    return [] if group is None else re.findall(r"<title>(.*?)</title>", group.group(1))


def test_hovering_anywhere_on_a_long_line_reads_every_line_there() -> None:
    from dagstorm.reports.charts.svg import READOUT_STRIPS

    tries = tuple((float(t), float(t // 10)) for t in range(0, 600, 2))  # 300 points
    running = tuple((float(t), 3.0) for t in range(300, 600, 2))  # starts at 5m
    chart = Chart(
        title="t",
        y_label="y",
        series=(Series("tries", tries), Series("running", running, style="step")),
        x_end=600.0,
        bands=(Band(100.0, 200.0, "broker-down", "fault"),),
    )
    titles = _readouts(render_chart(chart))
    assert len(titles) == READOUT_STRIPS  # one per strip: every strip has a value
    # Strip 15 of 60 is centred on 155 s: the last tries point there is t = 154 → 15.
    assert titles[15] == "2m35s: tries 15 (fault broker-down)"
    # From 5 min on both lines have a value; the last strip reads both.
    assert titles[-1] == "9m55s: tries 59; running 3"
    assert all("running" not in t for t in titles[:30])


def test_short_lines_and_categories_get_no_readout_strips() -> None:
    short = Chart("t", "y", (Series("n", tuple((float(i), 1.0) for i in range(40))),), 40.0)
    assert _readouts(render_chart(short)) == []  # every point has its own hover dot
    many = tuple((float(i), 1.0) for i in range(200))
    trend = Chart("t", "y", (Series("n", many),), 0.0, x_categories=tuple(map(str, range(200))))
    assert _readouts(render_chart(trend)) == []
