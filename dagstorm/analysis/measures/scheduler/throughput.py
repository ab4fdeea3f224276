# mypy: disable-error-code="import-untyped"
"""Scheduler throughput from task tries: started and finished per wall minute, and delays.

Minute ``m`` is wall seconds ``[60m, 60m + 60)`` since the start of the run.

- started: tries with a ``start_date`` within the run (skipped, upstream_failed and removed tries
  never ran and are left out), by the minute of their start;
- finished: tries that started and ended ``success``, ``failed`` or
  ``up_for_retry``, by the minute of their ``end_date`` within the run. A try that ended without
  a ``start_date`` never ran (a restarted scheduler fails the queued tries it
  finds): it is not finished work, and is counted by :mod:`.never_started`;
- a minute is *busy* when at least one try was queued or running during it (from
  ``queued_when``, or ``start_date``, to ``end_date``, or to the end of the run
  while still queued/running), and *complete* when it ended before the run did;
- the headline is the median (statistics.median) of finished per minute over the
  busy complete minutes — idle minutes do not dilute it, stalled ones count as 0.

Delays (wall seconds, nearest-rank percentiles): a try's ``queued_when`` →
``start_date``; a dag run's ``queued_at`` → ``start_date``; a dag run's
``start_date`` → the first ``queued_when`` of its tries.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dagstorm.analysis.measures.percentiles import Percentiles
from dagstorm.analysis.rundata.model import Phase

NEVER_RAN = ("skipped", "upstream_failed", "removed")
FINISHED = ("success", "failed", "up_for_retry")
ACTIVE = ("queued", "running", "deferred", "restarting", "up_for_reschedule")
MINUTE = 60.0


@dataclass(frozen=True)
class MinuteCount:
    """Task tries started and finished in one wall minute of the run."""

    minute: int
    start_t: float
    started: int
    finished: int
    busy: bool
    complete: bool
    phase: str | None


@dataclass(frozen=True)
class PhaseThroughput:
    """Median per busy complete minute whose start lies in the phase."""

    phase: str
    busy_minutes: int
    median_started_per_min: float | None
    median_finished_per_min: float | None


@dataclass(frozen=True)
class SchedulerThroughput:
    """Task tries per wall minute and scheduling delays (wall seconds)."""

    tries_started: int
    tries_finished: int
    busy_minutes: int
    median_started_per_min: float | None
    median_finished_per_min: float | None
    peak_finished_per_min: int | None
    minutes: tuple[MinuteCount, ...]
    per_phase: tuple[PhaseThroughput, ...]
    #: A try's queued_when → start_date.
    task_queue_delay_s: Percentiles
    #: A dag run's queued_at → start_date.
    run_start_delay_s: Percentiles
    #: A dag run's start_date → the first queued_when of its tries.
    run_to_first_task_queued_s: Percentiles
    #: Tries started before the run began (left out of the minutes).
    started_before_run: int


def scheduler_throughput(
    task_tries: pd.DataFrame,
    dag_runs: pd.DataFrame,
    *,
    end_t: float,
    phases: Sequence[Phase] = (),
) -> SchedulerThroughput:
    """Throughput and delays over every DAG's task tries."""
    n = max(0, math.ceil(end_t / MINUTE - 1e-9))
    ran = task_tries[~task_tries["state"].isin(NEVER_RAN)]
    # Only what happened during observation is this run's: a last sample may still see
    # a try that started after its end, and the first may see one a leftover run of an
    # earlier test started just before the run began (counted in started_before_run).
    every_start = ran["start_date_t"].dropna()
    start_t = every_start[(every_start >= 0) & (every_start <= end_t)]
    finished_t = finished_times(ran)
    finished_t = finished_t[(finished_t >= 0) & (finished_t <= end_t)]
    started_in = ran[(ran["start_date_t"] >= 0) & (ran["start_date_t"] <= end_t)]
    started = _per_minute(start_t, n)
    finished = _per_minute(finished_t, n)
    busy = _busy_minutes(ran, n, end_t)
    minutes = tuple(
        MinuteCount(
            minute=m,
            start_t=m * MINUTE,
            started=int(started[m]),
            finished=int(finished[m]),
            busy=bool(busy[m]),
            complete=(m + 1) * MINUTE <= end_t + 1e-9,
            phase=_phase_at(phases, m * MINUTE),
        )
        for m in range(n)
    )
    counted = [m for m in minutes if m.busy and m.complete]
    return SchedulerThroughput(
        tries_started=len(start_t),
        tries_finished=len(finished_t),
        busy_minutes=len(counted),
        median_started_per_min=_median([m.started for m in counted]),
        median_finished_per_min=_median([m.finished for m in counted]),
        peak_finished_per_min=max((m.finished for m in counted), default=None),
        minutes=minutes,
        per_phase=tuple(_phase(p.name, counted) for p in phases),
        task_queue_delay_s=Percentiles.of(
            (started_in["start_date_t"] - started_in["queued_when_t"]).dropna().tolist()
        ),
        run_start_delay_s=Percentiles.of(
            (dag_runs["start_date_t"] - dag_runs["queued_at_t"]).dropna().tolist()
        ),
        run_to_first_task_queued_s=Percentiles.of(_first_queued(dag_runs, task_tries)),
        started_before_run=int((every_start < 0).sum()),
    )


