"""Generated traffic per workload: measured (wall, simulated) and extrapolated (full scale).

A scenario generates ``rate × scale`` of production traffic in simulated time, and
the engine runs ``time_compression`` times faster than wall time. The measured wall
rate (bytes of ``workload_stats`` ÷ the seconds their intervals cover) divided by
the compression is the simulated rate; divided again by ``scale`` it is the
**extrapolated** production-equivalent rate, compared with the declared target
rate. The extrapolation assumes the pipeline scales linearly with volume.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dagstorm.analysis.rundata.declared import first_by_kind
from dagstorm.workloads.kinds import WorkloadSpec

__all__ = [
    "WorkloadCapacity",
    "WorkloadTotals",
    "lowest_target_ratio",
    "totals_of",
    "workload_capacity",
]


@dataclass(frozen=True)
class WorkloadTotals:
    """One workload's ``workload_stats`` summed: what the capacity is measured from."""

    workload: str
    #: The kind of its last sample.
    kind: str
    records: float
    bytes: float
    #: Wall seconds covered by its intervals.
    interval_s: float


@dataclass(frozen=True)
class WorkloadCapacity:
    """One workload's generated traffic: measured (wall, sim) and extrapolated (full scale)."""

    workload: str
    kind: str
    records: int
    bytes: int
    #: Seconds of wall time covered by its workload_stats intervals.
    active_wall_s: float
    #: Measured: bytes per wall second over its active time.
    wall_bytes_per_s: float
    #: Derived: the wall rate ÷ time compression.
    sim_bytes_per_s: float
    #: The scenario's declared (production) rate and scale, when it wrote them.
    target_text: str | None
    target_bytes_per_s: float | None
    scale: float | None
    #: Extrapolated: the simulated rate ÷ the scale (None: no scale declared).
    full_scale_bytes_per_s: float | None
    #: Extrapolated full-scale rate ÷ target rate (1.0 = on target; None: no target).
    target_ratio: float | None


def totals_of(stats: pd.DataFrame | None) -> tuple[WorkloadTotals, ...]:
    """Per workload (by name, sorted), the sums of a ``workload_stats`` frame."""
    if stats is None or stats.empty:
        return ()
    frame = pd.DataFrame(
        {
            "name": _texts(stats["workload"]),
            "kind": _texts(stats["workload_kind"]),
            "records": pd.to_numeric(stats["records"], errors="coerce").fillna(0.0),
            "bytes": pd.to_numeric(stats["bytes"], errors="coerce").fillna(0.0),
            "interval_s": pd.to_numeric(stats["interval_s"], errors="coerce").fillna(0.0),
        }
    )
    grouped = frame.groupby("name", sort=True)
    sums = grouped[["records", "bytes", "interval_s"]].sum()
    kinds = grouped["kind"].last()
    return tuple(
        WorkloadTotals(str(name), str(kinds[name]), *(float(v) for v in sums.loc[name]))
        for name in sums.index
    )


def workload_capacity(
    totals: Iterable[WorkloadTotals], workloads: Sequence[WorkloadSpec], compression: float
) -> tuple[WorkloadCapacity, ...]:
    """Each workload's capacity from its totals, with the target its kind declared."""
    declared = first_by_kind(workloads)
    out = []
    for total in sorted(totals, key=lambda t: t.workload):
        wall = total.bytes / total.interval_s if total.interval_s else 0.0
        sim = wall / compression
        target = declared.get(total.kind)
        scale = target.scale if target else None
        full = None if scale is None else sim / scale
        rate = target.bytes_per_s if target else None
        out.append(
            WorkloadCapacity(
                workload=total.workload,
                kind=total.kind,
                records=int(total.records),
                bytes=int(total.bytes),
                active_wall_s=total.interval_s,
                wall_bytes_per_s=wall,
                sim_bytes_per_s=sim,
                target_text=target.rate_text if target else None,
                target_bytes_per_s=rate,
                scale=scale,
                full_scale_bytes_per_s=full,
                target_ratio=None if full is None or not rate else full / rate,
            )
        )
    return tuple(out)


def lowest_target_ratio(rows: Iterable[WorkloadCapacity]) -> float | None:
    """The lowest generated-vs-target ratio over the workloads that declare a target."""
    ratios = [r.target_ratio for r in rows if r.target_ratio is not None]
    return min(ratios) if ratios else None


def _texts(column: pd.Series) -> pd.Series:
    """:func:`_text` of each value, computed once per distinct value (a few, millions of rows)."""
    codes, uniques = pd.factorize(column.astype(object), use_na_sentinel=False)
    texts = np.array([_text(u) for u in uniques], dtype=object)
    return pd.Series(texts[codes], index=column.index, dtype=object)


def _text(value: Any) -> str:
    return (
        "None" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    )
