# mypy: disable-error-code="import-untyped"
"""Cross-DAG waits: how long downstream DAG runs waited on the upstream DAG they depend on.

The pipeline profile declares the dependencies (a DAG entry's ``upstream``: an
ExternalTaskSensor, a TriggerDagRunOperator or an asset the upstream emits).
Each run of a downstream DAG queued after the run started is paired with one run
of each of its upstreams (queued at any time):

- the upstream's run with the **same logical date**, when there is one (a sensor
  waits for exactly that run: downstream and upstream share a schedule);
- otherwise the upstream's run that **started last before the downstream run was
  queued** (a trigger or an asset event comes from a run in flight or just
  finished; approximate when several upstream runs overlap).

Two figures per downstream run, in wall seconds:

- ``sensor_wait``: the time its wait-stage tasks (the stage map's ``wait``
  globs: the sensors) took, end − start of each one's last try, summed; a
  reschedule-mode sensor keeps its first poke's start, so this is the whole wait;
- ``start_after_upstream``: its start − the paired upstream run's end, 0 when it
  started before the upstream ended (a TriggerDagRunOperator inside the upstream).

Rows are per (upstream, downstream entry of the profile: an id or a glob), with
the p50/p95/max of each figure over all runs and over the runs queued while a
fault was held (``in_faults``): the delay the fault propagated downstream.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import pandas as pd

from dagstorm.analysis.measures.cells import opt_float
from dagstorm.analysis.measures.faults.fault_windows import FaultWindow
from dagstorm.analysis.measures.percentiles import Percentiles
from dagstorm.analysis.rundata.pipeline import DagDependency

__all__ = ["CrossDagWait", "CrossDagWaits", "cross_dag_waits"]


@dataclass(frozen=True)
class CrossDagWait:
    """The waits of the runs of one downstream entry on one upstream DAG."""

    upstream: str
    #: The profile's entry: a DAG id, or a glob pattern over DAG ids.
    downstream: str
    #: Downstream DAGs with a run in the journal, and their runs.
    dags: int
    runs: int
    #: Runs paired with a run of the upstream (the others have no figures).
    paired: int
    sensor_wait: Percentiles
    start_after_upstream: Percentiles
    #: The same, over the runs queued while a fault was held.
    sensor_wait_in_faults: Percentiles
    start_after_upstream_in_faults: Percentiles


@dataclass(frozen=True)
class CrossDagWaits:
    """Every declared dependency with downstream runs; empty when the profile declares none."""

    rows: tuple[CrossDagWait, ...]


@dataclass(frozen=True)
class _Paired:
    sensor_wait: float
    start_after: float
    in_fault: bool


def cross_dag_waits(
    dag_runs: pd.DataFrame,
    task_tries: pd.DataFrame,
    dependencies: Sequence[DagDependency],
    *,
    wait_patterns: Sequence[str],
    windows: Sequence[FaultWindow] = (),
) -> CrossDagWaits:
    """The cross-DAG waits of the runs in ``dag_runs`` (see the module docstring)."""
    if not len(dag_runs) or not any(d.upstream for d in dependencies):
        return CrossDagWaits(())
    # Downstream runs queued during the run; upstream runs whenever (a run queued just
    # before the start may be the one a downstream run of the run waited on).
    by_dag = {str(k): g for k, g in _in_scope(dag_runs).groupby("dag_id", sort=True)}
    every = {str(k): g for k, g in dag_runs.groupby("dag_id", sort=True)}
    waits = _sensor_waits(task_tries, wait_patterns)
    rows: list[CrossDagWait] = []
    for entry in dependencies:
        members = [d for d in by_dag if _entry_of(dependencies, d) is entry and entry.upstream]
        if not members:
            continue
        for upstream in entry.upstream:
            upstream_runs = _UpstreamRuns.of(every.get(upstream))
            paired: list[_Paired] = []
            total = 0
            for dag_id in members:
                for row in by_dag[dag_id].to_dict("records"):
                    total += 1
                    found = _pair(row, upstream_runs, waits, windows)
                    if found is not None:
                        paired.append(found)
            rows.append(_row(upstream, entry.dag, len(members), total, paired))
    return CrossDagWaits(tuple(rows))


def _entry_of(dependencies: Sequence[DagDependency], dag_id: str) -> DagDependency | None:
    return next((d for d in dependencies if d.matches(dag_id)), None)


def _in_scope(dag_runs: pd.DataFrame) -> pd.DataFrame:
    """Runs queued after the run started (or whose queue time is unknown)."""
    if "queued_at_t" not in dag_runs:
        return dag_runs
    queued = dag_runs["queued_at_t"]
    return dag_runs[queued.isna() | (queued >= 0)]


def _sensor_waits(
    task_tries: pd.DataFrame, patterns: Sequence[str]
) -> Mapping[tuple[str, str], float]:
    """(dag_id, run_id) → seconds its wait-stage tasks took (last try of each, summed)."""
    if not len(task_tries) or not patterns:
        return {}
    tries = task_tries[
        task_tries["task_id"].map(lambda t: any(fnmatchcase(str(t), p) for p in patterns))
    ]
    if not len(tries):
        return {}
    last = tries.sort_values("try_number", kind="stable").drop_duplicates(
        ["dag_id", "run_id", "task_id", "map_index"], keep="last"
    )
    took = last["end_date_t"] - last["start_date_t"]
    last = last.assign(took=took.where(took >= 0))
    summed = last.dropna(subset=["took"]).groupby(["dag_id", "run_id"])["took"].sum()
    return {(str(d), str(r)): float(v) for (d, r), v in summed.items()}


@dataclass(frozen=True)
class _UpstreamRuns:
    """An upstream DAG's runs, indexed for pairing: by logical date, and by start."""

    end_by_logical: Mapping[float, float | None]
    starts: tuple[float, ...]
    ends: tuple[float | None, ...]

    @classmethod
    def of(cls, runs: pd.DataFrame | None) -> _UpstreamRuns:
        """Index ``runs`` (None or empty: nothing pairs)."""
        if runs is None or not len(runs):
            return cls({}, (), ())
        rows = runs.to_dict("records")
        by_logical: dict[float, float | None] = {}
        for row in rows:
            logical = opt_float(row.get("logical_date_t"))
            if logical is not None:
                by_logical.setdefault(logical, opt_float(row.get("end_date_t")))
        started = sorted(
            (float(row["start_date_t"]), opt_float(row.get("end_date_t")))
            for row in rows
            if opt_float(row.get("start_date_t")) is not None
        )
        return cls(by_logical, tuple(s for s, _ in started), tuple(e for _, e in started))

    def end_of_pair(self, logical: float | None, before: float | None) -> tuple[bool, float | None]:
        """(paired, its end): same logical date, else the run started last by ``before``."""
        if logical is not None and logical in self.end_by_logical:
            return True, self.end_by_logical[logical]
        if before is None:
            return False, None
        index = bisect_right(self.starts, before)
        return (True, self.ends[index - 1]) if index else (False, None)


