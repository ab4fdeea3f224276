"""The reference pipeline's setup on a running stack (profile `setup: reference`), idempotently.

What it sets up, all through public APIs:

* Airflow (REST API, bulk upserts): the connections, pools and variables the
  DAGs name (pipelines/dags/ad_pipeline/settings.py; a unit test checks that the
  two lists agree);
* Kafka: the ``ad_events`` and ``ad_events_control`` topics;
* PostgreSQL: the serving schema (pipelines/sql/serving_schema.sql) in the
  serving database, through the ``serving-db`` proxy.

:mod:`dagstorm.stack.profile_deploy` deploys a profile's DAG files, runs this
setup when the profile asks for it, and waits until Airflow has parsed its DAGs
(:func:`wait_for_dags`, which reports any import error).

Running it twice changes nothing the second time (upserts, IF NOT EXISTS).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
from airflow_client import client as af

from dagstorm.clients.airflow import api_client
from dagstorm.clients.kafka import KafkaAdminClient, KafkaError
from dagstorm.core.errors import InfrastructureError
from dagstorm.core.polling import poll_until
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import Stack, resolve_stack

#: Connection ids, pool names and variable keys the DAGs use (ad_pipeline/settings.py).
SPARK_CONN_ID = "spark_standalone"
SERVING_CONN_ID = "serving_db"
KAFKA_CONN_ID = "kafka_events"
LANDING_FS_CONN_ID = "landing_fs"
CONNECTION_IDS = (SPARK_CONN_ID, SERVING_CONN_ID, KAFKA_CONN_ID, LANDING_FS_CONN_ID)
SPARK_POOL = "spark_pool"
VAR_ALERT_SINK_URL = "dagstorm_alert_sink_url"
VAR_JOBS_DIR = "ad_pipeline_jobs_dir"
VAR_WORK_DIR = "ad_pipeline_work_dir"
VAR_LANDING_DIR = "ad_pipeline_landing_dir"
VAR_KAFKA_JARS = "spark_kafka_jars"
VAR_SCHEDULER_BENCH = "scheduler_bench"
VARIABLE_KEYS = (
    VAR_ALERT_SINK_URL,
    VAR_JOBS_DIR,
    VAR_WORK_DIR,
    VAR_LANDING_DIR,
    VAR_KAFKA_JARS,
    VAR_SCHEDULER_BENCH,
)
#: Kafka topics and their partition counts.
TOPICS: Mapping[str, int] = {"ad_events": 3, "ad_events_control": 1}
SIGNAL_GROUP = "ad_events_stream"
#: Seconds to wait for the DAG processor to parse them.
DAG_WAIT_SECONDS = 90.0


class DeployError(InfrastructureError):
    """The reference pipeline could not be deployed onto the stack."""


@dataclass(frozen=True)
class PipelineSettings:
    """Where the pipeline's files live and how big its resources are."""

    landing_dir: Path
    work_dir: Path
    jobs_dir: Path
    schema_file: Path
    kafka_jars: tuple[Path, ...]
    spark_pool_slots: int
    scheduler_bench: Mapping[str, Any] = field(
        default_factory=lambda: {"dags": 2, "tasks": 5, "shape": "linear"}
    )
    #: Wait for these DAGs to be parsed (profile deploys wait for their own DAGs).
    wait_for_dags: tuple[str, ...] = ()

    @classmethod
    def for_embedded(cls, ctx: StackContext) -> PipelineSettings:
        """Settings of the embedded stack: everything below the state directory."""
        pipelines = ctx.project_root / "pipelines"
        return cls(
            landing_dir=ctx.layout.landing_dir,
            work_dir=ctx.layout.root / "pipeline",
            jobs_dir=pipelines / "jobs",
            schema_file=pipelines / "sql" / "serving_schema.sql",
            kafka_jars=tuple(sorted(ctx.layout.spark_jars.glob("*.jar"))),
            spark_pool_slots=ctx.config.spark.worker_cores,
        )


def postgres_connection(connection_id: str, dsn: str) -> dict[str, Any]:
    """An Airflow ``postgres`` connection body for ``dsn`` (holds its secret)."""
    parts = _serving_parts(dsn)
    return {
        "connection_id": connection_id,
        "conn_type": "postgres",
        "host": parts["host"],
        "port": parts["port"],
        "login": parts["login"],
        "password": parts["password"],
        "schema": parts["schema"],
        "description": "A pipeline profile's database (dagstorm)",
    }


def upsert_connection(stack: Stack, body: dict[str, Any]) -> None:
    """Create or overwrite one Airflow connection through the REST API."""
    connection_body = af.BulkBodyConnectionBody.from_dict(_upsert([body]))
    assert connection_body is not None
    with api_client(stack) as api:
        response = af.ConnectionApi(api).bulk_connections(connection_body, _request_timeout=30)
        _check_bulk("connections", response)


