# mypy: disable-error-code="import-untyped"
"""Where a DAG run's wall time goes: assignment, execution and transition (Windmill's split).

For each successful DAG run, from its task tries alone (wall seconds):

- **assignment**: a try's ``queued_when`` → ``start_date`` (waiting for a worker
  slot). A try that ended without a ``start_date`` never ran: its whole
  ``queued_when`` → ``end_date`` is assignment. A try without ``queued_when`` is
  taken as queued when it started (assignment 0);
- **execution**: ``start_date`` → ``end_date``;
- **transition**: the end of the try before it → its ``queued_when`` (the
  scheduler noticing the upstream is done and queueing the next task); for the
  first try, the run's ``start_date`` → its ``queued_when``. A retry's wait
  (``up_for_retry`` → queued again) is transition too.

The tries carry no upstream ids, so the try *before* a try is derived: the try of
the same run with the latest ``end_date`` at or before its ``queued_when``. That is
exact for a chain (Windmill's benchmark: 40 tasks in a line) and for retries; with
parallel branches it is the branch that finished last before the try was queued.

The split follows the **critical path**: from the try that ended last, back through
each try's previous one to the first. Its three parts add up exactly to the last
try's end − the run's start (``path_s``); for a chain the path holds every try, so
each part is the sum over the run's tries. Tries of a parallel branch that ended
earlier are off the path and not counted (``tries`` vs ``path_tries``).

Per (DAG, executor): the run's wall time (``end_date`` − ``start_date``) and each
part's sum per run as p50/p95/p99/max, and each part's share of all the runs'
path time. Only ``success`` runs with a start, an end and a try that ran are
split; the DAG's other runs are counted in ``runs_left_out``. The executor is the
run's (``run_start``'s ``executor``), or a try's ``executor`` when the tries
carry one; ``unknown`` when neither says.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dagstorm.analysis.measures.cells import is_missing
from dagstorm.analysis.measures.percentiles import Percentiles
from dagstorm.analysis.measures.scheduler.throughput import NEVER_RAN

__all__ = [
    "PARTS",
    "UNKNOWN_EXECUTOR",
    "RunSplit",
    "SplitPart",
    "TaskSplit",
    "TaskSplitGroup",
    "TryTimes",
    "run_split",
    "task_split",
]

#: The three parts, in Windmill's order.
PARTS = ("assignment", "execution", "transition")
#: The executor group of runs nothing names an executor for.
UNKNOWN_EXECUTOR = "unknown"


@dataclass(frozen=True)
class TryTimes:
    """One try's times (wall seconds); ``start`` is NaN when it never started."""

    queued: float
    start: float
    end: float


@dataclass(frozen=True)
class RunSplit:
    """One run's split along its critical path (wall seconds)."""

    assignment: float
    execution: float
    transition: float
    #: Tries on the critical path.
    path_tries: int

    @property
    def total(self) -> float:
        """The three parts: the last try's end − the run's start."""
        return self.assignment + self.execution + self.transition


@dataclass(frozen=True)
class SplitPart:
    """One part over a group's runs."""

    name: str
    #: The part's sum per run.
    per_run_s: Percentiles
    #: The part's sum over all runs ÷ their path time (0..1; None without time).
    share: float | None


@dataclass(frozen=True)
class TaskSplitGroup:
    """The split of one DAG's runs on one executor."""

    dag_id: str
    executor: str
    #: Runs split (successful, with a start, an end and a try that ran).
    runs: int
    #: The DAG's runs in scope that were not split (not successful, or no times).
    runs_left_out: int
    #: The run's ``end_date`` − ``start_date``.
    run_wall_s: Percentiles
    #: The three parts together: the last try's end − the run's start.
    path_s: Percentiles
    #: Tries of the split runs, and of those the ones on the critical path.
    tries: int
    path_tries: int
    assignment: SplitPart
    execution: SplitPart
    transition: SplitPart

    @property
    def parts(self) -> tuple[SplitPart, SplitPart, SplitPart]:
        """Assignment, execution, transition."""
        return (self.assignment, self.execution, self.transition)


@dataclass(frozen=True)
class TaskSplit:
    """Per (DAG, executor), sorted by DAG then executor."""

    groups: tuple[TaskSplitGroup, ...]

    def for_dag(self, dag_id: str) -> tuple[TaskSplitGroup, ...]:
        """The groups of ``dag_id`` (one per executor)."""
        return tuple(g for g in self.groups if g.dag_id == dag_id)


def run_split(run_start: float, tries: Sequence[TryTimes]) -> RunSplit | None:
    """The split of one run that started at ``run_start``; None without a try."""
    return _split(
        run_start, [t.queued for t in tries], [t.start for t in tries], [t.end for t in tries]
    )


