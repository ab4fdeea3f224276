# mypy: disable-error-code="import-untyped"
"""Runs of the SLA's DAG that a capacity step did not start, active while it ran.

A DAG's own limits — ``max_active_runs``, its pools — are shared by every run of it.
Runs the step did not start (the DAG's own schedule, a leftover of an earlier run,
someone's manual trigger) that were active during the step hold some of those
slots, so the step measured the pipeline with less room than its settings give.
On the embedded stack the reference DAG's hourly schedule does exactly that: each
scheduled run waits up to its sensor's 2 h timeout for a wall-clock partition that a
time-compressed run never writes, so two of its four active runs are held by them.

:func:`foreign_runs` counts them at :data:`SAMPLES` evenly spaced moments of the
step (a run is active from its start — else its queueing — to its end, or to the
step's end when it had not ended): the most at once and the mean. The capacity
answer names them, so a limit measured beside them is not read as the pipeline's
own; they are not excluded from anything (they are not in the SLA's scope).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean

import numpy as np
import pandas as pd

from dagstorm.analysis.measures.compute import in_scope

__all__ = ["NONE", "SAMPLES", "ForeignRuns", "foreign_runs", "merged"]

#: Moments of a step at which the active foreign runs are counted.
SAMPLES = 120


@dataclass(frozen=True)
class ForeignRuns:
    """Runs of the DAG the step did not start, active during it."""

    #: Their run ids (a step of several sub-runs counts a run once).
    run_ids: frozenset[str]
    #: The most active at once, and the mean over the step.
    most: int
    mean: float

    @property
    def runs(self) -> int:
        """Distinct such runs."""
        return len(self.run_ids)


#: No foreign run.
NONE = ForeignRuns(frozenset(), 0, 0.0)


def merged(found: Sequence[ForeignRuns]) -> ForeignRuns:
    """One count for a step of several sub-runs: their runs once each, the most, the mean."""
    if not found:
        return NONE
    return ForeignRuns(
        frozenset().union(*(f.run_ids for f in found)),
        max(f.most for f in found),
        fmean(f.mean for f in found),
    )


def foreign_runs(dag_runs: pd.DataFrame, dag_id: str, end_t: float) -> ForeignRuns:
    """The runs of ``dag_id`` outside this run's scope active in ``[0, end_t]`` (module doc)."""
    if dag_runs.empty or end_t <= 0:
        return NONE
    mine = dag_runs[dag_runs["dag_id"] == dag_id]
    scoped = set(in_scope(dag_runs, dag_id)["run_id"])
    other = mine[~mine["run_id"].isin(scoped)]
    if other.empty:
        return NONE
    begin = pd.to_numeric(other["start_date_t"], errors="coerce")
    begin = begin.fillna(pd.to_numeric(other["queued_at_t"], errors="coerce"))
    end = pd.to_numeric(other["end_date_t"], errors="coerce").fillna(end_t)
    known = begin.notna()
    ids = other["run_id"][known].astype(str).to_numpy()
    begin, end = begin[known].to_numpy(float), end[known].to_numpy(float)
    moments = np.linspace(0.0, end_t, SAMPLES)
    active = (begin[None, :] <= moments[:, None]) & (moments[:, None] < end[None, :])
    counts = active.sum(axis=1)
    overlapping = frozenset(ids[active.any(axis=0)])
    return ForeignRuns(overlapping, int(counts.max()), float(counts.mean()))
