"""The assignment / execution / transition split of DAG runs, on synthetic task tries."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from dagstorm.analysis.measures.scheduler.task_split import (
    UNKNOWN_EXECUTOR,
    TaskSplitGroup,
    TryTimes,
    run_split,
    task_split,
)
from dagstorm.analysis.outputs.result import result_document, result_of
from dagstorm.analysis.rundata.load import build_run_data

NAN = math.nan
TRY_COLUMNS = ["dag_id", "run_id", "task_id", "try_number", "state"]


def runs(*rows: tuple[str, str, str, float, float]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["dag_id", "run_id", "state", "start_date_t", "end_date_t"]
    ).astype({"start_date_t": float, "end_date_t": float})


def tries(*rows: tuple[Any, ...]) -> pd.DataFrame:
    """Rows of (dag, run, task, try, state, queued, start, end)."""
    columns = [*TRY_COLUMNS, "queued_when_t", "start_date_t", "end_date_t"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({c: float for c in columns[-3:]})


def chain(run_id: str, run_start: float, steps: list[tuple[float, float, float]]) -> list[Any]:
    """A chain's tries: each step is (transition, assignment, execution) in seconds."""
    rows, t = [], run_start
    for n, (transition, assignment, execution) in enumerate(steps):
        queued = t + transition
        start = queued + assignment
        t = start + execution
        rows.append(("d", run_id, f"t{n}", 1, "success", queued, start, t))
    return rows


def only(split: Any) -> TaskSplitGroup:
    (group,) = split.groups
    assert isinstance(group, TaskSplitGroup)
    return group


def test_a_three_task_chain_splits_exactly() -> None:
    steps = [(1.0, 2.0, 3.0), (0.5, 4.0, 1.0), (2.5, 0.25, 6.0)]
    frame = tries(*chain("r1", 10.0, steps))
    last_end = float(frame["end_date_t"].max())
    group = only(task_split(runs(("d", "r1", "success", 10.0, last_end + 1.5)), frame))
    assert group.runs == 1 and group.runs_left_out == 0
    assert group.tries == group.path_tries == 3
    assert group.transition.per_run_s.p50 == pytest.approx(4.0)
    assert group.assignment.per_run_s.p50 == pytest.approx(6.25)
    assert group.execution.per_run_s.p50 == pytest.approx(10.0)
    assert group.path_s.p50 == pytest.approx(20.25)
    assert group.run_wall_s.p50 == pytest.approx(21.75)  # the run's end comes 1.5 s later
    shares = [p.share for p in group.parts]
    assert shares == pytest.approx([6.25 / 20.25, 10.0 / 20.25, 4.0 / 20.25])
    assert group.executor == UNKNOWN_EXECUTOR


def test_a_retry_waits_in_transition_and_its_failed_try_counts() -> None:
    # t0; t1 fails after 2 s of work, its retry is queued 5 s later; t2 after it.
    rows = [
        ("d", "r", "t0", 1, "success", 1.0, 2.0, 4.0),
        ("d", "r", "t1", 1, "failed", 5.0, 6.0, 8.0),
        ("d", "r", "t1", 2, "success", 13.0, 13.5, 16.0),
        ("d", "r", "t2", 1, "success", 17.0, 19.0, 20.0),
    ]
    group = only(task_split(runs(("d", "r", "success", 0.0, 21.0)), tries(*rows)))
    assert group.path_tries == 4
    assert group.transition.per_run_s.p50 == pytest.approx(1 + 1 + 5 + 1)
    assert group.assignment.per_run_s.p50 == pytest.approx(1 + 1 + 0.5 + 2)
    assert group.execution.per_run_s.p50 == pytest.approx(2 + 2 + 2.5 + 1)
    assert group.path_s.p50 == pytest.approx(20.0)


