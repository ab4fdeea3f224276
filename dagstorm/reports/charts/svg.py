"""Charts as inline SVG: lines, steps, points or bars over wall seconds or categories.

No JavaScript and no library: a chart is a pure function of its :class:`Chart`,
so the report opens offline in any browser and the same input gives the same
bytes. Every point, bar and line point carries a ``<title>``: hovering shows its
value, with no script; a time chart whose lines have more points than hover dots
also gets invisible readout strips across its plot, so hovering anywhere reads
every line's value at that time. Phases and fault windows are shaded bands behind
the data; an optional horizontal threshold (an SLA deadline) is drawn dashed. The x
axis is wall time (the run's charts) or categories evenly spaced (the trends: one
per run).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dagstorm.core.durations import duration_text
from dagstorm.reports.charts.chart import PALETTE, Band, Chart, Frame, Series
from dagstorm.reports.charts.hover import (
    HOVER_POINTS,
    READOUT_STRIPS,
    hover_points,
    readouts,
    value_label,
)
from dagstorm.reports.markup import Markup, el, join, num

__all__ = ["HOVER_POINTS", "READOUT_STRIPS", "nice_ticks", "render_chart", "value_label"]

#: Data → pixels along one axis.
_Scale = Callable[[float], float]
#: Room for one category label (``11-24`` at the tick font size, and a gap).
_CATEGORY_LABEL_PX = 40


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values from at or below ``low`` to at or above ``high`` (1, 2 or 5 × 10ⁿ)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    raw = (high - low) / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step)
    last = math.ceil(high / step - 1e-9)
    return [round(i * step, 10) for i in range(first, last + 1)]


def _time_ticks(x_end: float) -> list[float]:
    """Ticks on whole seconds, minutes or hours, whichever gives about 6–12 of them."""
    for step in (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200):
        if x_end / step <= 12:
            return [i * step for i in range(int(x_end // step) + 1)]
    step = 86400
    return [i * step for i in range(int(x_end // step) + 1)]


@dataclass(frozen=True)
class _XAxis:
    """Where x values go, which get a tick, and how a value reads."""

    scale: _Scale
    ticks: Sequence[float]
    label: Callable[[float], str]


def _x_axis(chart: Chart) -> _XAxis:
    frame = chart.frame
    plot_w = frame.width - frame.left - frame.right
    categories = chart.x_categories
    if categories:
        # Each category is the middle of an equal slot, so no label hangs off an edge.
        slot = plot_w / len(categories)
        fit = max(1, int(plot_w // _CATEGORY_LABEL_PX))
        stride = math.ceil(len(categories) / fit)
        last = len(categories) - 1
        return _XAxis(
            scale=lambda i: frame.left + slot * (i + 0.5),
            # Thinned from the last one backwards, so the newest is always labelled.
            ticks=sorted(range(last, -1, -stride)),
            label=lambda i: categories[min(max(round(i), 0), last)],
        )
    x_end = max(chart.x_end, 1.0)
    return _XAxis(
        scale=lambda t: frame.left + plot_w * min(max(t, 0.0), x_end) / x_end,
        ticks=_time_ticks(x_end),
        label=lambda t: duration_text(round(t)),
    )


def render_chart(chart: Chart) -> Markup:
    """The chart as a ``<figure>`` with an inline ``<svg>``, a legend and its note."""
    frame = chart.frame
    values = [v for s in chart.series for _, v in s.points if math.isfinite(v)]
    if chart.threshold is not None:
        values.append(chart.threshold[0])
    if chart.y_top is not None:
        y_ticks = nice_ticks(0.0, chart.y_top, frame.y_ticks)
        y_top = max(y_ticks[-1], chart.y_top)
    else:
        y_max = max([*values, 0.0]) or 1.0
        y_ticks = nice_ticks(0.0, y_max * 1.05, frame.y_ticks)
        y_top = max(y_ticks[-1], y_max)
    plot_h = frame.height - frame.top - frame.bottom
    x_axis = _x_axis(chart)
    x = x_axis.scale

    def y(v: float) -> float:
        return frame.top + plot_h * (1 - min(max(v, 0.0), y_top) / y_top)

    parts: list[Markup] = [_bands(chart.bands, x, frame)]
    parts.append(_axes(chart, x_axis, y_ticks, y))
    strips = readouts(chart, x_end=max(chart.x_end, 1.0))
    parts.append(strips)
    for index, series in enumerate(chart.series):
        color = series.color or PALETTE[index % len(PALETTE)]
        parts.append(_series(series, color, x_axis, y, extremes_only=bool(strips)))
    if chart.threshold is not None:
        value, label = chart.threshold
        parts.append(
            el(
                "g",
                el(
                    "line",
                    x1=frame.left,
                    x2=frame.width - frame.right,
                    y1=num(y(value)),
                    y2=num(y(value)),
                    class_="threshold",
                ),
                el(
                    "text",
                    label,
                    x=frame.width - frame.right - 4,
                    y=num(y(value) - 4),
                    class_="thr-label",
                    text_anchor="end",
                ),
            )
        )
    variant = f" {chart.variant}" if chart.variant else ""
    svg = el(
        "svg",
        el("title", chart.title),
        *parts,
        viewBox=f"0 0 {frame.width} {frame.height}",
        class_=f"chart{variant}",
        role="img",
        aria_label=chart.title,
    )
    legend = el(
        "div",
        *(
            el("span", el("i", style=f"background:{s.color or PALETTE[i % len(PALETTE)]}"), s.name)
            for i, s in enumerate(chart.series)
        ),
        _fault_key(chart.bands),
        class_="legend",
    )
    caption = el(
        "figcaption",
        el("strong", chart.title),
        legend if chart.legend else "",
        el("p", chart.note, class_="note") if chart.note else "",
    )
    return el("figure", caption, svg, class_=f"chart-box{variant}")


def _fault_key(bands: Sequence[Band]) -> Markup:
    """The legend entry of the fault windows, naming up to three faults."""
    names = list(dict.fromkeys(b.label for b in bands if b.kind == "fault"))
    if not names:
        return Markup("")
    shown = "; ".join(names[:3]) + (f"; +{len(names) - 3} more" if len(names) > 3 else "")
    label = "fault window" if len(names) == 1 else "fault windows"
    return el("span", el("i", class_="fault-key"), f"{label}: {shown}")


def _bands(bands: Sequence[Band], x: _Scale, frame: Frame) -> Markup:
    shapes: list[Markup] = []
    plot_h = frame.height - frame.top - frame.bottom
    phases = [b for b in bands if b.kind == "phase"]
    for index, band in enumerate(phases):
        left, right = x(band.start), x(band.end)
        shapes.append(
            el(
                "rect",
                el("title", f"phase {band.label}"),
                x=num(left),
                y=frame.top,
                width=num(max(right - left, 0.0)),
                height=num(plot_h),
                class_="phase" if index % 2 == 0 else "phase alt",
            )
        )
        shapes.append(el("text", band.label, x=num(left + 3), y=frame.top - 6, class_="band-label"))
    for band in (b for b in bands if b.kind == "fault"):
        left, right = x(band.start), x(band.end)
        shapes.append(
            el(
                "rect",
                el("title", f"fault: {band.label}"),
                x=num(left),
                y=frame.top,
                width=num(max(right - left, 1.0)),
                height=num(plot_h),
                class_="fault",
            )
        )
    return join(shapes)


def _axes(chart: Chart, x_axis: _XAxis, y_ticks: Sequence[float], y: _Scale) -> Markup:
    frame = chart.frame
    right, bottom = frame.width - frame.right, frame.height - frame.bottom
    items: list[Markup] = []
    for tick in y_ticks:
        items.append(
            el("line", x1=frame.left, x2=right, y1=num(y(tick)), y2=num(y(tick)), class_="grid")
        )
        items.append(
            el(
                "text",
                value_label(tick),
                x=frame.left - 6,
                y=num(y(tick) + 4),
                text_anchor="end",
                class_="tick",
            )
        )
    for tick in x_axis.ticks:
        items.append(
            el(
                "text",
                x_axis.label(tick),
                x=num(x_axis.scale(tick)),
                y=bottom + 16,
                text_anchor="middle",
                class_="tick",
            )
        )
    items.append(el("line", x1=frame.left, x2=right, y1=bottom, y2=bottom, class_="axis"))
    if chart.y_label:
        middle = num(frame.top + (bottom - frame.top) / 2)
        items.append(
            el(
                "text",
                chart.y_label,
                x=12,
                y=middle,
                transform=f"rotate(-90 12 {middle})",
                text_anchor="middle",
                class_="axis-label",
            )
        )
    if chart.x_label:
        items.append(
            el(
                "text",
                chart.x_label,
                x=right,
                y=frame.height - 4,
                text_anchor="end",
                class_="axis-label",
            )
        )
    return join(items)


def _series(
    series: Series, color: str, x_axis: _XAxis, y: _Scale, *, extremes_only: bool = False
) -> Markup:
    x = x_axis.scale
    points = [
        (t, v, _title(series, index, x_axis))
        for index, (t, v) in enumerate(series.points)
        if math.isfinite(t) and math.isfinite(v)
    ]
    if not points:
        return Markup("")
    if series.style == "points" or (series.style in ("line", "step") and len(points) == 1):
        return el(
            "g",
            *(
                el("circle", el("title", title), cx=num(x(t)), cy=num(y(v)), r=f"{series.radius:g}")
                for t, v, title in points
            ),
            fill=color,
            class_="dots ring" if series.ring else "dots",
        )
    if series.style == "bars":
        return el(
            "g",
            *(
                el(
                    "rect",
                    el("title", title),
                    x=num(x(t) + 0.5),
                    y=num(y(v)),
                    width=num(max(x(t + series.bar_s) - x(t) - 1.0, 1.0)),
                    height=num(max(y(0.0) - y(v), 0.0)),
                )
                for t, v, title in points
            ),
            fill=color,
            fill_opacity="0.75",
        )
    coords: list[str] = []
    previous: float | None = None
    for t, v, _ in points:
        if series.style == "step" and previous is not None:
            coords.append(f"{num(x(t))},{num(y(previous))}")
        coords.append(f"{num(x(t))},{num(y(v))}")
        previous = v
    line = el(
        "polyline", el("title", series.name), points=" ".join(coords), stroke=color, class_="line"
    )
    # One invisible dot per point, shown on hover with its value: the browser's own
    # tooltip (the <title>), so no script is needed and nothing loads.
    hover = el(
        "g",
        *(
            el("circle", el("title", title), cx=num(x(t)), cy=num(y(v)), r="4")
            for t, v, title in hover_points(points, 0 if extremes_only else HOVER_POINTS)
        ),
        fill=color,
        class_="hover",
    )
    return join([line, hover])


def _title(series: Series, index: int, x_axis: _XAxis) -> str:
    """The hover text of a (finite) point: the series' own, or name, value and x."""
    if index < len(series.titles):
        return series.titles[index]
    t, v = series.points[index]
    return f"{series.name}: {value_label(v, 4)} at {x_axis.label(t)}"
