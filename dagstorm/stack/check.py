"""`dagstorm stack check`: each part of the stack, through its real API.

Kafka: a message produced and consumed through the Toxiproxy proxy. Spark: a
tiny job on the master. Airflow: a token and the DAG list. PostgreSQL: a query
through the serving-db proxy. Toxiproxy: every declared proxy exists and is up.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from airflow_client.client import DAGApi

from dagstorm.clients.airflow import api_client
from dagstorm.clients.kafka import KafkaConsumer, KafkaProducer, TopicPartition
from dagstorm.clients.toxiproxy import ToxiproxyClient
from dagstorm.core.errors import DagstormError
from dagstorm.stack.embedded.context import find_java_home, find_spark_home
from dagstorm.stack.endpoints import Stack

SMOKE_TOPIC = "dagstorm-smoke"
EXPECTED_SPARK_LINE = "dagstorm-smoke rows=100000 sum=4999950000"


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check."""

    name: str
    ok: bool
    seconds: float
    detail: str


def check_postgres(stack: Stack) -> str:
    """SELECT through the serving-db proxy."""
    with psycopg.connect(stack.serving_db_dsn, connect_timeout=5) as conn:
        row = conn.execute("SELECT current_database(), version()").fetchone()
    assert row is not None
    return f"{row[0]} via proxy: {str(row[1]).split(',')[0]}"


def check_toxiproxy(stack: Stack) -> str:
    """Every declared proxy exists and is enabled."""
    if stack.toxiproxy_url is None:
        return "no Toxiproxy declared (network faults unavailable)"
    with ToxiproxyClient(stack.toxiproxy_url) as client:
        proxies = {p.name: p for p in client.list_proxies()}
    missing = [name for name in stack.links if name not in proxies]
    disabled = [name for name in stack.links if name in proxies and not proxies[name].enabled]
    if missing or disabled:
        raise AssertionError(f"missing proxies {missing}, disabled proxies {disabled}")
    return f"{len(stack.links)} proxies enabled"


def check_kafka(stack: Stack) -> str:
    """Produce one message and read it back, through the proxy."""
    payload = uuid.uuid4().hex.encode()
    producer = KafkaProducer(
        bootstrap_servers=stack.kafka_bootstrap,
        acks="all",
        request_timeout_ms=10_000,
        bootstrap_timeout_ms=10_000,
        max_block_ms=20_000,
    )
    try:
        meta = producer.send(SMOKE_TOPIC, payload).get(timeout=30)
    finally:
        producer.close(timeout=5)
    consumer = KafkaConsumer(
        bootstrap_servers=stack.kafka_bootstrap,
        enable_auto_commit=False,
        consumer_timeout_ms=15_000,
        request_timeout_ms=12_000,
    )
    try:
        partition = TopicPartition(SMOKE_TOPIC, meta.partition)
        consumer.assign([partition])
        consumer.seek(partition, meta.offset)
        for message in consumer:
            if message.value == payload:
                return f"round trip via {stack.kafka_bootstrap} (partition {meta.partition})"
    finally:
        consumer.close()
    raise AssertionError("the produced message was not read back")


def check_spark(stack: Stack, env: dict[str, str] | None = None) -> str:
    """spark-submit a tiny job to the master and check its answer."""
    spark_home = find_spark_home()
    job = Path(__file__).with_name("spark_smoke_job.py")
    run_env = (
        dict(env)
        if env
        else {
            **os.environ,
            "SPARK_HOME": str(spark_home),
            "PYSPARK_PYTHON": sys.executable,
            "JAVA_HOME": str(find_java_home()),
        }
    )
    result = subprocess.run(
        [
            str(spark_home / "bin" / "spark-submit"),
            "--master",
            stack.spark_master_url,
            "--conf",
            "spark.executor.memory=512m",
            "--conf",
            "spark.cores.max=1",
            str(job),
        ],
        env=run_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if EXPECTED_SPARK_LINE not in result.stdout:
        last = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise AssertionError(f"spark-submit exited {result.returncode}: {' | '.join(last)}")
    app = re.search(r"app-\d+-\d+", result.stderr)
    return f"job ran on {stack.spark_master_url}" + (f" as {app.group(0)}" if app else "")


def check_airflow(stack: Stack) -> str:
    """A token, then the DAG list."""
    with api_client(stack) as client:
        dags = DAGApi(client).get_dags(limit=100)
    return f"token ok, {dags.total_entries} DAG(s) listed"


def run_checks(stack: Stack, *, spark_env: dict[str, str] | None = None) -> list[CheckResult]:
    """Run every check; a failing check is reported, never raised."""
    checks: list[tuple[str, Callable[[], str]]] = [
        ("toxiproxy", lambda: check_toxiproxy(stack)),
        ("postgres", lambda: check_postgres(stack)),
        ("kafka", lambda: check_kafka(stack)),
        ("airflow", lambda: check_airflow(stack)),
        ("spark", lambda: check_spark(stack, spark_env)),
    ]
    results: list[CheckResult] = []
    for name, check in checks:
        started = time.monotonic()
        try:
            detail, ok = check(), True
        except DagstormError as exc:
            detail, ok = exc.render(), False
        except Exception as exc:  # noqa: BLE001 - a check reports every failure as data
            detail, ok = f"{exc.__class__.__name__}: {exc}".strip(), False
        results.append(CheckResult(name, ok, time.monotonic() - started, detail))
    return results