def test_a_try_that_never_started_is_all_assignment() -> None:
    # The executor lost t1's first try (failed at 9 without a start); try 2 ran.
    rows = [
        ("d", "r", "t0", 1, "success", 1.0, 2.0, 3.0),
        ("d", "r", "t1", 1, "failed", 4.0, NAN, 9.0),
        ("d", "r", "t1", 2, "success", 10.0, 11.0, 12.0),
    ]
    group = only(task_split(runs(("d", "r", "success", 0.0, 12.0)), tries(*rows)))
    assert group.assignment.per_run_s.p50 == pytest.approx(1 + 5 + 1)
    assert group.execution.per_run_s.p50 == pytest.approx(1 + 0 + 1)
    assert group.transition.per_run_s.p50 == pytest.approx(1 + 1 + 1)
    assert group.path_s.p50 == pytest.approx(12.0)


def test_parallel_branches_follow_the_branch_that_finished_last() -> None:
    # a → (fast, slow) → join: the split follows a, slow, join; fast is off the path.
    rows = [
        ("d", "r", "a", 1, "success", 1.0, 2.0, 5.0),
        ("d", "r", "fast", 1, "success", 6.0, 6.5, 7.0),
        ("d", "r", "slow", 1, "success", 6.0, 8.0, 20.0),
        ("d", "r", "join", 1, "success", 21.0, 22.0, 23.0),
    ]
    group = only(task_split(runs(("d", "r", "success", 0.0, 24.0)), tries(*rows)))
    assert (group.tries, group.path_tries) == (4, 3)
    assert group.execution.per_run_s.p50 == pytest.approx(3 + 12 + 1)
    assert group.assignment.per_run_s.p50 == pytest.approx(1 + 2 + 1)
    assert group.transition.per_run_s.p50 == pytest.approx(1 + 1 + 1)
    assert group.path_s.p50 == pytest.approx(23.0)


def test_skipped_tries_and_unsuccessful_runs_are_left_out() -> None:
    rows = [
        *chain("ok", 0.0, [(1.0, 1.0, 1.0), (1.0, 1.0, 1.0)]),
        ("d", "ok", "branch_not_taken", 1, "skipped", NAN, 6.0, 6.0),
        *chain("bad", 0.0, [(1.0, 1.0, 1.0)]),
        ("d", "bad", "t1", 1, "failed", 4.0, 5.0, 6.0),
        *chain("running", 0.0, [(1.0, 1.0, 1.0)]),
    ]
    dag_runs = runs(
        ("d", "ok", "success", 0.0, 6.0),
        ("d", "bad", "failed", 0.0, 6.0),
        ("d", "running", "running", 0.0, NAN),
        ("d", "no_tries", "success", 0.0, 1.0),
    )
    group = only(task_split(dag_runs, tries(*rows)))
    assert (group.runs, group.runs_left_out, group.tries) == (1, 3, 2)
    assert group.path_s.p50 == pytest.approx(6.0)


def test_percentiles_over_runs_and_groups_per_dag_and_executor() -> None:
    rows = [
        *chain("r1", 0.0, [(1.0, 1.0, 1.0)]),
        *chain("r2", 0.0, [(1.0, 3.0, 1.0)]),
        *chain("r3", 0.0, [(1.0, 5.0, 1.0)]),
    ]
    other = [("e", "x", "t", 1, "success", 1.0, 2.0, 3.0)]
    dag_runs = runs(
        ("d", "r1", "success", 0.0, 3.0),
        ("d", "r2", "success", 0.0, 5.0),
        ("d", "r3", "success", 0.0, 7.0),
        ("e", "x", "success", 0.0, 3.0),
    )
    split = task_split(dag_runs, tries(*rows, *other), executor="LocalExecutor")
    assert [(g.dag_id, g.executor) for g in split.groups] == [
        ("d", "LocalExecutor"),
        ("e", "LocalExecutor"),
    ]
    (d,) = split.for_dag("d")
    assert d.assignment.per_run_s.p50 == pytest.approx(3.0)
    assert d.assignment.per_run_s.max == pytest.approx(5.0)
    assert d.assignment.share == pytest.approx(9.0 / 15.0)


