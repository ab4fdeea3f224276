"""The report's table of where each DAG's run time goes: assignment, execution, transition."""

from __future__ import annotations

from dagstorm.analysis.measures.scheduler.task_split import SplitPart, TaskSplitGroup
from dagstorm.analysis.outputs.result import Result
from dagstorm.analysis.texts import percent_text
from dagstorm.core.durations import duration_text
from dagstorm.reports.markup import Child, Markup
from dagstorm.reports.tables import html_table

__all__ = ["task_split_table"]

HEADERS = (
    "DAG",
    "executor",
    "runs split",
    "run wall time p50",
    "assignment p50 (share)",
    "execution p50 (share)",
    "transition p50 (share)",
    "tries on the path",
)
#: What each column measures (the headers' hover text).
TITLES = (
    "the DAG whose successful runs are split",
    "the Airflow executor the run names (unknown: the run does not say)",
    "successful runs split; the DAG's other runs in scope are left out",
    "a run's end_date − start_date, median over the runs split",
    "queued → running of each try on the run's critical path, summed per run (median);"
    " share of all runs' path time",
    "running → end of each try on the path, summed per run (median); share of path time",
    "the previous try's end (the run's start for the first) → this try queued, summed per"
    " run (median); share of path time",
    "tries on the critical path (the latest-ending try before each one was queued) of all"
    " the tries of the runs split; equal in a chain",
)


def _part(part: SplitPart) -> str:
    return f"{duration_text(part.per_run_s.p50)} ({percent_text(part.share)})"


def _row(group: TaskSplitGroup) -> list[Child]:
    left_out = f" ({group.runs_left_out:,} left out)" if group.runs_left_out else ""
    return [
        group.dag_id,
        group.executor,
        f"{group.runs:,}{left_out}",
        duration_text(group.run_wall_s.p50),
        *(_part(p) for p in group.parts),
        f"{group.path_tries:,} of {group.tries:,}",
    ]


def task_split_table(result: Result) -> Markup:
    """One row per (DAG, executor): run wall time and its split, medians and shares."""
    rows = [_row(g) for g in result.measures.task_split.groups]
    return html_table(HEADERS, rows, numeric=[2, 3, 4, 5, 6, 7], titles=TITLES)
