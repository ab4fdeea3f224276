"""Every measure of a run, computed once from its :class:`RunData`."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from dagstorm.analysis.measures.alerts import AlertLatency, alert_latency, match_alerts
from dagstorm.analysis.measures.asset_storms import AssetStormMeasure, asset_storm_measures
from dagstorm.analysis.measures.celery import CeleryMeasure, celery_measure
from dagstorm.analysis.measures.cross_dag import CrossDagWaits, cross_dag_waits
from dagstorm.analysis.measures.data.completeness import DataCompleteness, data_completeness
from dagstorm.analysis.measures.data.output_checks import OutputCheckMeasure, output_check_measures
from dagstorm.analysis.measures.data.stream import stream_completeness
from dagstorm.analysis.measures.faults.dag_faults import DagFaultImpact, dag_fault_impacts
from dagstorm.analysis.measures.faults.fault_windows import fault_windows
from dagstorm.analysis.measures.faults.recovery import RetryRecovery, retry_recovery
from dagstorm.analysis.measures.scheduler.inherited import InheritedRuns, inherited_runs
from dagstorm.analysis.measures.scheduler.never_started import (
    TriesNeverStarted,
    tries_never_started,
)
from dagstorm.analysis.measures.scheduler.scheduler_metrics import (
    SchedulerMetrics,
    scheduler_metrics,
)
from dagstorm.analysis.measures.scheduler.task_split import TaskSplit, task_split
from dagstorm.analysis.measures.scheduler.throughput import (
    SchedulerThroughput,
    scheduler_throughput,
)
from dagstorm.analysis.measures.sla import SlaCompliance, sla_compliance
from dagstorm.analysis.measures.trigger_errors import TriggerErrors, trigger_errors
from dagstorm.analysis.rundata.model import RunData
from dagstorm.run.events import Kind
from dagstorm.scenarios.slos import RecoveryTimeSlo, SlaSlo


@dataclass(frozen=True)
class Measures:
    """The measures of one run.

    ``sla`` has one entry per distinct (dag, within, measure_from) of the
    scenario's SLA SLOs (a deadline only exists through an SLO); ``recovery``
    has the all-DAG recovery first, then one per DAG named by a recovery SLO.
    """

    sla: tuple[SlaCompliance, ...]
    recovery: tuple[RetryRecovery, ...]
    alerts: AlertLatency
    throughput: SchedulerThroughput
    scheduler_metrics: SchedulerMetrics
    completeness: DataCompleteness
    #: The stream path (Kafka ledger's acked vs ``ad_events_stats``); None without a Kafka workload.
    stream_completeness: DataCompleteness | None = None
    #: API triggers that errored, and whether their run appeared anyway.
    trigger_errors: TriggerErrors | None = None
    #: Tries that ended without ever starting (left out of the throughput).
    tries_never_started: TriesNeverStarted | None = None
    #: The pipeline profile's ``count`` output checks (declared counts or ids).
    output_checks: tuple[OutputCheckMeasure, ...] = ()
    #: Faults on one DAG (deploy, broken file, pause, reruns) and what its runs did.
    dag_faults: tuple[DagFaultImpact, ...] = ()
    #: How long downstream DAG runs waited on the upstreams the profile declares.
    cross_dag: CrossDagWaits = field(default_factory=lambda: CrossDagWaits(()))
    #: Each DAG's run time split into assignment, execution and transition, per executor.
    task_split: TaskSplit = field(default_factory=lambda: TaskSplit(()))
    #: Celery's queue depth, workers alive and lost workers' tries (None: no Celery data).
    celery: CeleryMeasure | None = None
    #: Runs queued before the run began that ran during it (a backlog's share of the work).
    inherited: InheritedRuns = field(default_factory=lambda: InheritedRuns(0, 0, 0, None, ()))
    #: Trigger storms' asset events: posted, consumed, the runs they started.
    asset_storms: tuple[AssetStormMeasure, ...] = ()

    def sla_for(self, slo: SlaSlo) -> SlaCompliance:
        """The SLA measure ``slo`` is judged on."""
        return next(
            m
            for m in self.sla
            if (m.dag_id, m.within_sim_s, m.measure_from)
            == (slo.dag, slo.deadline_s, slo.reference)
        )

    def recovery_for(self, dag_id: str | None) -> RetryRecovery:
        """Recovery over ``dag_id``'s runs (all DAGs when None)."""
        return next(m for m in self.recovery if m.dag_id == dag_id)


