"""The workloads a run drives, built from the scenario's workload specs."""

from __future__ import annotations

from collections.abc import Sequence

from dagstorm.plugin.context import RunContext
from dagstorm.scenarios.model import WorkloadSpec
from dagstorm.workloads.ad_logs_workload import AdLogsRun
from dagstorm.workloads.base import Workload
from dagstorm.workloads.kafka.burst import KafkaBurst
from dagstorm.workloads.locust_swarm.spec import LocustWorkload
from dagstorm.workloads.locust_swarm.workload import LocustSwarm
from dagstorm.workloads.specs import AdLogsWorkload, KafkaBurstWorkload, TriggerStormWorkload
from dagstorm.workloads.trigger_storm import TriggerStorm


def default_workloads(ctx: RunContext, specs: Sequence[WorkloadSpec]) -> list[Workload]:
    """One workload object per spec."""
    built: list[Workload] = []
    for spec in specs:
        match spec:
            case TriggerStormWorkload():
                built.append(
                    TriggerStorm(
                        spec.name,
                        ctx.journal,
                        ctx.clock,
                        stack=ctx.stack,
                        dag=spec.dag,
                        rate=spec.rate,
                        max_total=spec.max_total,
                        conf=spec.conf,
                    )
                )
            case AdLogsWorkload():
                built.append(AdLogsRun.from_spec(spec, ctx))
            case LocustWorkload():
                built.append(LocustSwarm.from_spec(spec, ctx))
            case KafkaBurstWorkload():
                built.append(KafkaBurst.from_spec(spec, ctx))
    return built
