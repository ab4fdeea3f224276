# mypy: disable-error-code="import-untyped"
"""What a run directory is read into: :class:`RunData` and the scenario it ran.

Every ``*_t`` column of its frames is wall seconds since the run started
(:mod:`.load` converts the times of other systems to that axis).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from dagstorm.analysis.rundata.journal_scan import JournalScan
from dagstorm.analysis.rundata.pipeline import PipelineInfo
from dagstorm.analysis.rundata.signal_cuts import SignalCut
from dagstorm.core.errors import DagstormError, ExitCode
from dagstorm.scenarios.slos import SloSpecBase
from dagstorm.workloads.kinds import WorkloadSpec

#: An SLO of the scenario, parsed (its kind's model: dagstorm's own, or a plugin's).
Slo = SloSpecBase

WORKLOAD_STATS_FIELDS = ("workload", "workload_kind", "records", "bytes", "interval_s")
#: The fields of the ``celery_queue`` and ``celery_workers`` frames (a CeleryExecutor stack).
CELERY_QUEUE_FIELDS = ("queue", "depth")
CELERY_WORKERS_FIELDS = ("alive", "total", "stopped")
CELERY_WORKER_TASKS_FIELDS = ("worker", "received", "succeeded", "raised")
#: The fields of the ``triggers`` frame (``dag_triggered`` events).
TRIGGER_FIELDS = ("dag_id", "run_id", "ok", "status", "error", "workload", "asset")


class RunDirectoryError(DagstormError):
    """The run directory cannot be analysed: no journal, no ``run_start``, a bad SLO."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class Phase:
    """A phase of the scenario, in wall seconds since the start."""

    name: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class ScenarioInfo:
    """What ``run_start`` says about the scenario."""

    name: str
    description: str
    seed: int | None
    #: Simulated seconds per wall second.
    time_compression: float
    #: Planned wall duration.
    duration_s: float | None
    stack_kind: str | None
    dagstorm_version: str | None
    phases: tuple[Phase, ...]
    slos: tuple[Slo, ...]
    #: The stack's Airflow executor (``run_start``'s ``executor``, else its
    #: ``environment.executor``); None when the run does not say.
    executor: str | None = None


@dataclass(frozen=True, eq=False)
class RunData:
    """One run directory as frames; every ``*_t`` column is wall seconds since the start.

    Frames (always present, possibly empty):

    - ``dag_runs``: the last state of each (dag_id, run_id), with ``first_seen_t`` and
      ``partition_hour`` (from ``conf.partition_hour``, when the run was triggered
      for a landing partition) and ``triggered`` (dagstorm created it: a
      ``dag_triggered`` event names it).
    - ``task_tries``: the last state of each (dag_id, run_id, task_id, map_index,
      try_number).
    - ``faults``: fault_intent/applied/reverted/error events in journal order.
    - ``alerts``: alert events, with ``received_t``.
    - ``statsd``: statsd events.
    - ``partitions``: partition_written events.
    - ``workload_stats``: workload_stats samples (the generated traffic).
    - ``triggers``: dag_triggered events (the API triggers, ok or not).

    ``ledger``, ``serving`` and ``partition_loads`` are None when absent; ``absent``
    says why for each of them. ``workloads`` are the scenario's, from ``scenario.yaml``
    (typed; empty when it is absent or invalid, and ``absent["scenario"]`` says why).
    """

    run_dir: Path
    scenario: ScenarioInfo
    #: Epoch seconds at t = 0.
    origin_wall: float
    #: Wall seconds from the start to ``run_end`` (or to the last event if none).
    end_t: float
    #: ``run_end``'s status, or ``unfinished`` when the journal has no ``run_end``.
    status: str
    reason: str | None
    events: int
    dag_runs: pd.DataFrame
    task_tries: pd.DataFrame
    faults: pd.DataFrame
    alerts: pd.DataFrame
    statsd: pd.DataFrame
    partitions: pd.DataFrame
    ledger: pd.DataFrame | None = None
    serving: pd.DataFrame | None = None
    partition_loads: pd.DataFrame | None = None
    absent: Mapping[str, str] = field(default_factory=dict)
    #: The journal as read by :func:`load_run` (periodic samples as frames), for the
    #: report to reuse; None when built from a list of events.
    journal: JournalScan | None = None
    #: The stream path (Kafka): its ledger and ``stream_serving.parquet``; None when absent.
    stream_ledger: pd.DataFrame | None = None
    stream_serving: pd.DataFrame | None = None
    #: Per cut of completion signals, the acked counts it covers.
    stream_cuts: tuple[SignalCut, ...] = ()
    #: signal_ids with an ``ad_events_batches`` row; None without ``stream_batches.parquet``.
    stream_served: frozenset[str] | None = None
    #: ``run_end``'s ``fault_errors``: every fault error of the run, including reverts of
    #: leftovers that have no ``fault_error`` event of their own.
    end_fault_errors: tuple[str, ...] = ()
    #: The scenario's workloads as declared in ``scenario.yaml`` (capacity targets, ramps).
    workloads: tuple[WorkloadSpec, ...] = ()
    #: The pipeline profile the run tested (stage map, output checks' figures).
    pipeline: PipelineInfo = field(default_factory=lambda: PipelineInfo(None))
    workload_stats: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["seq", "t", *WORKLOAD_STATS_FIELDS])
    )
    #: ``dag_triggered`` events (API triggers, ok or not): ``TRIGGER_FIELDS``.
    triggers: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["seq", "t", "kind", *TRIGGER_FIELDS])
    )
    #: ``celery_queue`` samples (the Celery probe): ``seq``, ``t``, ``CELERY_QUEUE_FIELDS``.
    celery_queue: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["seq", "t", *CELERY_QUEUE_FIELDS])
    )
    #: ``celery_workers`` samples: ``seq``, ``t``, ``CELERY_WORKERS_FIELDS``.
    celery_workers: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["seq", "t", *CELERY_WORKERS_FIELDS])
    )
    #: ``celery_worker_tasks`` samples: ``seq``, ``t``, ``CELERY_WORKER_TASKS_FIELDS``.
    celery_worker_tasks: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["seq", "t", *CELERY_WORKER_TASKS_FIELDS])
    )
    #: The journal's events read as dicts, by kind, in journal order (periodic samples
    #: read as frames are not here): what a plugin SLO's judge reads.
    events_by_kind: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)

    @property
    def stage_map(self) -> Mapping[str, tuple[str, ...]]:
        """Stage → task-id patterns, from the pipeline profile (empty: unknown)."""
        return self.pipeline.stages

    @property
    def compression(self) -> float:
        """Simulated seconds per wall second."""
        return self.scenario.time_compression