def dag_files_outside(stack: Stack, folder: Path) -> Path | None:
    """A file of a live DAG that Airflow parsed outside ``folder`` (None: none does)."""
    root = folder.resolve()
    with api_client(stack) as api:
        dags = af.DAGApi(api).get_dags(limit=50, exclude_stale=True, _request_timeout=15).dags
    for dag in dags:
        path = Path(dag.fileloc)
        if not path.is_relative_to(root) and not path.resolve().is_relative_to(root):
            return path
    return None


def _serving_parts(dsn: str) -> dict[str, Any]:
    url = urlsplit(dsn)
    return {
        "host": url.hostname or "127.0.0.1",
        "port": url.port or 5432,
        "login": unquote(url.username or ""),
        "password": unquote(url.password or ""),
        "schema": url.path.lstrip("/"),
    }


def _spark_master(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    return f"spark://{parts.hostname}", parts.port


def connections(stack: Stack, settings: PipelineSettings) -> list[dict[str, Any]]:
    """The Airflow connections, as REST API bodies (the serving one holds a secret)."""
    spark_host, spark_port = _spark_master(stack.endpoint("spark"))
    serving = _serving_parts(stack.endpoint("serving_db"))
    kafka_extra = {
        "bootstrap.servers": stack.kafka_bootstrap,
        "group.id": SIGNAL_GROUP,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "socket.timeout.ms": 10000,
    }
    return [
        {
            "connection_id": SPARK_CONN_ID,
            "conn_type": "spark",
            "host": spark_host,
            "port": spark_port,
            "extra": json.dumps({"deploy-mode": "client", "spark-binary": "spark-submit"}),
            "description": "Spark standalone master (dagstorm)",
        },
        {
            "connection_id": SERVING_CONN_ID,
            "conn_type": "postgres",
            "host": serving["host"],
            "port": serving["port"],
            "login": serving["login"],
            "password": serving["password"],
            "schema": serving["schema"],
            "description": "Serving database through the serving-db proxy (dagstorm)",
        },
        {
            "connection_id": KAFKA_CONN_ID,
            "conn_type": "kafka",
            "extra": json.dumps(kafka_extra),
            "description": "Kafka through the kafka proxy; the signal sensor's consumer",
        },
        {
            "connection_id": LANDING_FS_CONN_ID,
            "conn_type": "fs",
            "extra": json.dumps({"path": str(settings.landing_dir)}),
            "description": "The landing zone (dagstorm's generator writes it)",
        },
    ]


def variables(stack: Stack, settings: PipelineSettings) -> dict[str, str]:
    """The Airflow variables (plain strings; scheduler_bench is JSON)."""
    return {
        VAR_ALERT_SINK_URL: f"http://127.0.0.1:{stack.alert_sink_port}/alerts",
        VAR_JOBS_DIR: str(settings.jobs_dir),
        VAR_WORK_DIR: str(settings.work_dir),
        VAR_LANDING_DIR: str(settings.landing_dir),
        VAR_KAFKA_JARS: ",".join(str(jar) for jar in settings.kafka_jars),
        VAR_SCHEDULER_BENCH: json.dumps(dict(settings.scheduler_bench), sort_keys=True),
    }


def pools(settings: PipelineSettings) -> dict[str, int]:
    """Pool name → slots: one Spark application per executor core of the cluster."""
    return {SPARK_POOL: max(1, settings.spark_pool_slots)}


def _check_bulk(what: str, response: Any) -> None:
    errors = (response.create.errors if response.create else None) or []
    if errors:
        raise DeployError(
            f"Airflow refused some {what}: {errors}",
            where="POST bulk /api/v2",
            fix="read the Airflow api-server log",
        )


def _upsert(entities: list[dict[str, Any]]) -> dict[str, Any]:
    """A bulk body that creates each entity, overwriting one that exists."""
    return {
        "actions": [{"action": "create", "action_on_existence": "overwrite", "entities": entities}]
    }


def apply_airflow(stack: Stack, settings: PipelineSettings) -> None:
    """Upsert the connections, pools and variables through the REST API."""
    pool_bodies = [
        {
            "name": name,
            "slots": slots,
            "include_deferred": False,
            "description": "Spark submissions of the ad pipeline (one per executor core)",
        }
        for name, slots in pools(settings).items()
    ]
    variable_bodies = [
        {"key": key, "value": value} for key, value in variables(stack, settings).items()
    ]
    connection_body = af.BulkBodyConnectionBody.from_dict(_upsert(connections(stack, settings)))
    pool_body = af.BulkBodyPoolBody.from_dict(_upsert(pool_bodies))
    variable_body = af.BulkBodyVariableBody.from_dict(_upsert(variable_bodies))
    assert connection_body and pool_body and variable_body  # from_dict(None) alone gives None
    with api_client(stack) as api:
        response = af.ConnectionApi(api).bulk_connections(connection_body, _request_timeout=30)
        _check_bulk("connections", response)
        _check_bulk("pools", af.PoolApi(api).bulk_pools(pool_body, _request_timeout=30))
        response = af.VariableApi(api).bulk_variables(variable_body, _request_timeout=30)
        _check_bulk("variables", response)


def apply_pools(stack: Stack, pools: Mapping[str, int], description: str) -> None:
    """Create the pools (name → slots) through the REST API, overwriting their slots."""
    bodies = [
        {"name": name, "slots": slots, "include_deferred": False, "description": description}
        for name, slots in sorted(pools.items())
    ]
    if not bodies:
        return
    body = af.BulkBodyPoolBody.from_dict(_upsert(bodies))
    assert body is not None
    with api_client(stack) as api:
        _check_bulk("pools", af.PoolApi(api).bulk_pools(body, _request_timeout=30))


def apply_schema(dsn: str, schema_file: Path) -> None:
    """Run ``schema_file`` (idempotent DDL) on the database of ``dsn``."""
    try:
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            conn.execute(schema_file.read_text())
    except psycopg.Error as exc:
        raise DeployError(
            f"schema not applied ({exc.__class__.__name__})",
            where=str(schema_file),
            fix="check `dagstorm stack check` (postgres) and the SQL file",
        ) from None


def ensure_topics(stack: Stack) -> None:
    """Create the pipeline's Kafka topics if they do not exist."""
    # After dagstorm.clients.kafka (which silences kafka-python's import-time warnings).
    from kafka.admin import NewTopic  # noqa: PLC0415

    try:
        admin = KafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap, request_timeout_ms=10_000)
    except KafkaError as exc:
        raise DeployError(
            f"Kafka does not answer ({exc.__class__.__name__})",
            where=stack.kafka_bootstrap,
            fix="check `dagstorm stack status`",
        ) from None
    try:
        existing = set(admin.list_topics())
        missing = [
            NewTopic(name=name, num_partitions=parts, replication_factor=1)
            for name, parts in TOPICS.items()
            if name not in existing
        ]
        if missing:
            admin.create_topics(missing)
    finally:
        admin.close()


