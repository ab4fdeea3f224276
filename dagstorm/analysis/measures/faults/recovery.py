# mypy: disable-error-code="import-untyped"
"""Retry recovery per fault window: how soon work succeeded again, and at what cost.

For each window ``[start, end]`` (see :mod:`fault_windows`), optionally for one DAG:

- recovery = the end of the first ``success`` dag run that *ended* after the
  fault's end − the fault's end (also from the fault's start, and the same for
  the first successful task try); infinite when nothing succeeded after it;
- retries = task tries with ``try_number`` > 1 that started between the window's
  start and the recovery (the end of the run when never recovered), and the wait
  before each (its start − the previous try's end: :mod:`.retry_delays`);
- failed runs = dag runs whose last state is ``failed`` and that ended between
  the window's start and its horizon (the next window starting after this one
  ends, or the end of the run);
- alerts = the task failures in the same range and their alert latency;
- stages = per stage of the profile's stage map (:mod:`.stage_tries`), the tries
  that failed in the same range (``queueing`` for those that never started) and
  the retries counted above.

Times are wall seconds; ``*_sim_s`` are × the time compression.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dagstorm.analysis.measures.alerts import FAILED_TRY_STATES, AlertLatency, alert_latency
from dagstorm.analysis.measures.faults.fault_throughput import FaultThroughput, fault_throughput
from dagstorm.analysis.measures.faults.fault_windows import (
    FaultErrorRow,
    FaultWindow,
    FaultWindows,
    horizon,
)
from dagstorm.analysis.measures.faults.retry_delays import retry_delays
from dagstorm.analysis.measures.faults.stage_tries import StageTries, stage_tries
from dagstorm.analysis.measures.scheduler.throughput import finished_times
from dagstorm.analysis.rundata.stages import StageMap
from dagstorm.core.quantiles import quantile

INFINITY = math.inf


@dataclass(frozen=True)
class FaultRecovery:
    """Recovery after one fault window (``inf`` durations: never recovered)."""

    fault_id: str
    fault: str
    start_t: float
    end_t: float
    start_sim_s: float
    end_sim_s: float
    reverted: bool
    recovered: bool
    #: ``dag_id/run_id`` of the first successful run that ended after the fault.
    first_success_run: str | None
    first_success_t: float | None
    recovery_wall_s: float
    recovery_sim_s: float
    recovery_from_start_wall_s: float
    recovery_from_start_sim_s: float
    #: ``dag_id/run_id/task_id[map_index]#try`` of the first successful task try.
    first_task_success: str | None
    task_recovery_wall_s: float
    task_recovery_sim_s: float
    retries: int
    runs_retried: int
    failed_runs: tuple[str, ...]
    horizon_t: float
    alerts: AlertLatency
    #: Wall seconds from each retried try's previous try's end to its start, in the order
    #: the retries started (the backoff the pipeline lived; :mod:`.retry_delays`).
    retry_delays_wall_s: tuple[float, ...] = ()
    #: Finished tries per minute before the fault (median of up to 5 minutes); None:
    #: no minute before it to compare with (then the throughput fields are None).
    throughput_baseline_per_min: float | None = None
    throughput_baseline_minutes: int = 0
    #: The complete minute with the fewest finished tries from the fault's start to
    #: the throughput's recovery, its count, and 1 − count ÷ baseline.
    worst_minute: int | None = None
    worst_minute_finished: int | None = None
    throughput_drop: float | None = None
    #: Back to ≥ 90% of the baseline over the last 60 s (``inf``: never).
    throughput_recovered: bool | None = None
    throughput_recovery_wall_s: float | None = None
    throughput_recovery_sim_s: float | None = None
    #: Per stage of the pipeline: the tries that failed from the fault's start to its
    #: horizon, and the retries (see the module docstring).
    stages: tuple[StageTries, ...] = ()


@dataclass(frozen=True)
class RetryRecovery:
    """Recovery of every fault window, for one DAG or all (``dag_id`` None)."""

    dag_id: str | None
    faults: tuple[FaultRecovery, ...]
    fault_errors: tuple[FaultErrorRow, ...]
    recovered: int
    unrecovered: int
    #: Nearest-rank p95 / max of the recovery times (simulated); None without faults.
    p95_sim_s: float | None
    max_sim_s: float | None
    retries: int
    runs_retried: int
    failed_runs: int


def retry_recovery(
    windows: FaultWindows,
    *,
    dag_runs: pd.DataFrame,
    task_tries: pd.DataFrame,
    matched_alerts: pd.DataFrame,
    alerts: pd.DataFrame,
    compression: float,
    end_t: float,
    dag_id: str | None = None,
    stages: StageMap | None = None,
) -> RetryRecovery:
    """Recovery after each window of ``windows``, over ``dag_id``'s work (or all DAGs).

    ``stages``: the pipeline's stage map, for each window's failed and retried tries
    per stage (None: every task is ``unmapped``).
    """
    if dag_id is not None:
        dag_runs = dag_runs[dag_runs["dag_id"] == dag_id]
        task_tries = task_tries[task_tries["dag_id"] == dag_id]
        matched_alerts = matched_alerts[matched_alerts["dag_id"] == dag_id]
        alerts = alerts[alerts["dag_id"] == dag_id]
    ok_runs = dag_runs[(dag_runs["state"] == "success") & dag_runs["end_date_t"].notna()]
    ok_runs = ok_runs.sort_values(["end_date_t", "dag_id", "run_id"], kind="stable")
    ok_tries = task_tries[(task_tries["state"] == "success") & task_tries["end_date_t"].notna()]
    ok_tries = ok_tries.sort_values(["end_date_t", *_TRY_ORDER], kind="stable")
    finished = np.sort(finished_times(task_tries).to_numpy(dtype=float))
    # What every window filters by time, selected once (a long soak has ~10^5 tries).
    retry_rows = task_tries[task_tries["try_number"].fillna(0) > 1]
    failed_rows = task_tries[task_tries["state"].isin(FAILED_TRY_STATES)]
    failed_rows = failed_rows.assign(
        _ended=failed_rows["end_date_t"].fillna(failed_rows["first_seen_t"])
    )
    failed_runs = dag_runs[dag_runs["state"] == "failed"].sort_values(
        ["end_date_t", "dag_id", "run_id"], kind="stable"
    )
    faults = []
    for index, window in enumerate(windows.windows):
        limit = horizon(windows.windows, index, end_t)
        previous = max((w.end_t for w in windows.windows[:index]), default=0.0)
        around = fault_throughput(
            finished, start_t=window.start_t, end_t=window.end_t, run_end_t=end_t, after_t=previous
        )
        faults.append(
            _one(
                window,
                ok_runs=ok_runs,
                ok_tries=ok_tries,
                failed_runs=failed_runs,
                retry_rows=retry_rows,
                failed_rows=failed_rows,
                task_tries=task_tries,
                alerts=(matched_alerts, alerts),
                compression=compression,
                end_t=end_t,
                horizon_t=limit,
                around=around,
                stages=stages or {},
            )
        )
    times = [f.recovery_sim_s for f in faults]
    recovered = sum(1 for f in faults if f.recovered)
    return RetryRecovery(
        dag_id=dag_id,
        faults=tuple(faults),
        fault_errors=windows.errors,
        recovered=recovered,
        unrecovered=len(faults) - recovered,
        p95_sim_s=quantile(times, 0.95),
        max_sim_s=max(times) if times else None,
        retries=sum(f.retries for f in faults),
        runs_retried=sum(f.runs_retried for f in faults),
        failed_runs=sum(len(f.failed_runs) for f in faults),
    )


_TRY_ORDER = ["dag_id", "run_id", "task_id", "map_index", "try_number"]


def _one(
    window: FaultWindow,
    *,
    ok_runs: pd.DataFrame,
    ok_tries: pd.DataFrame,
    failed_runs: pd.DataFrame,
    retry_rows: pd.DataFrame,
    failed_rows: pd.DataFrame,
    task_tries: pd.DataFrame,
    alerts: tuple[pd.DataFrame, pd.DataFrame],
    compression: float,
    end_t: float,
    horizon_t: float,
    around: FaultThroughput,
    stages: StageMap,
) -> FaultRecovery:
    # ok_runs and ok_tries ascend by end_date_t: the first after the window is a search away
    at = int(np.searchsorted(ok_runs["end_date_t"].to_numpy(dtype=float), window.end_t, "right"))
    first = ok_runs.iloc[at] if at < len(ok_runs) else None
    first_t = float(first["end_date_t"]) if first is not None else None
    at = int(np.searchsorted(ok_tries["end_date_t"].to_numpy(dtype=float), window.end_t, "right"))
    first_task = ok_tries.iloc[at] if at < len(ok_tries) else None
    task_t = float(first_task["end_date_t"]) if first_task is not None else None

    until = first_t if first_t is not None else end_t
    retried = retry_rows[
        (retry_rows["start_date_t"] >= window.start_t) & (retry_rows["start_date_t"] <= until)
    ]
    failed = failed_runs[
        (failed_runs["end_date_t"] >= window.start_t) & (failed_runs["end_date_t"] < horizon_t)
    ]
    matched, received = alerts
    failed_tries = failed_rows[
        (failed_rows["_ended"] >= window.start_t) & (failed_rows["_ended"] < horizon_t)
    ].drop(columns="_ended")

    def since(moment: float | None, origin: float) -> float:
        return INFINITY if moment is None else moment - origin

    return FaultRecovery(
        fault_id=window.fault_id,
        fault=window.fault,
        start_t=window.start_t,
        end_t=window.end_t,
        start_sim_s=window.start_t * compression,
        end_sim_s=window.end_t * compression,
        reverted=window.reverted,
        recovered=first_t is not None,
        first_success_run=None if first is None else f"{first['dag_id']}/{first['run_id']}",
        first_success_t=first_t,
        recovery_wall_s=since(first_t, window.end_t),
        recovery_sim_s=since(first_t, window.end_t) * compression,
        recovery_from_start_wall_s=since(first_t, window.start_t),
        recovery_from_start_sim_s=since(first_t, window.start_t) * compression,
        first_task_success=None if first_task is None else _try_name(first_task),
        task_recovery_wall_s=since(task_t, window.end_t),
        task_recovery_sim_s=since(task_t, window.end_t) * compression,
        retries=len(retried),
        runs_retried=len(retried[["dag_id", "run_id"]].drop_duplicates()),
        failed_runs=tuple(f"{r['dag_id']}/{r['run_id']}" for r in failed.to_dict("records")),
        horizon_t=horizon_t,
        alerts=alert_latency(matched, received, since_t=window.start_t, until_t=horizon_t),
        retry_delays_wall_s=retry_delays(retried, task_tries),
        throughput_baseline_per_min=around.baseline_per_min,
        throughput_baseline_minutes=around.baseline_minutes,
        worst_minute=around.worst_minute,
        worst_minute_finished=around.worst_minute_finished,
        throughput_drop=around.drop,
        throughput_recovered=around.recovered,
        throughput_recovery_wall_s=around.recovery_wall_s,
        throughput_recovery_sim_s=(
            None if around.recovery_wall_s is None else around.recovery_wall_s * compression
        ),
        stages=stage_tries(failed_tries, retried, stages),
    )


def _try_name(row: pd.Series) -> str:
    mapped = (
        ""
        if pd.isna(row["map_index"]) or int(row["map_index"]) < 0
        else (f"[{int(row['map_index'])}]")
    )
    return f"{row['dag_id']}/{row['run_id']}/{row['task_id']}{mapped}#{row['try_number']}"
