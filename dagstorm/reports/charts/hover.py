"""Hover readings of a chart: the dots on a line's points and the readout strips.

Both are SVG ``<title>`` texts the browser shows as a tooltip (no script): a dot on
each point of a short line (or on a long line's spread-out, highest, lowest and last
points), and on a time chart whose lines are longer than their dots, invisible strips
across the plot that read every line's value at that time.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

from dagstorm.analysis.texts import plain_number
from dagstorm.core.durations import duration_text
from dagstorm.reports.charts.chart import Chart
from dagstorm.reports.markup import Markup, el, num

__all__ = ["HOVER_POINTS", "READOUT_STRIPS", "hover_points", "readouts", "value_label"]

#: Hover dots per line at most (each is a ``<circle>`` with a ``<title>``).
HOVER_POINTS = 40
#: Readout strips across a time chart whose lines have more points than hover dots:
#: one ``<rect>`` per strip, its ``<title>`` every line's value there (the lines then
#: keep hover dots only on their highest, lowest and last points).
READOUT_STRIPS = 60


def value_label(value: float, digits: int = 6) -> str:
    """A tick or hover label to ``digits`` significant digits: ``1.5k``, ``250``, ``0.25``."""
    magnitude = abs(value)
    if magnitude >= 1e9:
        return f"{plain_number(value / 1e9, digits)}G"
    if magnitude >= 1e6:
        return f"{plain_number(value / 1e6, digits)}M"
    if magnitude >= 1e4:
        return f"{plain_number(value / 1e3, digits)}k"
    return plain_number(value, digits).replace(",", "")


def readouts(chart: Chart, x_end: float) -> Markup:
    """Invisible strips across the plot, each titled with every line's value there.

    Only on a time axis, and only where a line has more points than its hover dots
    (:func:`hover_points`) could show. A strip reads each line's last point at or
    before the strip's middle (a line starting later has no value there yet), and
    names the faults there: the strips lie over the fault bands, whose own titles
    they would otherwise hide.
    """
    lines = [
        s for s in chart.series if s.style in ("line", "step") and len(s.points) > HOVER_POINTS
    ]
    if chart.x_categories or not lines:
        return Markup("")
    frame = chart.frame
    plot_w = frame.width - frame.left - frame.right
    plot_h = frame.height - frame.top - frame.bottom
    width = plot_w / READOUT_STRIPS
    finite = [
        sorted((t, v) for t, v in s.points if math.isfinite(t) and math.isfinite(v)) for s in lines
    ]
    strips: list[Markup] = []
    for i in range(READOUT_STRIPS):
        middle = x_end * (i + 0.5) / READOUT_STRIPS
        values = [
            f"{s.name} {value_label(v, 4)}"
            for s, points in zip(lines, finite, strict=True)
            if (v := _value_at(points, middle)) is not None
        ]
        if not values:
            continue
        title = f"{duration_text(round(middle))}: " + "; ".join(values)
        around = [
            f"fault {b.label}"
            for b in chart.bands
            if b.kind == "fault" and b.start <= middle < b.end
        ]
        if around:
            title += f" ({', '.join(around)})"
        strips.append(
            el(
                "rect",
                el("title", title),
                x=num(frame.left + i * width),
                y=frame.top,
                width=num(width),
                height=plot_h,
            )
        )
    return el("g", *strips, class_="readout")


def _value_at(points: Sequence[tuple[float, float]], t: float) -> float | None:
    """The value of the last of the (sorted) ``points`` at or before ``t``; None if none."""
    index = bisect.bisect_right(points, (t, math.inf)) - 1
    return points[index][1] if index >= 0 else None


def hover_points(
    points: Sequence[tuple[float, float, str]], spread: int = HOVER_POINTS
) -> list[tuple[float, float, str]]:
    """A line's hover dots: every point of a short line, else ``spread`` and the extremes.

    A line of up to :data:`HOVER_POINTS` points has a dot on each; a longer one on
    ``spread`` points evenly spread (a dot for every point would double a report's
    size) and on its highest, lowest and last points.
    """
    if len(points) <= HOVER_POINTS:
        return list(points)
    step = len(points) / max(spread, 1)
    keep = {int(i * step) for i in range(spread)}
    values = [v for _, v, _ in points]
    keep.update((values.index(max(values)), values.index(min(values)), len(points) - 1))
    return [points[i] for i in sorted(keep)]
