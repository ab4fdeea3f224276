"""DAG integrity of the reference pipeline (pipelines/dags), no stack needed.

dagstorm's virtualenv has no Airflow, so pipelines/tools/check_dags.py runs in
the embedded stack's Airflow virtualenv (``<state>/airflow/venv``, found through
the usual stack config: ``DAGSTORM_STACK_FILE`` / ``DAGSTORM_STATE_DIR``) and
reports as JSON; the assertions are here. A missing Airflow venv FAILS these
tests with the fix (`dagstorm stack install`): they never skip.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from dagstorm.stack import deploy
from dagstorm.stack.config import load_stack_config
from dagstorm.stack.embedded.layout import StateLayout
from dagstorm.stack.endpoints import Stack

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "pipelines" / "dags"
CHECKER = ROOT / "pipelines" / "tools" / "check_dags.py"
#: Budgets: one DAG file, and the whole folder, parsed by a fresh DagBag.
FILE_PARSE_BUDGET_S = 2.0
FOLDER_PARSE_BUDGET_S = 5.0
BENCH = {"DAGSTORM_BENCH_DAGS": "3", "DAGSTORM_BENCH_TASKS": "7", "DAGSTORM_BENCH_SHAPE": "star"}
EXPECTED_DAGS = {
    "ad_logs_hourly",
    "ad_events_stream",
    "scheduler_bench_000",
    "scheduler_bench_001",
    "scheduler_bench_002",
    "windmill_chain_40",
}


def _fake_stack() -> Stack:
    return Stack(
        kind="embedded",
        airflow_url="http://127.0.0.1:8080",
        airflow_username="admin",
        airflow_password="x",
        spark_master_url="spark://127.0.0.1:7077",
        spark_ui_url=None,
        spark_history_url=None,
        kafka_bootstrap="127.0.0.1:9092",
        toxiproxy_url=None,
        serving_db_dsn="postgresql://serving:pw@127.0.0.1:15433/ad_serving",
        alert_sink_port=8127,
    )


def _settings(tmp: Path) -> deploy.PipelineSettings:
    return deploy.PipelineSettings(
        landing_dir=tmp / "landing",
        work_dir=tmp / "work",
        jobs_dir=ROOT / "pipelines" / "jobs",
        schema_file=ROOT / "pipelines" / "sql" / "serving_schema.sql",
        kafka_jars=(tmp / "spark-sql-kafka-0-10_2.13-4.2.0.jar",),
        spark_pool_slots=1,
    )


def airflow_python() -> Path:
    """The Airflow venv's python, or a test failure saying how to get one."""
    layout = StateLayout(load_stack_config().resolved_state_dir())
    python = layout.airflow_venv / "bin" / "python"
    if not python.exists():
        pytest.fail(
            f"Airflow's virtualenv is missing ({python}): the DAG integrity tests run DAGs"
            " with Airflow's own Python. Fix: `dagstorm stack install` (or point"
            " DAGSTORM_STACK_FILE / DAGSTORM_STATE_DIR at an installed stack)."
        )
    return python


