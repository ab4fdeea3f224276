# mypy: disable-error-code="import-untyped"
"""Celery on a CeleryExecutor stack: the broker's queue, the workers, and lost workers' tries.

From the Celery probe's samples: the queue depth (messages Airflow sent that no
worker took yet) over the run and inside each fault window, the fewest workers
alive, and the tasks each worker took and returned (counted in its log). For
each ``celery`` fault (``kill``, ``pause``, ``warm_shutdown`` of a worker), the
tries that were running when its injection began and ended ``failed`` or
``up_for_retry`` after it: the time from the fault until Airflow failed them
(*noticed*: the try's ``end_date``, set when the scheduler's heartbeat check
gives up on it) and until their next try started (*resumed*).

The fault's moment is when its injection began — or, for a ``mid_task`` fault,
which waits for a try to run on its worker before it acts, when it was applied
(the signal is sent as soon as the try is found: the applied time is at most the
check that the worker is gone later).

Every worker of the embedded stack runs on the same machine, so every try records
the same ``hostname``: a try cannot be attributed to the worker the fault hit.
Every try running at the fault is counted; those another worker ran simply end
``success`` and are not lost (a ``warm_shutdown`` loses none when its tries finish).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dagstorm.analysis.measures.faults.fault_windows import FaultWindow, FaultWindows
from dagstorm.analysis.measures.percentiles import Percentiles
from dagstorm.core.quantiles import quantile

__all__ = [
    "LOST_STATES",
    "CeleryFaultTries",
    "CeleryMeasure",
    "CeleryWindow",
    "WorkerTasks",
    "celery_measure",
]

#: The states of a try Airflow gave up on (retried or not).
LOST_STATES = frozenset({"failed", "up_for_retry"})


@dataclass(frozen=True)
class CeleryWindow:
    """The queue and the workers inside one fault window (any fault)."""

    fault_id: str
    fault: str
    start_t: float
    end_t: float
    #: Queue depth samples inside the window (0: none).
    samples: int
    depth_max: int | None
    depth_p95: float | None
    #: The fewest workers alive in a sample inside the window (None: no sample).
    workers_alive_min: int | None


@dataclass(frozen=True)
class WorkerTasks:
    """Tasks one worker took and returned over the run (its last sample)."""

    worker: str
    received: int
    #: Returned (the workload ran, whatever the try's state).
    succeeded: int
    raised: int


@dataclass(frozen=True)
class CeleryFaultTries:
    """One ``celery`` fault and the tries running when it began (wall seconds since the start)."""

    fault_id: str
    fault: str
    #: ``kill``, ``pause`` or ``warm_shutdown``.
    action: str
    #: The worker it hit (1, 2, …; None if the spec does not say).
    worker: int | None
    #: When its injection began (the window's start).
    fault_t: float
    #: Tries running at ``fault_t`` (on any worker: see the module docstring).
    running: int
    #: Of those, the tries that ended failed or up_for_retry after it.
    lost: int
    #: Fault → Airflow failed the try (its end_date; the last state change if none).
    noticed_s: Percentiles
    #: Fault → the next try of the same task started.
    resumed_s: Percentiles
    #: Lost tries whose next try never started in the run.
    not_resumed: int


@dataclass(frozen=True)
class CeleryMeasure:
    """The Celery broker's queue and workers over the run, and each ``celery`` fault's tries."""

    #: The queues sampled.
    queues: tuple[str, ...]
    #: Queue depth samples (one per queue per probe interval).
    samples: int
    depth_max: int | None
    depth_p95: float | None
    #: Workers the stack declares (the last sample's; None without worker samples).
    workers_total: int | None
    workers_alive_min: int | None
    #: The most workers stopped (paused) at once.
    workers_stopped_max: int | None
    #: Every fault window of the run (not only celery faults).
    windows: tuple[CeleryWindow, ...]
    #: Each applied ``celery`` fault.
    faults: tuple[CeleryFaultTries, ...]
    #: Tasks per worker, from the workers' logs (empty without such samples).
    tasks: tuple[WorkerTasks, ...] = ()


def _numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame or frame.empty:
        return pd.Series([], dtype=float)
    return pd.to_numeric(frame[column], errors="coerce")


def _inside(frame: pd.DataFrame, window: FaultWindow) -> pd.DataFrame:
    if frame.empty:
        return frame
    t = pd.to_numeric(frame["t"], errors="coerce")
    return frame[(t >= window.start_t) & (t <= window.end_t)]


def _int_or_none(value: float) -> int | None:
    return None if math.isnan(value) else int(value)


def _depths(frame: pd.DataFrame) -> tuple[int, int | None, float | None]:
    depths = [float(v) for v in _numbers(frame, "depth").dropna()]
    if not depths:
        return 0, None, None
    return len(depths), int(max(depths)), quantile(depths, 0.95)


def _alive_min(frame: pd.DataFrame) -> int | None:
    alive = _numbers(frame, "alive").dropna()
    return int(alive.min()) if len(alive) else None


def _tasks(frame: pd.DataFrame) -> tuple[WorkerTasks, ...]:
    """Each worker's last sample (the counts are cumulative)."""
    if frame.empty:
        return ()
    last = frame.sort_values("seq", kind="stable").drop_duplicates("worker", keep="last")
    rows = []
    for row in last.to_dict("records"):
        counts = [_number(row.get(c)) for c in ("received", "succeeded", "raised")]
        received, succeeded, raised = (0 if math.isnan(c) else int(c) for c in counts)
        rows.append(WorkerTasks(str(row["worker"]), received, succeeded, raised))
    return tuple(sorted(rows, key=lambda w: w.worker))


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _key(row: Mapping[str, Any]) -> tuple[str, str, str, int]:
    map_index = _number(row.get("map_index"))
    return (
        str(row.get("dag_id")),
        str(row.get("run_id")),
        str(row.get("task_id")),
        -1 if math.isnan(map_index) else int(map_index),
    )


