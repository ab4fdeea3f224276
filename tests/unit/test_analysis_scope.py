"""Which DAG runs an SLA counts: the ones this run triggered, when it triggered any."""

from __future__ import annotations

import pandas as pd

from dagstorm.analysis.measures.compute import in_scope


def _runs(**columns: list[object]) -> pd.DataFrame:
    return pd.DataFrame(columns)


def test_triggered_runs_only_when_there_are_any() -> None:
    runs = _runs(
        dag_id=["d", "d", "d", "other"],
        run_id=["scheduled__1", "manual__a", "manual__b", "x"],
        triggered=[False, True, True, True],
        queued_at_t=[-600.0, 5.0, 90.0, 1.0],
    )
    assert list(in_scope(runs, "d")["run_id"]) == ["manual__a", "manual__b"]


def test_without_triggers_runs_queued_before_the_start_are_left_out() -> None:
    runs = _runs(
        dag_id=["d", "d", "d"],
        run_id=["old", "new", "unknown"],
        triggered=[False] * 3,
        queued_at_t=[-600.0, 30.0, float("nan")],
    )
    assert list(in_scope(runs, "d")["run_id"]) == ["new", "unknown"]
