"""The report's generated-load table: the traffic dagstorm offered, measured and extrapolated.

It is the generator's rate, not the pipeline's capacity (the ramp measures that).

Only draws: the figures are the analysis' (``Result.capacity``,
:mod:`dagstorm.analysis.capacity`). The extrapolation assumes the pipeline scales
linearly with volume: it is labelled as such, never mixed with measured figures.
"""

from __future__ import annotations

from dagstorm.analysis.capacity import Capacity
from dagstorm.analysis.texts import plain_number, scale_text
from dagstorm.reports.markup import Markup, el, join
from dagstorm.reports.tables import html_table

__all__ = ["capacity_section", "per_day"]

_DAY = 86_400.0


def capacity_section(capacity: Capacity) -> Markup:
    """The generated-load block: measured generation rates and the labelled extrapolation."""
    rows = capacity.workloads
    if not rows:
        return el(
            "p", "not measured: no workload_stats events in the journal", class_="not-measured"
        )
    table = html_table(
        [
            "workload",
            "kind",
            "records written",
            "MB written",
            "generated MB/s (wall)",
            "= sim MB/s",
            "declared target",
            "scale",
            "generated load at full scale (extrapolated)",
            "generated vs target",
        ],
        [
            [
                el("code", w.workload),
                w.kind,
                f"{w.records:,}",
                plain_number(w.bytes / 1e6),
                plain_number(w.wall_bytes_per_s / 1e6),
                plain_number(w.sim_bytes_per_s / 1e6),
                w.target_text or "none declared",
                scale_text(w.scale),
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
                el("strong", "This is the load dagstorm generated, not the pipeline's capacity"),
                ": it says whether the test offered the declared traffic. What the pipeline "
                "sustains within its SLA is the ramp's answer (next section). ",
                "Records: every line the workload wrote, bad lines and duplicates included, "
                "from its workload_stats; the completeness tables count the ledger's valid and "
                "late events of finished partitions instead, so the two totals differ. ",
                "Measured: records, bytes and the wall rate. "
                "Derived: sim rate = wall rate ÷ time compression. ",
                el("em", "Extrapolated"),
                ": full-scale rate = sim rate ÷ scale, assuming the "
                "pipeline's cost grows linearly with volume; it was not run at that volume.",
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
            return f"{plain_number(amount / size, 3)} {unit}/day"
    return f"{plain_number(amount / 1e3, 3)} kB/day"
