# mypy: disable-error-code="import-untyped"
"""Work a run inherited: DAG runs queued before it began that ran during it.

A backlog left by an earlier storm (or a schedule's catch-up) competes for the same
executor slots as the run's own load, and the run's throughput and delays include
its work. Nothing in the run's figures is wrong for that, but a reader comparing two
runs must know: this measure counts those runs — queued before the run began
(``queued_at`` < 0), not triggered by this run — and their tries that started
during it, against every try that started during it. Any DAG; nothing here knows a
pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dagstorm.analysis.measures.scheduler.throughput import NEVER_RAN

#: DAGs named in ``by_dag`` (the most inherited runs first).
SHOWN = 5


@dataclass(frozen=True)
class InheritedRuns:
    """DAG runs queued before the run began whose tries started during it."""

    #: Such runs (over every DAG).
    runs: int
    #: Their tries that started during the run.
    tries: int
    #: Every try that started during the run (any run).
    all_tries: int
    #: ``tries / all_tries`` (None: no try started during the run).
    share: float | None
    #: ``{dag_id, runs}`` for the :data:`SHOWN` DAGs with the most, most first.
    by_dag: tuple[dict[str, str | int], ...]


def inherited_runs(
    dag_runs: pd.DataFrame, task_tries: pd.DataFrame, *, end_t: float
) -> InheritedRuns:
    """The runs of ``dag_runs`` queued before the start whose tries started in ``[0, end_t]``."""
    ran = task_tries[~task_tries["state"].isin(NEVER_RAN)]
    during = ran[(ran["start_date_t"] >= 0) & (ran["start_date_t"] <= end_t)]
    if dag_runs.empty or during.empty or "queued_at_t" not in dag_runs:
        return _none(len(during))
    before = dag_runs[dag_runs["queued_at_t"] < 0]
    if "triggered" in before:
        before = before[~before["triggered"].astype(bool)]
    keys = set(zip(before["dag_id"], before["run_id"], strict=True))
    theirs = during[
        [(d, r) in keys for d, r in zip(during["dag_id"], during["run_id"], strict=True)]
    ]
    if theirs.empty:
        return _none(len(during))
    runs = theirs[["dag_id", "run_id"]].drop_duplicates()
    counts = runs["dag_id"].value_counts()
    ordered = sorted(counts.items(), key=lambda item: (-int(item[1]), str(item[0])))
    return InheritedRuns(
        runs=len(runs),
        tries=len(theirs),
        all_tries=len(during),
        share=len(theirs) / len(during),
        by_dag=tuple({"dag_id": str(d), "runs": int(n)} for d, n in ordered[:SHOWN]),
    )


def _none(all_tries: int) -> InheritedRuns:
    return InheritedRuns(0, 0, all_tries, 0.0 if all_tries else None, ())
