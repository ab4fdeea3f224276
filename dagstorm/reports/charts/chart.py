"""What a chart shows: its series, shaded bands, threshold, size and frame (no drawing).

:func:`~.svg.render_chart` draws a :class:`Chart` as inline SVG; the run's charts
(:mod:`.run_charts`) and the trends (``reports/sections/trends.py``) build them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["PALETTE", "SMALL", "WIDE", "Band", "Chart", "Frame", "Series", "Style"]

#: Colour-blind-safe (Okabe–Ito), in the order series use them.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000", "#f0e442")

Style = Literal["line", "step", "points", "bars"]


@dataclass(frozen=True)
class Frame:
    """A chart's size and the margins around its plot area, in SVG pixels."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    #: About how many y ticks.
    y_ticks: int = 5


#: A chart across the page.
WIDE = Frame(920, 230, 64, 16, 22, 34)
#: A small chart, three to a row (the trends).
SMALL = Frame(300, 150, 50, 12, 12, 26, y_ticks=4)


@dataclass(frozen=True)
class Series:
    """One named series of ``(t, value)`` points; ``t`` in wall seconds since the start.

    On a categorical axis (:attr:`Chart.x_categories`) ``t`` is the category's index.
    """

    name: str
    points: tuple[tuple[float, float], ...]
    style: Style = "line"
    #: A colour from :data:`PALETTE` by default (by position in the chart).
    color: str | None = None
    #: Width of each bar in seconds (``bars`` only, over wall time).
    bar_s: float = 60.0
    #: Hover text of each point, in order (``points``); default: name, value and x.
    titles: tuple[str, ...] = ()
    #: Radius of each point (``points``).
    radius: float = 4.0
    #: Outline the points in the text colour: the ones to look at first.
    ring: bool = False


@dataclass(frozen=True)
class Band:
    """A shaded time range: a phase (grey, alternating) or a fault window (red)."""

    start: float
    end: float
    label: str
    kind: Literal["phase", "fault"]


@dataclass(frozen=True)
class Chart:
    """A chart: series over ``[0, x_end]`` wall seconds (or categories), bands, a threshold."""

    title: str
    y_label: str
    series: tuple[Series, ...]
    x_end: float
    bands: tuple[Band, ...] = ()
    #: ``(value, label)`` of a dashed horizontal line, e.g. the SLA deadline.
    threshold: tuple[float, str] | None = None
    #: Text under the chart: what is plotted and how it was derived.
    note: str = ""
    #: A categorical x axis instead of wall time: the point at x = ``i`` sits over
    #: ``x_categories[i]``, evenly spaced (``x_end`` is then unused).
    x_categories: tuple[str, ...] = ()
    x_label: str = "wall time since start"
    #: A fixed top of the y axis (100 for percentages); None: from the data.
    y_top: float | None = None
    frame: Frame = WIDE
    #: Draw the legend (series and fault windows) above the chart.
    legend: bool = True
    #: One more CSS class of the ``<figure>`` and the ``<svg>`` (e.g. ``trend``).
    variant: str = ""