def test_tries_that_name_their_executor_group_their_runs() -> None:
    frame = tries(*chain("r1", 0.0, [(1.0, 1.0, 1.0)]), *chain("r2", 0.0, [(1.0, 2.0, 1.0)]))
    frame["executor"] = ["CeleryExecutor", None]
    dag_runs = runs(("d", "r1", "success", 0.0, 3.0), ("d", "r2", "success", 0.0, 4.0))
    split = task_split(dag_runs, frame, executor="LocalExecutor")
    assert [(g.executor, g.runs) for g in split.groups] == [
        ("CeleryExecutor", 1),
        ("LocalExecutor", 1),
    ]


def test_zero_length_tries_do_not_loop() -> None:
    same = [TryTimes(5.0, 5.0, 5.0), TryTimes(5.0, 5.0, 5.0), TryTimes(5.0, 5.0, 5.0)]
    split = run_split(0.0, same)
    assert split is not None and split.path_tries == 3
    assert split.total == pytest.approx(5.0)
    assert run_split(0.0, []) is None


def test_no_runs_no_groups() -> None:
    assert task_split(runs(), tries()).groups == ()


ORIGIN = datetime(2026, 3, 1, 22, 0, tzinfo=UTC).timestamp()


def iso(t: float) -> str:
    return datetime.fromtimestamp(ORIGIN + t, UTC).isoformat()


def journal(executor: str | None) -> list[dict[str, Any]]:
    """run_start, one triggered 3-task chain run, run_end."""
    environment = {"python": "3.11"} | ({"executor": executor} if executor else {})
    events: list[dict[str, Any]] = []

    def add(kind: str, t: float, **fields: Any) -> None:
        events.append({"seq": len(events) + 1, "t": t, "wall": ORIGIN + t, "kind": kind, **fields})

    add("run_start", 0, time_compression=1.0, environment=environment)
    add("dag_triggered", 1, dag_id="windmill_chain_40", run_id="r", ok=True)
    for n, (queued, start, end) in enumerate([(3, 5, 6), (7, 10, 11), (12, 12.5, 14)]):
        add(
            "task_try",
            end,
            dag_id="windmill_chain_40",
            run_id="r",
            task_id=f"fibo_{n:02d}",
            map_index=-1,
            try_number=1,
            state="success",
            queued_when=iso(queued),
            start_date=iso(start),
            end_date=iso(end),
        )
    add(
        "dag_run",
        15,
        dag_id="windmill_chain_40",
        run_id="r",
        state="success",
        queued_at=iso(1),
        start_date=iso(2),
        end_date=iso(15),
    )
    add("run_end", 16, status="completed")
    return events


def test_result_json_carries_the_split_and_the_executor(tmp_path: Path) -> None:
    data = build_run_data(journal("CeleryExecutor"), run_dir=tmp_path)
    assert data.scenario.executor == "CeleryExecutor"
    document = result_document(result_of(data))
    assert document["scenario"]["executor"] == "CeleryExecutor"
    (group,) = document["measures"]["task_split"]["groups"]
    assert (group["dag_id"], group["executor"], group["runs"]) == (
        "windmill_chain_40",
        "CeleryExecutor",
        1,
    )
    assert group["assignment"]["per_run_s"]["p50"] == pytest.approx(2 + 3 + 0.5)
    assert group["execution"]["per_run_s"]["p50"] == pytest.approx(1 + 1 + 1.5)
    assert group["transition"]["per_run_s"]["p50"] == pytest.approx(1 + 1 + 1)
    assert group["run_wall_s"]["p50"] == pytest.approx(13.0)
    assert group["path_s"]["p50"] == pytest.approx(12.0)


def test_a_run_start_without_an_executor_is_unknown(tmp_path: Path) -> None:
    data = build_run_data(journal(None), run_dir=tmp_path)
    assert data.scenario.executor is None
    (group,) = result_of(data).measures.task_split.groups
    assert group.executor == UNKNOWN_EXECUTOR
