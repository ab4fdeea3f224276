"""The workloads a run drives, built from the scenario's workload specs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dagstorm.engine.journal import RunJournal
from dagstorm.scenarios.model import AdLogsWorkload, KafkaBurstWorkload, TriggerStormWorkload
from dagstorm.workloads.ad_logs_workload import AdLogsRun
from dagstorm.workloads.base import Workload
from dagstorm.workloads.kafka_burst import KafkaBurst
from dagstorm.workloads.locust_swarm.spec import LocustWorkload
from dagstorm.workloads.locust_swarm.workload import LocustSwarm
from dagstorm.workloads.trigger_storm import TriggerStorm

if TYPE_CHECKING:
    from dagstorm.engine.runner import Runner


def default_workloads(runner: Runner, journal: RunJournal, run_dir: Path) -> list[Workload]:
    """One workload object per spec."""
    built: list[Workload] = []
    for spec in runner.scenario.workloads:
        match spec:
            case TriggerStormWorkload():
                built.append(
                    TriggerStorm(
                        spec.name,
                        journal,
                        runner.clock,
                        stack=runner.stack,
                        dag=spec.dag,
                        rate=spec.rate,
                        max_total=spec.max_total,
                        conf=spec.conf,
                    )
                )
            case AdLogsWorkload():
                built.append(AdLogsRun.from_spec(spec, runner, journal, run_dir))
            case LocustWorkload():
                built.append(LocustSwarm.from_spec(spec, runner, journal, run_dir))
            case KafkaBurstWorkload():
                built.append(KafkaBurst.from_spec(spec, runner, journal, run_dir))
    return built
