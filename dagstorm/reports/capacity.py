"""The report's capacity table: generated traffic, measured and extrapolated.

Only draws: the figures are the analysis' (``Result.capacity``,
:mod:`dagstorm.analysis.capacity`). The extrapolation assumes the pipeline scales
linearly with volume: it is labelled as such, never mixed with measured figures.
"""

from __future__ import annotations

from dagstorm.analysis.capacity import Capacity
from dagstorm.reports.markup import Markup, el, join
from dagstorm.reports.tables import html_table

__all__ = ["capacity_section", "per_day"]

_DAY = 86_400.0


def capacity_section(capacity: Capacity) -> Markup:
    """The capacity block: measured generation rates and the labelled extrapolation."""
    rows = capacity.workloads
    if not rows:
        return el(
            "p", "not measured: no workload_stats events in the journal", class_="not-measured"
        )
    table = html_table(
        [
            "workload",
            "kind",
            "records",
            "MB",
            "measured MB/s (wall)",
            "= sim MB/s",
            "declared target",
            "scale",
            "extrapolated full-scale rate",
            "vs target",
        ],
        [
            [
                el("code", w.workload),
                w.kind,
                f"{w.records:,}",
                f"{w.bytes / 1e6:,.1f}",
                f"{w.wall_bytes_per_s / 1e6:.4g}",
                f"{w.sim_bytes_per_s / 1e6:.4g}",
                w.target_text or "none declared",
                "n/a" if w.scale is None else f"{w.scale:.4g}",
                el("em", per_day(w.full_scale_bytes_per_s)),
                el("em", "n/a" if w.target_ratio is None else f"{w.target_ratio * 100:.0f}%"),
            ]
            for w in rows
        ],
        numeric=[2, 3, 4, 5, 7, 8, 9],
    )
    return join(
        [
            table,
            el(
                "p",
                "Measured: records, bytes and the wall rate come from the run's workload_stats. "
                "Derived: sim rate = wall rate ÷ time compression. ",
                el("em", "Extrapolated"),
                ": full-scale rate = sim rate ÷ scale, assuming the "
                "pipeline's cost grows linearly with volume; it was not run at that volume. "
                "A capacity-ramp run adds the highest sustained rate within the SLA below.",
                class_="note",
            ),
        ]
    )


def per_day(bytes_per_s: float | None) -> str:
    """A rate per day in the largest unit that fits: ``2.02 TB/day``."""
    if bytes_per_s is None:
        return "n/a (no scale declared)"
    amount = bytes_per_s * _DAY
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if amount >= size:
            return f"{amount / size:.3g} {unit}/day"
    return f"{amount / 1e3:.3g} kB/day"