def _pair(
    row: Mapping[str, Any],
    upstream: _UpstreamRuns,
    waits: Mapping[tuple[str, str], float],
    windows: Sequence[FaultWindow],
) -> _Paired | None:
    """The run's figures against its paired upstream run; None when none pairs."""
    queued = opt_float(row.get("queued_at_t"))
    started = opt_float(row.get("start_date_t"))
    logical = opt_float(row.get("logical_date_t"))
    paired, upstream_end = upstream.end_of_pair(logical, queued if queued is not None else started)
    if not paired:
        return None
    start_after = (
        math.nan if started is None or upstream_end is None else max(0.0, started - upstream_end)
    )
    wait = waits.get((str(row["dag_id"]), str(row["run_id"])), math.nan)
    in_fault = queued is not None and any(w.start_t <= queued < w.end_t for w in windows)
    return _Paired(wait, start_after, in_fault)


def _row(
    upstream: str, downstream: str, dags: int, runs: int, paired: Sequence[_Paired]
) -> CrossDagWait:
    faulted = [p for p in paired if p.in_fault]
    return CrossDagWait(
        upstream=upstream,
        downstream=downstream,
        dags=dags,
        runs=runs,
        paired=len(paired),
        sensor_wait=Percentiles.of(p.sensor_wait for p in paired),
        start_after_upstream=Percentiles.of(p.start_after for p in paired),
        sensor_wait_in_faults=Percentiles.of(p.sensor_wait for p in faulted),
        start_after_upstream_in_faults=Percentiles.of(p.start_after for p in faulted),
    )
