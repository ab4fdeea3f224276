"""The run's capacity: generated traffic per workload, and the ramp's answer if it has one."""

from __future__ import annotations

from dataclasses import dataclass

from dagstorm.analysis.capacity.ramp import RampCapacity, ramp_capacity
from dagstorm.analysis.capacity.traffic import (
    WorkloadCapacity,
    lowest_target_ratio,
    totals_of,
    workload_capacity,
)
from dagstorm.analysis.rundata.model import RunData

__all__ = ["Capacity", "capacity_of"]


@dataclass(frozen=True)
class Capacity:
    """What the run says about capacity (``result.json`` ``capacity``, docs/measures.md)."""

    #: Per workload with ``workload_stats`` (by name): measured, derived, extrapolated.
    workloads: tuple[WorkloadCapacity, ...]
    #: Extrapolated: the lowest full-scale rate ÷ declared target over the workloads
    #: that declare both (None: none does).
    generated_vs_target: float | None
    #: The ramp's answer (None: no ramp workload with an SLA SLO).
    ramp: RampCapacity | None
    #: Why the scenario's declarations (targets, scale, ramp) are unknown; None when read.
    scenario_absent: str | None


def capacity_of(data: RunData) -> Capacity:
    """The capacity of the run ``data`` (its ``workload_stats`` and declared workloads)."""
    rows = workload_capacity(totals_of(data.workload_stats), data.workloads, data.compression)
    return Capacity(
        workloads=rows,
        generated_vs_target=lowest_target_ratio(rows),
        ramp=ramp_capacity(data),
        scenario_absent=data.absent.get("scenario"),
    )
