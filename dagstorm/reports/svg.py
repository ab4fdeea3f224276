"""Time charts as inline SVG: lines, steps, points or bars over wall seconds.

No JavaScript and no library: a chart is a pure function of its :class:`Chart`,
so the report opens offline in any browser and the same input gives the same
bytes. Phases and fault windows are shaded bands behind the data; an optional
horizontal threshold (an SLA deadline) is drawn dashed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from dagstorm.reports.markup import Markup, el, join, num

__all__ = ["PALETTE", "Band", "Chart", "Series", "nice_ticks", "render_chart"]

WIDTH, HEIGHT = 920, 230
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 22, 34

#: Colour-blind-safe (Okabe–Ito), in the order series use them.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000", "#f0e442")

Style = Literal["line", "step", "points", "bars"]
#: Data → pixels along one axis.
_Scale = Callable[[float], float]


@dataclass(frozen=True)
class Series:
    """One named series of ``(t, value)`` points; ``t`` in wall seconds since the start."""

    name: str
    points: tuple[tuple[float, float], ...]
    style: Style = "line"
    #: A colour from :data:`PALETTE` by default (by position in the chart).
    color: str | None = None
    #: Width of each bar in seconds (``bars`` only).
    bar_s: float = 60.0


@dataclass(frozen=True)
class Band:
    """A shaded time range: a phase (grey, alternating) or a fault window (red)."""

    start: float
    end: float
    label: str
    kind: Literal["phase", "fault"]


@dataclass(frozen=True)
class Chart:
    """A time chart: series over ``[0, x_end]`` wall seconds, with bands and a threshold."""

    title: str
    y_label: str
    series: tuple[Series, ...]
    x_end: float
    bands: tuple[Band, ...] = ()
    #: ``(value, label)`` of a dashed horizontal line, e.g. the SLA deadline.
    threshold: tuple[float, str] | None = None
    #: Text under the chart: what is plotted and how it was derived.
    note: str = ""


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


def _time_label(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m{secs:02d}" if secs else f"{minutes}m"
    return f"{secs}s"


def value_label(value: float) -> str:
    """A tick label: ``1.5k``, ``250``, ``0.25``."""
    magnitude = abs(value)
    if magnitude >= 1e9:
        return f"{value / 1e9:g}G"
    if magnitude >= 1e6:
        return f"{value / 1e6:g}M"
    if magnitude >= 1e4:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


def render_chart(chart: Chart) -> Markup:
    """The chart as a ``<figure>`` with an inline ``<svg>``, a legend and its note."""
    x_end = max(chart.x_end, 1.0)
    values = [v for s in chart.series for _, v in s.points if math.isfinite(v)]
    if chart.threshold is not None:
        values.append(chart.threshold[0])
    y_max = max([*values, 0.0]) or 1.0
    y_ticks = nice_ticks(0.0, y_max * 1.05)
    y_top = max(y_ticks[-1], y_max)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + plot_w * min(max(t, 0.0), x_end) / x_end

    def y(v: float) -> float:
        return TOP + plot_h * (1 - min(max(v, 0.0), y_top) / y_top)

    parts: list[Markup] = [_bands(chart.bands, x, plot_h)]
    parts.append(_axes(_time_ticks(x_end), y_ticks, x, y, chart.y_label))
    for index, series in enumerate(chart.series):
        color = series.color or PALETTE[index % len(PALETTE)]
        parts.append(_series(series, color, x, y))
    if chart.threshold is not None:
        value, label = chart.threshold
        parts.append(
            el(
                "g",
                el(
                    "line",
                    x1=LEFT,
                    x2=WIDTH - RIGHT,
                    y1=num(y(value)),
                    y2=num(y(value)),
                    class_="threshold",
                ),
                el(
                    "text",
                    label,
                    x=WIDTH - RIGHT - 4,
                    y=num(y(value) - 4),
                    class_="thr-label",
                    text_anchor="end",
                ),
            )
        )
    svg = el(
        "svg",
        el("title", chart.title),
        *parts,
        viewBox=f"0 0 {WIDTH} {HEIGHT}",
        class_="chart",
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
        legend,
        el("p", chart.note, class_="note") if chart.note else "",
    )
    return el("figure", caption, svg, class_="chart-box")


def _fault_key(bands: Sequence[Band]) -> Markup:
    """The legend entry of the fault windows, naming up to three faults."""
    names = list(dict.fromkeys(b.label for b in bands if b.kind == "fault"))
    if not names:
        return Markup("")
    shown = "; ".join(names[:3]) + (f"; +{len(names) - 3} more" if len(names) > 3 else "")
    label = "fault window" if len(names) == 1 else "fault windows"
    return el("span", el("i", class_="fault-key"), f"{label}: {shown}")


def _bands(bands: Sequence[Band], x: _Scale, plot_h: float) -> Markup:
    shapes: list[Markup] = []
    phases = [b for b in bands if b.kind == "phase"]
    for index, band in enumerate(phases):
        left, right = x(band.start), x(band.end)
        shapes.append(
            el(
                "rect",
                el("title", f"phase {band.label}"),
                x=num(left),
                y=TOP,
                width=num(max(right - left, 0.0)),
                height=num(plot_h),
                class_="phase" if index % 2 == 0 else "phase alt",
            )
        )
        shapes.append(el("text", band.label, x=num(left + 3), y=TOP - 6, class_="band-label"))
    for band in (b for b in bands if b.kind == "fault"):
        left, right = x(band.start), x(band.end)
        shapes.append(
            el(
                "rect",
                el("title", f"fault: {band.label}"),
                x=num(left),
                y=TOP,
                width=num(max(right - left, 1.0)),
                height=num(plot_h),
                class_="fault",
            )
        )
    return join(shapes)


def _axes(
    x_ticks: Sequence[float], y_ticks: Sequence[float], x: _Scale, y: _Scale, y_label: str
) -> Markup:
    items: list[Markup] = []
    for tick in y_ticks:
        items.append(
            el("line", x1=LEFT, x2=WIDTH - RIGHT, y1=num(y(tick)), y2=num(y(tick)), class_="grid")
        )
        items.append(
            el(
                "text",
                value_label(tick),
                x=LEFT - 6,
                y=num(y(tick) + 4),
                text_anchor="end",
                class_="tick",
            )
        )
    for tick in x_ticks:
        items.append(
            el(
                "text",
                _time_label(tick),
                x=num(x(tick)),
                y=HEIGHT - BOTTOM + 16,
                text_anchor="middle",
                class_="tick",
            )
        )
    items.append(
        el("line", x1=LEFT, x2=WIDTH - RIGHT, y1=HEIGHT - BOTTOM, y2=HEIGHT - BOTTOM, class_="axis")
    )
    items.append(
        el(
            "text",
            y_label,
            x=12,
            y=num(TOP + (HEIGHT - TOP - BOTTOM) / 2),
            transform=f"rotate(-90 12 {num(TOP + (HEIGHT - TOP - BOTTOM) / 2)})",
            text_anchor="middle",
            class_="axis-label",
        )
    )
    items.append(
        el(
            "text",
            "wall time since start",
            x=WIDTH - RIGHT,
            y=HEIGHT - 4,
            text_anchor="end",
            class_="axis-label",
        )
    )
    return join(items)


def _series(series: Series, color: str, x: _Scale, y: _Scale) -> Markup:
    points = [(t, v) for t, v in series.points if math.isfinite(t) and math.isfinite(v)]
    if not points:
        return Markup("")
    if series.style == "points" or (series.style in ("line", "step") and len(points) == 1):
        return el(
            "g",
            *(
                el(
                    "circle",
                    el("title", f"{series.name}: {value_label(v)} at {_time_label(t)}"),
                    cx=num(x(t)),
                    cy=num(y(v)),
                    r=4,
                )
                for t, v in points
            ),
            fill=color,
            class_="dots",
        )
    if series.style == "bars":
        return el(
            "g",
            *(
                el(
                    "rect",
                    el("title", f"{series.name}: {value_label(v)} at {_time_label(t)}"),
                    x=num(x(t) + 0.5),
                    y=num(y(v)),
                    width=num(max(x(t + series.bar_s) - x(t) - 1.0, 1.0)),
                    height=num(max(y(0.0) - y(v), 0.0)),
                )
                for t, v in points
            ),
            fill=color,
            fill_opacity="0.75",
        )
    coords: list[str] = []
    previous: float | None = None
    for t, v in points:
        if series.style == "step" and previous is not None:
            coords.append(f"{num(x(t))},{num(y(previous))}")
        coords.append(f"{num(x(t))},{num(y(v))}")
        previous = v
    return el(
        "polyline", el("title", series.name), points=" ".join(coords), stroke=color, class_="line"
    )