def _split(
    run_start: float, queued: list[float], start: list[float], end: list[float]
) -> RunSplit | None:
    """:func:`run_split` on the tries' columns (plain lists: runs have few tries)."""
    if not end:
        return None
    order = sorted(range(len(end)), key=end.__getitem__)
    sorted_ends = [end[i] for i in order]
    current = order[-1]
    seen: set[int] = set()
    assignment = execution = transition = 0.0
    # Each step goes to a try that ended no later than this one was queued; the bound
    # (and ``seen``) stop the walk if zero-length tries ever point at each other.
    for _ in range(len(end)):
        seen.add(current)
        started = not math.isnan(start[current])
        assignment += (start[current] if started else end[current]) - queued[current]
        execution += end[current] - start[current] if started else 0.0
        previous = _previous(sorted_ends, order, queued[current], seen)
        transition += queued[current] - (run_start if previous is None else end[previous])
        if previous is None:
            break
        current = previous
    return RunSplit(assignment, execution, transition, path_tries=len(seen))


def _previous(
    sorted_ends: list[float], order: list[int], queued: float, seen: set[int]
) -> int | None:
    """The not yet seen try with the latest end at or before ``queued``."""
    index = bisect.bisect_right(sorted_ends, queued) - 1
    while index >= 0:
        if order[index] not in seen:
            return order[index]
        index -= 1
    return None


def _try_times(tries: pd.DataFrame) -> pd.DataFrame:
    """The tries that ran or waited to, with ``queued`` (``queued_when``, else the start).

    Sorted by DAG and run, so each run's tries are one slice.
    """
    kept = tries[~tries["state"].isin(NEVER_RAN) & tries["end_date_t"].notna()]
    frame = pd.DataFrame(
        {
            "dag_id": kept["dag_id"].astype(str),
            "run_id": kept["run_id"].astype(str),
            "queued": kept["queued_when_t"].fillna(kept["start_date_t"]).astype(float),
            "start": kept["start_date_t"].astype(float),
            "end": kept["end_date_t"].astype(float),
        }
    )
    if "executor" in kept:
        frame["executor"] = kept["executor"]
    frame = frame[frame["queued"].notna()]
    return frame.sort_values(["dag_id", "run_id"], kind="stable").reset_index(drop=True)


def _slices(times: pd.DataFrame) -> dict[tuple[str, str], tuple[int, int]]:
    """(dag_id, run_id) → the [first, last) rows of its tries in ``times``."""
    if times.empty:
        return {}
    dags = times["dag_id"].to_numpy()
    runs = times["run_id"].to_numpy()
    changes = np.flatnonzero((dags[1:] != dags[:-1]) | (runs[1:] != runs[:-1])) + 1
    bounds = [0, *changes.tolist(), len(times)]
    return {(str(dags[lo]), str(runs[lo])): (lo, hi) for lo, hi in itertools.pairwise(bounds)}


def task_split(
    dag_runs: pd.DataFrame, task_tries: pd.DataFrame, *, executor: str | None = None
) -> TaskSplit:
    """The split of every DAG's runs in ``dag_runs`` (the runs in scope) by executor."""
    if dag_runs.empty or task_tries.empty:
        return TaskSplit(())
    times = _try_times(task_tries)
    slices = _slices(times)
    queued, start, end = (times[c].tolist() for c in ("queued", "start", "end"))
    executors = times["executor"].tolist() if "executor" in times else None
    default = executor or UNKNOWN_EXECUTOR
    split: dict[tuple[str, str], list[tuple[float, RunSplit, int]]] = {}
    left_out: dict[tuple[str, str], int] = {}
    columns = ("dag_id", "run_id", "state", "start_date_t", "end_date_t")
    for dag_id, run_id, state, run_start, run_end in zip(
        *(dag_runs[c] for c in columns), strict=True
    ):
        lo, hi = slices.get((str(dag_id), str(run_id)), (0, 0))
        key = (str(dag_id), _executor_of(executors, lo, hi, default))
        one = None
        if state == "success" and not pd.isna(run_start) and not pd.isna(run_end):
            one = _split(float(run_start), queued[lo:hi], start[lo:hi], end[lo:hi])
        if one is None:
            left_out[key] = left_out.get(key, 0) + 1
            continue
        wall = float(run_end) - float(run_start)
        split.setdefault(key, []).append((wall, one, hi - lo))
    keys = sorted(set(split) | set(left_out))
    return TaskSplit(tuple(_group(k, split.get(k, []), left_out.get(k, 0)) for k in keys))


def _executor_of(executors: list[object] | None, lo: int, hi: int, default: str) -> str:
    """The first executor a try of the run names, else the run's."""
    for named in (executors or [])[lo:hi]:
        if not is_missing(named):
            return str(named)
    return default


def _group(
    key: tuple[str, str], runs: list[tuple[float, RunSplit, int]], left_out: int
) -> TaskSplitGroup:
    splits = [s for _, s, _ in runs]
    path_total = sum(s.total for s in splits)

    def part(name: str) -> SplitPart:
        values = [float(getattr(s, name)) for s in splits]
        share = sum(values) / path_total if path_total > 0 else None
        return SplitPart(name, Percentiles.of(values), share)

    return TaskSplitGroup(
        dag_id=key[0],
        executor=key[1],
        runs=len(runs),
        runs_left_out=left_out,
        run_wall_s=Percentiles.of([wall for wall, _, _ in runs]),
        path_s=Percentiles.of([s.total for s in splits]),
        tries=sum(n for _, _, n in runs),
        path_tries=sum(s.path_tries for s in splits),
        assignment=part("assignment"),
        execution=part("execution"),
        transition=part("transition"),
    )