def finished_times(tries: pd.DataFrame) -> pd.Series:
    """``end_date_t`` of the tries that started and finished (the throughput's tries)."""
    done = tries["state"].isin(FINISHED) & tries["start_date_t"].notna()
    return tries.loc[done, "end_date_t"].dropna()


def _per_minute(times: pd.Series, n: int) -> np.ndarray:
    index = np.floor(times.to_numpy(dtype=float) / MINUTE).astype(np.int64)
    index = index[(index >= 0) & (index < n)]
    return np.bincount(index, minlength=n)[:n]


def _busy_minutes(tries: pd.DataFrame, n: int, end_t: float) -> np.ndarray:
    begin = tries["queued_when_t"].fillna(tries["start_date_t"])
    still = tries["state"].isin(ACTIVE)
    finish = tries["end_date_t"].copy()
    finish[finish.isna() & still] = end_t
    finish = finish.fillna(begin)
    frame = pd.DataFrame({"begin": begin, "finish": finish}).dropna()
    first = np.floor(frame["begin"].clip(lower=0.0).to_numpy(dtype=float) / MINUTE)
    last = np.floor(frame["finish"].clip(upper=end_t - 1e-9).to_numpy(dtype=float) / MINUTE)
    keep = (last >= first) & (first < n) & (last >= 0)
    marks = np.zeros(n + 1, dtype=np.int64)
    np.add.at(marks, first[keep].astype(np.int64), 1)
    np.add.at(marks, np.minimum(last[keep].astype(np.int64) + 1, n), -1)
    return np.cumsum(marks)[:n] > 0


def _first_queued(dag_runs: pd.DataFrame, task_tries: pd.DataFrame) -> list[float]:
    first = task_tries.groupby(["dag_id", "run_id"], as_index=False)["queued_when_t"].min()
    joined = dag_runs[["dag_id", "run_id", "start_date_t"]].merge(first, on=["dag_id", "run_id"])
    return [float(x) for x in (joined["queued_when_t"] - joined["start_date_t"]).dropna()]


def _phase_at(phases: Sequence[Phase], t: float) -> str | None:
    for phase in phases:
        if phase.start_s <= t < phase.end_s:
            return phase.name
    return None


def _phase(name: str, counted: list[MinuteCount]) -> PhaseThroughput:
    mine = [m for m in counted if m.phase == name]
    return PhaseThroughput(
        phase=name,
        busy_minutes=len(mine),
        median_started_per_min=_median([m.started for m in mine]),
        median_finished_per_min=_median([m.finished for m in mine]),
    )


def _median(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None
