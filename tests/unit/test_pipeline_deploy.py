"""What the deploy step sends to Airflow (no stack: the bodies are checked, not sent)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dagstorm.core.progress import Progress
from dagstorm.stack import deploy
from dagstorm.stack.config import StackConfig
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import Stack


def _stack() -> Stack:
    return Stack(
        kind="embedded",
        airflow_url="http://127.0.0.1:8080",
        airflow_username="admin",
        airflow_password="secret-a",
        spark_master_url="spark://127.0.0.1:7177",
        spark_ui_url=None,
        spark_history_url=None,
        kafka_bootstrap="127.0.0.1:9192",
        toxiproxy_url=None,
        serving_db_dsn="postgresql://serving:secret-b@127.0.0.1:16433/ad_serving",
        alert_sink_port=8227,
    )


def _settings(tmp_path: Path, jars: tuple[Path, ...] = ()) -> deploy.PipelineSettings:
    return deploy.PipelineSettings(
        landing_dir=tmp_path / "landing",
        work_dir=tmp_path / "work",
        jobs_dir=tmp_path / "jobs",
        schema_file=tmp_path / "schema.sql",
        kafka_jars=jars,
        spark_pool_slots=1,
    )


def test_connections_point_at_the_stack_through_its_proxies(tmp_path: Path) -> None:
    bodies = {c["connection_id"]: c for c in deploy.connections(_stack(), _settings(tmp_path))}
    assert set(bodies) == set(deploy.CONNECTION_IDS)
    spark = bodies[deploy.SPARK_CONN_ID]
    assert (spark["conn_type"], spark["host"], spark["port"]) == (
        "spark",
        "spark://127.0.0.1",
        7177,
    )
    assert json.loads(spark["extra"])["deploy-mode"] == "client"
    serving = bodies[deploy.SERVING_CONN_ID]
    assert (serving["host"], serving["port"], serving["schema"]) == (
        "127.0.0.1",
        16433,
        "ad_serving",
    )
    assert (serving["login"], serving["password"]) == ("serving", "secret-b")
    kafka = json.loads(bodies[deploy.KAFKA_CONN_ID]["extra"])
    assert kafka["bootstrap.servers"] == "127.0.0.1:9192"
    assert kafka["enable.auto.commit"] is False  # ack_signal commits, never the sensor
    assert json.loads(bodies[deploy.LANDING_FS_CONN_ID]["extra"]) == {
        "path": str(tmp_path / "landing")
    }


def test_variables_and_pools(tmp_path: Path) -> None:
    jars = (tmp_path / "a.jar", tmp_path / "spark-sql-kafka-0-10_2.13-4.2.0.jar")
    values = deploy.variables(_stack(), _settings(tmp_path, jars))
    assert set(values) == set(deploy.VARIABLE_KEYS)
    assert values[deploy.VAR_ALERT_SINK_URL] == "http://127.0.0.1:8227/alerts"
    assert values[deploy.VAR_KAFKA_JARS] == ",".join(str(j) for j in jars)
    assert json.loads(values[deploy.VAR_SCHEDULER_BENCH]) == {
        "dags": 2,
        "tasks": 5,
        "shape": "linear",
    }
    assert all(isinstance(v, str) for v in values.values())
    assert deploy.pools(_settings(tmp_path)) == {deploy.SPARK_POOL: 1}


def test_missing_kafka_jars_stop_the_deploy_before_any_network_call(tmp_path: Path) -> None:
    with pytest.raises(deploy.DeployError, match="Kafka connector jars"):
        deploy.deploy_to(_stack(), _settings(tmp_path))


def test_embedded_settings_live_under_the_state_dir(tmp_path: Path) -> None:
    ctx = StackContext(
        config=StackConfig(state_dir=tmp_path / "state"), progress=Progress(quiet=True)
    )
    settings = deploy.PipelineSettings.for_embedded(ctx)
    assert settings.landing_dir == tmp_path / "state" / "landing"
    assert settings.work_dir == tmp_path / "state" / "pipeline"
    assert (settings.jobs_dir / "aggregate_ad_logs.py").exists()
    assert settings.schema_file.exists()
    assert settings.wait_for_dags == ()  # profile deploys wait for their own DAGs


def test_the_serving_schema_is_idempotent_ddl() -> None:
    root = Path(deploy.__file__).resolve().parents[2]
    sql = (root / "pipelines" / "sql" / "serving_schema.sql").read_text()
    code = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    creates = re.findall(r"CREATE\s+(?:OR\s+REPLACE\s+)?\w+(?:\s+IF\s+NOT\s+EXISTS)?", code)
    assert len(creates) == 7
    for create in creates:
        assert create.endswith("IF NOT EXISTS") or "OR REPLACE" in create, create
    # The only DROPs are the guarded removal of the unreleased first layout.
    guarded = code[code.index("DO $$") : code.index("END\n$$;")]
    assert code.count("DROP ") == guarded.count("DROP ") == 3