def wait_for_dags(stack: Stack, dag_ids: tuple[str, ...], timeout: float) -> None:
    """Wait until Airflow knows every DAG of ``dag_ids``; raise with the import errors if not."""
    missing = set(dag_ids)
    if not missing:
        return
    with api_client(stack) as api:
        dags_api = af.DAGApi(api)

        def listed(dag_id: str) -> bool:
            # Known and not stale: a DAG undeployed a moment ago is still listed, but
            # stale (triggering it gives 404) until its file is parsed again.
            try:
                dag = dags_api.get_dag(dag_id, _request_timeout=15)
            except af.ApiException as exc:
                if exc.status == 404:
                    return False
                raise
            return not getattr(dag, "is_stale", False)

        def all_listed() -> bool | None:
            nonlocal missing
            missing = {dag_id for dag_id in missing if not listed(dag_id)}
            return True if not missing else None

        if poll_until(all_listed, timeout=timeout, interval=2.0):
            return
        errors = af.ImportErrorApi(api).get_import_errors(_request_timeout=15)
        detail = "; ".join(
            f"{e.filename}: {str(e.stack_trace).strip().splitlines()[-1]}"
            for e in errors.import_errors
        )
        raise DeployError(
            f"DAGs not parsed after {timeout:.0f} s: {', '.join(sorted(missing))}"
            + (f" (import errors: {detail})" if detail else ""),
            where="airflow-dag-processor",
            fix="see `dagstorm stack logs airflow-dag-processor`; the running Airflow must "
            "read the DAGs folder dagstorm deploys into (docs/own-pipeline.md)",
        )


def deploy_to(stack: Stack, settings: PipelineSettings) -> None:
    """Deploy the pipeline onto ``stack`` (any kind whose endpoints are known)."""
    for directory in (settings.landing_dir / "ad_logs", settings.work_dir):
        directory.mkdir(parents=True, exist_ok=True)
    if not any(jar.name.startswith("spark-sql-kafka") for jar in settings.kafka_jars):
        raise DeployError(
            "Spark's Kafka connector jars are missing",
            where="spark jars directory",
            fix="run `dagstorm stack install` (it resolves them from Maven Central)",
        )
    apply_schema(stack.endpoint("serving_db"), settings.schema_file)
    ensure_topics(stack)
    apply_airflow(stack, settings)
    if settings.wait_for_dags:
        wait_for_dags(stack, settings.wait_for_dags, DAG_WAIT_SECONDS)


def deploy_pipeline(ctx: StackContext) -> None:
    """The reference setup onto the embedded stack of ``ctx`` (profiles: ``profile_deploy``)."""
    deploy_to(resolve_stack(ctx.config), PipelineSettings.for_embedded(ctx))
