"""Faults on one DAG: the runs around them and the DAG versions they ran on."""

from __future__ import annotations

import math

import pandas as pd

from dagstorm.analysis.measures.faults.dag_faults import dag_fault_impacts
from dagstorm.analysis.measures.faults.fault_windows import FaultWindow, FaultWindows

NAN = math.nan


def _runs() -> pd.DataFrame:
    rows = [
        # run_id, dag, state, start, end, versions
        ("r1", "up", "success", 10.0, 50.0, [3]),  # before the deploy, done before it
        ("r2", "up", "success", 90.0, 130.0, [3]),  # straddles the deploy at 100
        ("r3", "up", "failed", 105.0, 140.0, [4]),  # inside the window, on the new version
        ("r4", "up", "running", 150.0, NAN, [4]),  # inside, still running at the end
        ("r5", "other", "failed", 110.0, 120.0, [1]),  # another DAG: not counted
        ("r6", "up", "success", 300.0, 320.0, [5]),  # after the window
    ]
    return pd.DataFrame(
        rows,
        columns=["run_id", "dag_id", "state", "start_date_t", "end_date_t", "dag_versions"],
    )


def _intent(fault_id: str, action: str, dag_id: str = "up") -> dict[str, object]:
    spec = {"kind": "airflow", "action": action, "dag_id": dag_id}
    return {"kind": "fault_intent", "fault_id": fault_id, "spec": spec}


def test_a_deploy_counts_its_window_straddlers_and_versions() -> None:
    windows = FaultWindows(
        (FaultWindow("deploy", "airflow DAG up deployed", 88.0, 200.0, 100.0, reverted=True),),
        (),
    )
    (impact,) = dag_fault_impacts([_intent("deploy", "deploy_dag")], windows, _runs())
    assert impact.action == "deploy_dag" and impact.dag_id == "up"
    assert impact.effect_s == 12.0  # from the start of the inject to applied
    assert impact.reverted_t == 200.0
    assert (impact.runs_started, impact.runs_failed) == (3, 1)  # r2 (at 90), r3, r4
    assert impact.straddling == ("r2",)
    assert impact.versions_before == (3,)
    assert impact.versions_after == (3, 4, 5)


def test_only_dag_faults_of_the_airflow_kind_count_and_unreverted_ones_say_so() -> None:
    windows = FaultWindows(
        (
            FaultWindow("broken", "airflow DAG up broken", 100.0, 400.0, 101.0, reverted=False),
            FaultWindow("net", "network down on kafka", 0.0, 50.0, 0.5, reverted=True),
            FaultWindow("pool", "pool squeezed", 0.0, 50.0, 0.5, reverted=True),
        ),
        (),
    )
    intents: list[dict[str, object]] = [
        _intent("broken", "break_dag"),
        {"fault_id": "net", "spec": {"kind": "network", "link": "kafka", "effect": "down"}},
        {"fault_id": "pool", "spec": {"kind": "airflow", "action": "squeeze_pool", "pool": "p"}},
    ]
    (impact,) = dag_fault_impacts(intents, windows, _runs())
    assert impact.fault_id == "broken" and impact.reverted_t is None
    assert (impact.runs_started, impact.runs_failed) == (3, 1)  # r3, r4, r6
    assert impact.straddling == ("r2",)  # r1 ended before the fault
    assert impact.versions_after == (4, 5)


def test_no_run_of_the_dag_gives_zero_counts_not_an_error() -> None:
    windows = FaultWindows((FaultWindow("p", "paused", 0.0, 10.0, 1.0, reverted=True),), ())
    (impact,) = dag_fault_impacts([_intent("p", "pause_dag", "nobody")], windows, _runs())
    assert (impact.runs_started, impact.runs_failed, impact.straddling) == (0, 0, ())
    assert impact.versions_before == () and impact.versions_after == ()
