"""Runs of the SLA's DAG a step did not start, active while it ran."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dagstorm.analysis.capacity.foreign_runs import NONE, ForeignRuns, foreign_runs, merged

NAN = math.nan


def runs(rows: list[tuple[str, bool, float, float, float]]) -> pd.DataFrame:
    """(run_id, triggered, queued, start, end) of dag ``d``; NaN: not known / not ended."""
    return pd.DataFrame(
        [
            {
                "dag_id": "d",
                "run_id": run,
                "triggered": triggered,
                "queued_at_t": queued,
                "start_date_t": start,
                "end_date_t": end,
            }
            for run, triggered, queued, start, end in rows
        ]
    )


def test_runs_the_step_did_not_start_are_counted_while_active() -> None:
    frame = runs(
        [
            ("mine", True, 5.0, 6.0, 50.0),
            ("waiting", False, -500.0, -499.0, NAN),  # active all along, never ended
            ("half", False, 40.0, NAN, 60.0),  # queued at 40 (no start), ended at 60
            ("before", False, -90.0, -80.0, -10.0),  # over before the step began
        ]
    )
    found = foreign_runs(frame, "d", end_t=100.0)
    assert (found.run_ids, found.most) == (frozenset({"waiting", "half"}), 2)
    assert found.mean == pytest.approx(1.2, abs=0.02)  # 1 throughout, +1 for a fifth of it
    assert foreign_runs(frame, "other", 100.0) == NONE
    assert foreign_runs(frame[frame["run_id"] == "mine"], "d", 100.0) == NONE


def test_without_triggers_only_runs_queued_before_the_step_are_foreign() -> None:
    frame = runs([("old", False, -10.0, -9.0, NAN), ("new", False, 5.0, 6.0, NAN)])
    found = foreign_runs(frame, "d", end_t=60.0)
    assert (found.runs, found.most) == (1, 1)  # "new" is the step's own: in its scope


def test_a_run_seen_by_two_sub_runs_of_a_step_is_counted_once() -> None:
    first = ForeignRuns(frozenset({"scheduled_1", "scheduled_2"}), 2, 2.0)
    second = ForeignRuns(frozenset({"scheduled_2", "scheduled_3"}), 2, 1.0)
    both = merged([first, second])
    assert (both.runs, both.most, both.mean) == (3, 2, 1.5)
    assert merged([]) == NONE
