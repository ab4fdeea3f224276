"""The workloads a run drives, built from the scenario's workload entries by their kind."""

from __future__ import annotations

from collections.abc import Sequence

from dagstorm.plugin.context import RunContext
from dagstorm.workloads.base import Workload
from dagstorm.workloads.kinds import build_workload
from dagstorm.workloads.specs import WorkloadSpecBase


def default_workloads(ctx: RunContext, specs: Sequence[WorkloadSpecBase]) -> list[Workload]:
    """One workload object per entry (built-in kinds and plugins' alike)."""
    return [build_workload(spec, ctx) for spec in specs]