def _fault_tries(
    window: FaultWindow, spec: Mapping[str, Any], tries: list[dict[str, Any]]
) -> CeleryFaultTries:
    starts: dict[tuple[tuple[str, str, str, int], int], float] = {}
    for row in tries:
        number = _number(row.get("try_number"))
        if not math.isnan(number):
            starts[(_key(row), int(number))] = _number(row.get("start_date_t"))
    fault_t = window.applied_t if spec.get("mid_task") else window.start_t
    running = lost = not_resumed = 0
    noticed: list[float] = []
    resumed: list[float] = []
    for row in tries:
        start, end = _number(row.get("start_date_t")), _number(row.get("end_date_t"))
        if math.isnan(start) or start > fault_t or (not math.isnan(end) and end <= fault_t):
            continue
        running += 1
        if row.get("state") not in LOST_STATES:
            continue
        lost += 1
        failed_at = end if not math.isnan(end) else _number(row.get("t"))
        noticed.append(failed_at - fault_t)
        number = _number(row.get("try_number"))
        next_start = (
            math.nan if math.isnan(number) else starts.get((_key(row), int(number) + 1), math.nan)
        )
        if math.isnan(next_start):
            not_resumed += 1
        else:
            resumed.append(next_start - fault_t)
    worker = spec.get("worker")
    return CeleryFaultTries(
        fault_id=window.fault_id,
        fault=window.fault,
        action=str(spec.get("action")),
        worker=int(worker) if isinstance(worker, int) else None,
        fault_t=fault_t,
        running=running,
        lost=lost,
        noticed_s=Percentiles.of(noticed),
        resumed_s=Percentiles.of(resumed),
        not_resumed=not_resumed,
    )


def celery_measure(
    queue: pd.DataFrame,
    workers: pd.DataFrame,
    intents: Iterable[Mapping[str, Any]],
    windows: FaultWindows,
    task_tries: pd.DataFrame,
    *,
    tasks: pd.DataFrame | None = None,
) -> CeleryMeasure | None:
    """The Celery measure; None when the run has no Celery samples and no ``celery`` fault.

    ``queue``, ``workers`` and ``tasks``: the ``celery_queue``, ``celery_workers`` and
    ``celery_worker_tasks`` frames;
    ``intents``: the ``fault_intent`` events (their specs name kind, action, worker).
    """
    specs = {str(e.get("fault_id")): e.get("spec") or {} for e in intents}
    celery_windows = [
        w for w in windows.windows if specs.get(w.fault_id, {}).get("kind") == "celery"
    ]
    tasks = pd.DataFrame() if tasks is None else tasks
    if queue.empty and workers.empty and tasks.empty and not celery_windows:
        return None
    tries = task_tries.to_dict("records") if not task_tries.empty else []
    samples, depth_max, depth_p95 = _depths(queue)
    per_window = []
    for window in windows.windows:
        inside = _depths(_inside(queue, window))
        per_window.append(
            CeleryWindow(
                fault_id=window.fault_id,
                fault=window.fault,
                start_t=window.start_t,
                end_t=window.end_t,
                samples=inside[0],
                depth_max=inside[1],
                depth_p95=inside[2],
                workers_alive_min=_alive_min(_inside(workers, window)),
            )
        )
    totals = _numbers(workers, "total").dropna()
    stopped = _numbers(workers, "stopped").dropna()
    names = queue["queue"].dropna().astype(str).unique() if "queue" in queue else []
    return CeleryMeasure(
        queues=tuple(sorted(names)),
        samples=samples,
        depth_max=depth_max,
        depth_p95=depth_p95,
        workers_total=_int_or_none(float(totals.iloc[-1])) if len(totals) else None,
        workers_alive_min=_alive_min(workers),
        workers_stopped_max=int(stopped.max()) if len(stopped) else None,
        windows=tuple(per_window),
        faults=tuple(_fault_tries(w, specs[w.fault_id], tries) for w in celery_windows),
        tasks=_tasks(tasks),
    )
