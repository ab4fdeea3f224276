"""The workload kinds: dagstorm's own, and those plugins add (entry points ``dagstorm.workloads``).

A kind pairs the model of its scenario entry (``workloads: [{kind: ad_logs, …}]``)
with how to build the :class:`~dagstorm.workloads.base.Workload` from it and the
run's :class:`~dagstorm.plugin.context.RunContext`. Built-in builders import their
implementation when called, so validating a scenario stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import BeforeValidator

from dagstorm.plugin.registry import Kind, OneOfKinds, Registry
from dagstorm.workloads.locust_swarm.spec import LocustWorkload
from dagstorm.workloads.specs import (
    AdLogsWorkload,
    KafkaBurstWorkload,
    TriggerStormWorkload,
    WorkloadSpecBase,
)

if TYPE_CHECKING:
    from dagstorm.plugin.context import RunContext
    from dagstorm.workloads.base import Workload

#: Every workload kind, looked up by the ``kind`` of a scenario's workload entry.
WORKLOAD_KINDS: Registry[Workload] = Registry("dagstorm.workloads", "workload")

#: A workload entry of any known kind, as a scenario field.
WorkloadSpec = Annotated[
    WorkloadSpecBase, BeforeValidator(WORKLOAD_KINDS.validate), OneOfKinds(WORKLOAD_KINDS)
]


def _ad_logs(spec: AdLogsWorkload, ctx: RunContext) -> Workload:
    from dagstorm.workloads.ad_logs_workload import AdLogsRun

    return AdLogsRun.from_spec(spec, ctx)


def _trigger_storm(spec: TriggerStormWorkload, ctx: RunContext) -> Workload:
    from dagstorm.workloads.trigger_storm import TriggerStorm

    return TriggerStorm(
        spec.name,
        ctx.journal,
        ctx.clock,
        stack=ctx.stack,
        dag=spec.dag,
        rate=spec.rate,
        max_total=spec.max_total,
        conf=spec.conf,
        asset=spec.asset,
    )


def _locust(spec: LocustWorkload, ctx: RunContext) -> Workload:
    from dagstorm.workloads.locust_swarm.workload import LocustSwarm

    return LocustSwarm.from_spec(spec, ctx)


def _kafka_burst(spec: KafkaBurstWorkload, ctx: RunContext) -> Workload:
    from dagstorm.workloads.kafka.burst import KafkaBurst

    return KafkaBurst.from_spec(spec, ctx)


for _kind in (
    Kind(spec=AdLogsWorkload, build=_ad_logs),
    Kind(spec=TriggerStormWorkload, build=_trigger_storm),
    Kind(spec=LocustWorkload, build=_locust),
    Kind(spec=KafkaBurstWorkload, build=_kafka_burst),
):
    WORKLOAD_KINDS.register(_kind)


def build_workload(spec: WorkloadSpecBase, ctx: RunContext) -> Workload:
    """The workload object for ``spec``, built by its kind (built in or a plugin's)."""
    return WORKLOAD_KINDS.get(spec.kind).build(spec, ctx)