def in_scope(dag_runs: pd.DataFrame, dag_id: str) -> pd.DataFrame:
    """The runs of ``dag_id`` this run is about.

    When dagstorm triggered runs of the DAG, only those count: the DAG's own
    schedule fires on wall-clock hours, which in a time-compressed run have no
    landing partition. Otherwise, runs queued after the run started.
    """
    runs = dag_runs[dag_runs["dag_id"] == dag_id]
    if "triggered" in runs and runs["triggered"].any():
        return runs[runs["triggered"]]
    if "queued_at_t" in runs:
        return runs[runs["queued_at_t"].isna() | (runs["queued_at_t"] >= 0)]
    return runs


def runs_in_scope(dag_runs: pd.DataFrame) -> pd.DataFrame:
    """The runs of every DAG this run is about (:func:`in_scope` for each DAG)."""
    if dag_runs.empty:
        return dag_runs
    return pd.concat([in_scope(dag_runs, dag) for dag in dag_runs["dag_id"].unique()])


def compute_measures(data: RunData) -> Measures:
    """Compute every measure of ``data``."""
    triggers = trigger_errors(data.triggers, data.dag_runs)
    slas: dict[tuple[str, float, str], SlaCompliance] = {}
    for slo in data.scenario.slos:
        if isinstance(slo, SlaSlo) and (slo.dag, slo.deadline_s, slo.reference) not in slas:
            slas[(slo.dag, slo.deadline_s, slo.reference)] = sla_compliance(
                in_scope(data.dag_runs, slo.dag),
                dag_id=slo.dag,
                within_s=slo.deadline_s,
                compression=data.compression,
                end_t=data.end_t,
                measure_from=slo.reference,
                failed_triggers=triggers.for_dag(slo.dag),
            )
    windows = fault_windows(data.faults, data.end_t)
    matched = match_alerts(data.task_tries, data.alerts)
    dags: list[str | None] = [None]
    for slo in data.scenario.slos:
        if isinstance(slo, RecoveryTimeSlo) and slo.dag not in dags:
            dags.append(slo.dag)
    recovery = tuple(
        retry_recovery(
            windows,
            dag_runs=data.dag_runs,
            task_tries=data.task_tries,
            matched_alerts=matched,
            alerts=data.alerts,
            compression=data.compression,
            end_t=data.end_t,
            dag_id=dag,
            stages=data.stage_map,
        )
        for dag in dags
    )
    return Measures(
        sla=tuple(slas.values()),
        recovery=recovery,
        alerts=alert_latency(matched, data.alerts),
        throughput=scheduler_throughput(
            data.task_tries, data.dag_runs, end_t=data.end_t, phases=data.scenario.phases
        ),
        scheduler_metrics=scheduler_metrics(data.statsd),
        completeness=data_completeness(
            data.ledger,
            data.serving,
            partitions=data.partitions,
            partition_loads=data.partition_loads,
            dag_runs=data.dag_runs,
            absent=data.absent,
        ),
        stream_completeness=stream_completeness(data),
        trigger_errors=triggers,
        asset_storms=asset_storm_measures(
            data.events_by_kind.get(Kind.ASSET_RUNS, ()), data.triggers
        ),
        tries_never_started=tries_never_started(data.task_tries, end_t=data.end_t),
        inherited=inherited_runs(data.dag_runs, data.task_tries, end_t=data.end_t),
        output_checks=output_check_measures(
            data.pipeline.checks, int(data.dag_runs["triggered"].sum())
        ),
        dag_faults=dag_fault_impacts(
            data.events_by_kind.get(Kind.FAULT_INTENT, ()), windows, data.dag_runs
        ),
        cross_dag=cross_dag_waits(
            data.dag_runs,
            data.task_tries,
            data.pipeline.dependencies,
            wait_patterns=data.stage_map.get("wait", ()),
            windows=windows.windows,
        ),
        task_split=task_split(
            runs_in_scope(data.dag_runs), data.task_tries, executor=data.scenario.executor
        ),
        celery=celery_measure(
            data.celery_queue,
            data.celery_workers,
            data.events_by_kind.get(Kind.FAULT_INTENT, ()),
            windows,
            data.task_tries,
            tasks=data.celery_worker_tasks,
        ),
    )
