"""Handlers of Airflow's events: triggers, DAG runs, task tries and alerts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagstorm.run.events import Kind
from dagstorm.tui.state.describe import describe
from dagstorm.tui.state.records import (
    FINAL_TRY_STATES,
    MAX_DAG_RUNS,
    MAX_TRIES,
    NEVER_RAN_STATES,
    DagRunRow,
    Event,
    LogLine,
    num,
    trim,
)

if TYPE_CHECKING:
    from dagstorm.tui.state.run_state import Handler, RunState

_TRY_KEY = ("dag_id", "run_id", "task_id", "map_index", "try_number")


def on_dag_triggered(state: RunState, e: Event, t: float) -> None:
    """Keep a successful trigger for the verdict (which runs the workloads started).

    An asset event names no run (the scheduler starts it): nothing to keep.
    """
    if e.get("ok") and e.get("run_id"):
        state.verdict.triggered(e)


def on_dag_run(state: RunState, e: Event, t: float) -> None:
    """The last state of a DAG run, its times on the run's axis."""
    key = (str(e.get("dag_id")), str(e.get("run_id")))
    state.verdict.dag_run(key, e)
    state.dag_runs[key] = DagRunRow(
        dag_id=key[0],
        run_id=key[1],
        state=str(e.get("state", "?")),
        run_type=str(e.get("run_type", "")),
        queued_t=state.t_of(e.get("queued_at")),
        start_t=state.t_of(e.get("start_date")),
        end_t=state.t_of(e.get("end_date")),
    )
    state.dag_runs.move_to_end(key)
    trim(state.dag_runs, MAX_DAG_RUNS)


def on_task_try(state: RunState, e: Event, t: float) -> None:
    """Count a try's start and finish once each, and a retry when it is not the first."""
    key = tuple(e.get(k) for k in _TRY_KEY)
    state.verdict.task_try(key, e)
    started, finished = state.tries_seen.get(key, (False, False))
    try_state = str(e.get("state", ""))
    if try_state in NEVER_RAN_STATES:
        return
    start_t = state.t_of(e.get("start_date"))
    if not started and start_t is not None:
        state.tries_started.add(start_t)
        state.recent_started.add(start_t)
        started = True
        if num(e.get("try_number"), 1) > 1:
            state.retries += 1
    end_t = state.t_of(e.get("end_date"))
    if not finished and try_state in FINAL_TRY_STATES and end_t is not None:
        state.tries_finished.add(end_t)
        state.recent_finished.add(end_t)
        finished = True
    state.tries_seen[key] = (started, finished)
    trim(state.tries_seen, MAX_TRIES)


def on_alert(state: RunState, e: Event, t: float) -> None:
    """An alert from Airflow's callbacks: counted by kind and listed."""
    state.verdict.alert(e)
    kind = str(e.get("alert_kind", "?"))
    state.alerts_by_kind[kind] += 1
    state.alerts.append(LogLine(t, kind, "warning", describe(e)))


HANDLERS: dict[str, Handler] = {
    Kind.DAG_TRIGGERED: on_dag_triggered,
    Kind.DAG_RUN: on_dag_run,
    Kind.TASK_TRY: on_task_try,
    Kind.ALERT: on_alert,
}