def _report(tmp: Path) -> dict[str, Any]:
    stack, settings = _fake_stack(), _settings(tmp)
    connections = {
        c["connection_id"]: {**c, "extra": json.loads(c.get("extra") or "{}")}
        for c in deploy.connections(stack, settings)
    }
    sample = {
        "variables": deploy.variables(stack, settings),
        "connections": connections,
        "xcom": {
            "route_signal/signal": {"signal_id": "sig-1", "ranges": {"0": [0, 10]}},
            "route_signal/ranges_json": '{"0": [0, 10]}',
        },
        "logical_date": "2024-05-01T13:00:00+00:00",
    }
    sample_file, out = tmp / "sample.json", tmp / "report.json"
    sample_file.write_text(json.dumps(sample))
    home = tmp / "airflow-home"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        **BENCH,
    }
    result = subprocess.run(
        [
            *(str(airflow_python()), str(CHECKER), "--dags-folder", str(DAGS)),
            *("--sample", str(sample_file), "--out", str(out)),
        ],
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
    return _report(tmp_path_factory.mktemp("dagcheck"))


def _tasks(report: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (dag_id, task_id, task)
        for dag_id, dag in report["dags"].items()
        for task_id, task in dag["tasks"].items()
    ]


def _settings_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "ad_pipeline_settings", DAGS / "ad_pipeline" / "settings.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_dag_imports_without_error(report: dict[str, Any]) -> None:
    assert report["import_errors"] == {}
    assert set(report["dags"]) == EXPECTED_DAGS


def test_dag_files_parse_within_budget(report: dict[str, Any]) -> None:
    slow = {f: s for f, s in report["file_parse_seconds"].items() if s > FILE_PARSE_BUDGET_S}
    assert slow == {}
    assert report["dagbag_fill_seconds"] < FOLDER_PARSE_BUDGET_S


def test_no_cycles_and_catchup_off(report: dict[str, Any]) -> None:
    for dag_id, dag in report["dags"].items():
        assert dag["cycle"] is None, dag_id
        assert dag["catchup"] is False, dag_id


def test_every_task_retries_with_backoff_and_has_alert_callbacks(report: dict[str, Any]) -> None:
    for dag_id, task_id, task in _tasks(report):
        where = f"{dag_id}.{task_id}"
        assert task["retries"] == 3, where
        assert task["retry_exponential_backoff"] == 2.0, where
        assert task["max_retry_delay"] == 60.0, where
        assert task["on_failure_callbacks"] >= 1, where
        assert task["on_retry_callbacks"] >= 1, where


def test_pools_connections_and_variables_exist_in_the_deploy_step(
    report: dict[str, Any], tmp_path: Path
) -> None:
    pools = set(deploy.pools(_settings(tmp_path))) | {"default_pool"}
    for dag_id, task_id, task in _tasks(report):
        where = f"{dag_id}.{task_id}"
        assert task["pool"] in pools, where
        assert set(task["conn_ids"]) <= set(deploy.CONNECTION_IDS), where
        assert set(task["connections_used"]) <= set(deploy.CONNECTION_IDS), where
        assert set(task["variables_used"]) <= set(deploy.VARIABLE_KEYS), where


def test_dag_settings_and_deploy_name_the_same_things() -> None:
    settings = _settings_module()
    assert {
        settings.SPARK_CONN_ID,
        settings.SERVING_CONN_ID,
        settings.KAFKA_CONN_ID,
        settings.LANDING_FS_CONN_ID,
    } == set(deploy.CONNECTION_IDS)
    assert set(settings.VARIABLES) == set(deploy.VARIABLE_KEYS)
    assert settings.SPARK_POOL == deploy.SPARK_POOL
    assert {settings.EVENTS_TOPIC, settings.CONTROL_TOPIC} == set(deploy.TOPICS)
    assert settings.SIGNAL_GROUP == deploy.SIGNAL_GROUP


def test_templates_render_for_a_sample_date(report: dict[str, Any]) -> None:
    for dag_id, task_id, task in _tasks(report):
        assert task["render_errors"] == {}, f"{dag_id}.{task_id}"
    hourly = report["dags"]["ad_logs_hourly"]["tasks"]
    assert hourly["wait_for_partition"]["rendered"]["filepath"] == (
        "ad_logs/dt=2024-05-01/hour=13/_SUCCESS"
    )
    args = hourly["aggregate_light"]["rendered"]["application_args"]
    assert "'--partition-hour', '2024-05-01T13'" in args
    assert "/staging/ad_logs/dt=2024-05-01/hour=13" in args
    assert hourly["aggregate_light"]["rendered"]["application"].endswith(
        "pipelines/jobs/aggregate_ad_logs.py"
    )
    assert "'partition': '2024-05-01T13'" in hourly["validate"]["rendered"]["op_kwargs"]
    stream = report["dags"]["ad_events_stream"]["tasks"]["aggregate_events"]["rendered"]
    assert "spark-sql-kafka-0-10_2.13" in stream["jars"]
    assert "'--bootstrap', '127.0.0.1:9092'" in stream["application_args"]
    assert "signal=sig-1" in stream["application_args"]


def test_spark_runs_in_the_spark_pool_and_loads_outrank_experiments(
    report: dict[str, Any],
) -> None:
    hourly = report["dags"]["ad_logs_hourly"]
    stream = report["dags"]["ad_events_stream"]
    spark = [hourly["tasks"]["aggregate_light"], hourly["tasks"]["aggregate_heavy"]]
    spark.append(stream["tasks"]["aggregate_events"])
    assert {t["pool"] for t in spark} == {deploy.SPARK_POOL}
    bench = report["dags"]["scheduler_bench_000"]["tasks"]
    top_bench = max(t["priority_weight"] for t in bench.values())
    assert hourly["tasks"]["load_serving"]["priority_weight"] > top_bench
    assert stream["tasks"]["load_events"]["priority_weight"] > top_bench
    assert hourly["has_deadline"] is True


def test_scheduler_bench_sizes_come_from_the_environment(report: dict[str, Any]) -> None:
    bench = {d: v for d, v in report["dags"].items() if d.startswith("scheduler_bench_")}
    assert len(bench) == int(BENCH["DAGSTORM_BENCH_DAGS"])
    assert {len(d["tasks"]) for d in bench.values()} == {int(BENCH["DAGSTORM_BENCH_TASKS"])}
    assert all(d["schedule"] == "None" for d in bench.values())


def test_windmill_chain_is_a_line_of_forty_python_tasks(report: dict[str, Any]) -> None:
    dag = report["dags"]["windmill_chain_40"]
    assert dag["schedule"] == "None"
    names = [f"fibo_{n:02d}" for n in range(40)]
    assert sorted(dag["tasks"]) == names
    assert {t["operator"] for t in dag["tasks"].values()} == {"PythonOperator"}
    upstream = {task_id: t["upstream"] for task_id, t in dag["tasks"].items()}
    assert upstream == {name: names[n - 1 : n] for n, name in enumerate(names)}
