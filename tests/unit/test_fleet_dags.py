"""The fleet (pipelines/fleet): 55 DAGs parse with Airflow 3, their cross-DAG links hold.

Like tests/unit/test_pipeline_dags.py, pipelines/tools/check_dags.py runs in the
embedded stack's Airflow virtualenv (no stack needs to be running: a private
AIRFLOW_HOME, a bare DagBag) and the assertions are here. v1 and v2 of the shared
upstream are both parsed; the profile (pipelines/fleet/pipeline.yaml) must say
what the DAG files do: the same DAGs, the same upstreams, the same pool.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dagstorm.profiles.loader import load_profile
from tests.unit.test_pipeline_dags import airflow_python

ROOT = Path(__file__).resolve().parents[2]
FLEET = ROOT / "pipelines" / "fleet"
DAGS = FLEET / "dags"
CHECKER = ROOT / "pipelines" / "tools" / "check_dags.py"
#: The whole fleet parsed by a fresh DagBag (measured ~0.14 s on 2 cores).
FOLDER_PARSE_BUDGET_S = 3.0
UPSTREAMS = {"ingest_raw_events", "ingest_campaigns", "ingest_spend"}


def _check(folder: Path, tmp: Path) -> dict[str, Any]:
    home = tmp / "airflow-home"
    home.mkdir(exist_ok=True)
    out = tmp / f"{folder.name}.json"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    result = subprocess.run(
        [str(airflow_python()), str(CHECKER), "--dags-folder", str(folder), "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, f"check_dags.py failed:\n{result.stderr[-3000:]}"
    report: dict[str, Any] = json.loads(out.read_text())
    return report


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _check(DAGS, tmp_path_factory.mktemp("fleet"))


@pytest.fixture(scope="module")
def v2_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """v2 parsed where the fault puts it: in v1's place, next to the fleet's config."""
    folder = tmp_path_factory.mktemp("fleet-v2") / "dags"
    shutil.copytree(DAGS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(FLEET / "v2" / "ingest_raw_events.py", folder / "ingest_raw_events.py")
    return _check(folder, folder.parent)


def _tasks_of(report: dict[str, Any], operator: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (dag_id, task)
        for dag_id, dag in report["dags"].items()
        for task in dag["tasks"].values()
        if task["operator"] == operator
    ]


def test_fifty_plus_dags_parse_without_errors_and_fast(report: dict[str, Any]) -> None:
    assert report["import_errors"] == {}
    assert report["serialize_errors"] == {}
    assert len(report["dags"]) >= 50
    assert set(report["dags"]) >= UPSTREAMS
    assert report["dagbag_fill_seconds"] < FOLDER_PARSE_BUDGET_S
    assert all(dag["cycle"] is None and dag["catchup"] is False for dag in report["dags"].values())


def test_all_three_kinds_of_cross_dag_dependency_point_at_real_dags(
    report: dict[str, Any],
) -> None:
    dags = report["dags"]
    sensors = _tasks_of(report, "ExternalTaskSensor")
    triggers = _tasks_of(report, "TriggerDagRunOperator")
    assert sensors and triggers
    for dag_id, sensor in sensors:
        assert sensor["external_dag_id"] in UPSTREAMS, dag_id
        assert sensor["mode"] == "reschedule", dag_id
        assert sensor["sensor_timeout"] is not None and sensor["sensor_timeout"] <= 3600, dag_id
        # Same schedule as the upstream, so the sensor finds its run's logical date.
        assert dags[dag_id]["schedule"] == dags[sensor["external_dag_id"]]["schedule"]
    for dag_id, trigger in triggers:
        assert dags[trigger["trigger_dag_id"]]["schedule"] == "None", dag_id
    emitted = {o for dag in dags.values() for t in dag["tasks"].values() for o in t["outlets"]}
    scheduled_on = {a for dag in dags.values() for a in dag["asset_schedule"]}
    assert scheduled_on and scheduled_on <= emitted


def test_the_pool_and_priorities_rank_critical_over_experimental(
    report: dict[str, Any],
) -> None:
    profile = load_profile(FLEET / "pipeline.yaml").profile
    weights: dict[str, set[int]] = {"critical": set(), "standard": set(), "experimental": set()}
    pooled = 0
    for dag in report["dags"].values():
        (tier,) = set(dag["tags"]) & set(weights)
        for task in dag["tasks"].values():
            weights[tier].add(task["priority_weight"])
            assert task["weight_rule"] in ("absolute", "WeightRule.ABSOLUTE")
            assert task["pool"] in {"default_pool", *profile.source.pools}
            pooled += task["pool"] in profile.source.pools
    assert pooled >= 50
    assert min(weights["critical"]) > max(weights["standard"]) > max(weights["experimental"])


def test_the_profile_declares_every_dag_and_its_upstream(report: dict[str, Any]) -> None:
    profile = load_profile(FLEET / "pipeline.yaml").profile
    for dag_id, dag in report["dags"].items():
        entry = profile.dag_of(dag_id)
        assert entry is not None and entry.sla is not None, dag_id
        actual = {t["external_dag_id"] or "" for t in dag["tasks"].values() if t["external_dag_id"]}
        actual |= {
            other
            for other, up in report["dags"].items()
            for t in up["tasks"].values()
            if t["trigger_dag_id"] == dag_id or set(t["outlets"]) & set(dag["asset_schedule"])
        }
        assert set(entry.upstream) == actual, dag_id
        if "critical" in dag["tags"]:
            assert entry.id == dag_id, f"{dag_id}: a critical DAG is listed by id"
    named = {d.id for d in profile.dags if d.id}
    assert named <= set(report["dags"])


def test_v2_of_the_shared_upstream_parses_in_place_of_v1(
    report: dict[str, Any], v2_report: dict[str, Any]
) -> None:
    assert v2_report["import_errors"] == {}
    assert v2_report["serialize_errors"] == {}
    v1 = report["dags"]["ingest_raw_events"]
    v2 = v2_report["dags"]["ingest_raw_events"]
    assert set(v2["tasks"]) > set(v1["tasks"])  # the same triggers and asset, plus new steps
    assert {t["trigger_dag_id"] for t in v2["tasks"].values()} == {
        t["trigger_dag_id"] for t in v1["tasks"].values()
    }
    assert "v2" in v2["tags"] and "v1" in v1["tags"]
    assert set(v2_report["dags"]) == set(report["dags"])
