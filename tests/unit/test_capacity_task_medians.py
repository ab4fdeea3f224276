"""Per-task medians of a capacity step: every task of the DAG, staged or not."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dagstorm.analysis.capacity.ramp import first_growth, task_medians


def tries(rows: list[tuple[str, str, int, int, float, float]]) -> pd.DataFrame:
    """(run_id, task_id, map_index, try_number, start, end) → a task_tries frame."""
    return pd.DataFrame(
        [
            {
                "dag_id": "d",
                "run_id": run,
                "task_id": task,
                "map_index": index,
                "try_number": number,
                "state": "running" if math.isnan(end) else "success",
                "queued_when_t": start,
                "start_date_t": start,
                "end_date_t": end,
            }
            for run, task, index, number, start, end in rows
        ]
    )


def test_mapped_instances_sum_retries_take_the_last_and_unfinished_do_not_count() -> None:
    runs = pd.DataFrame({"dag_id": ["d", "d", "d"], "run_id": ["a", "b", "c"]})
    frame = tries(
        [
            ("a", "split", 0, 1, 0.0, 10.0),  # a mapped task: 10 + 20 = 30 s in run a
            ("a", "split", 1, 1, 0.0, 20.0),
            ("b", "split", 0, 1, 0.0, 50.0),
            ("a", "check", -1, 1, 0.0, 100.0),  # retried: the last try's 4 s counts
            ("a", "check", -1, 2, 200.0, 204.0),
            ("b", "check", -1, 1, 0.0, 6.0),
            ("c", "check", -1, 1, 0.0, math.nan),  # still running: not counted
            ("z", "check", -1, 1, 0.0, 999.0),  # another run: not counted
        ]
    )
    medians = task_medians(runs, frame, compression=30.0)
    assert medians == {"check": pytest.approx(5.0 * 30), "split": pytest.approx(40.0 * 30)}
    assert task_medians(runs.iloc[0:0], frame, 30.0) == {}


def test_a_task_a_branch_skipped_is_not_timed_at_zero() -> None:
    runs = pd.DataFrame({"dag_id": ["d", "d"], "run_id": ["a", "b"]})
    frame = tries([("a", "light", -1, 1, 0.0, 60.0), ("b", "light", -1, 1, 0.0, 80.0)])
    frame = pd.concat([frame, tries([("a", "heavy", -1, 1, 5.0, 5.0)]).assign(state="skipped")])
    assert task_medians(runs, frame, compression=1.0) == {"light": 70.0}


def test_the_task_that_grew_first_among_tasks_in_and_out_of_stages() -> None:
    steps = [
        (0, {"validate": 600.0, "aggregate": 900.0, "load": 60.0}),
        (1, {"validate": 650.0, "aggregate": 1000.0, "load": 200.0}),  # load: +140 s
        (2, {"validate": 3000.0, "aggregate": 1500.0, "load": 60.0}),
    ]
    grew = first_growth(steps, keys=["aggregate", "load", "validate"])
    assert grew is not None and (grew.stage, grew.step) == ("load", 1)
    grew = first_growth(steps[::2], keys=["aggregate", "load", "validate"])
    assert grew is not None and (grew.stage, grew.step, grew.rise_sim_s) == ("validate", 2, 2400.0)
