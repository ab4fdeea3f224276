"""The embedded stack, checked part by part through each component's real API."""

from __future__ import annotations

import statistics
import time
import uuid

import httpx
import psutil
import psycopg
import pytest

from dagstorm.clients.kafka import KafkaAdminClient, KafkaProducer
from dagstorm.clients.toxiproxy import ToxiproxyClient, latency
from dagstorm.stack.check import check_airflow, check_kafka, check_spark
from dagstorm.stack.embedded.components.spark import spark_env
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.launcher import EmbeddedStack
from dagstorm.stack.embedded.processes import is_marked
from dagstorm.stack.endpoints import Stack

pytestmark = pytest.mark.integration


def _our_processes(ctx: StackContext) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.pid != psutil.Process().pid and is_marked(proc, ctx.marker):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def test_every_component_runs_and_is_healthy(stack_context: StackContext) -> None:
    rows = EmbeddedStack(stack_context).status()
    assert [(r.name, r.state, r.detail) for r in rows if r.state != "running"] == []
    versions = {r.name: r.version for r in rows}
    assert versions["kafka"].startswith("4.")
    assert versions["airflow-api-server"].startswith("3.")
    assert versions["spark-master"].startswith("4.")
    assert versions["toxiproxy"] == "2.12.0"


def test_up_on_a_running_stack_changes_nothing(stack_context: StackContext) -> None:
    embedded = EmbeddedStack(stack_context)
    before = {r.name: r.pid for r in embedded.status()}
    after = {r.name: r.pid for r in embedded.up()}
    assert after == before


def test_kafka_round_trip_through_the_proxy(stack: Stack) -> None:
    assert "round trip" in check_kafka(stack)


def test_broker_advertises_the_toxiproxy_address(stack: Stack) -> None:
    admin = KafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap, request_timeout_ms=5000)
    try:
        brokers = admin.describe_cluster()["brokers"]
    finally:
        admin.close()
    assert [f"{b['host']}:{b['port']}" for b in brokers] == [stack.kafka_bootstrap]


def _produce_latencies(stack: Stack, topic: str, count: int = 8) -> list[float]:
    producer = KafkaProducer(
        bootstrap_servers=stack.kafka_bootstrap,
        acks="all",
        linger_ms=0,
        request_timeout_ms=15_000,
        max_block_ms=20_000,
    )
    try:
        producer.send(topic, b"warm-up").get(timeout=30)
        samples = []
        for _ in range(count):
            started = time.monotonic()
            producer.send(topic, uuid.uuid4().bytes).get(timeout=30)
            samples.append(time.monotonic() - started)
    finally:
        producer.close(timeout=5)
    return samples


def test_latency_toxic_on_the_kafka_proxy_slows_produce_and_removal_restores_it(
    stack: Stack, toxiproxy_url: str
) -> None:
    topic = f"latency-{uuid.uuid4().hex[:8]}"
    added_ms = 400
    baseline = statistics.median(_produce_latencies(stack, topic))
    with ToxiproxyClient(toxiproxy_url) as client:
        client.add_toxic("kafka", latency(added_ms, name="test-latency"))
        try:
            slowed = statistics.median(_produce_latencies(stack, topic))
        finally:
            client.remove_toxic("kafka", "test-latency", missing_ok=True)
    restored = statistics.median(_produce_latencies(stack, topic))
    assert slowed >= added_ms / 1000, (baseline, slowed)
    assert slowed - baseline >= 0.8 * added_ms / 1000, (baseline, slowed)
    assert restored < added_ms / 1000, (baseline, slowed, restored)


def test_a_tiny_spark_job_runs_on_the_master_and_reaches_the_history_server(
    stack: Stack, stack_context: StackContext
) -> None:
    detail = check_spark(stack, spark_env(stack_context))
    app_id = detail.rsplit(" ", 1)[-1]
    assert app_id.startswith("app-"), detail
    assert stack.spark_history_url is not None
    deadline = time.monotonic() + 60
    seen: list[str] = []
    while time.monotonic() < deadline:
        apps = httpx.get(f"{stack.spark_history_url}/api/v1/applications", timeout=5).json()
        seen = [a["id"] for a in apps]
        if app_id in seen:
            break
        time.sleep(1)
    assert app_id in seen


def test_airflow_issues_a_token_and_lists_dags(stack: Stack) -> None:
    assert "token ok" in check_airflow(stack)


def test_airflow_refuses_a_wrong_password(stack: Stack) -> None:
    response = httpx.post(
        f"{stack.airflow_url}/auth/token",
        json={"username": stack.airflow_username, "password": "wrong"},
        timeout=10,
    )
    assert response.status_code in {401, 403}


def test_postgres_answers_through_its_proxy_and_not_when_the_link_is_down(
    stack: Stack, toxiproxy_url: str
) -> None:
    with psycopg.connect(stack.endpoint("serving_db"), connect_timeout=5) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    with ToxiproxyClient(toxiproxy_url) as client:
        client.disable_proxy("serving-db")
        try:
            with pytest.raises(psycopg.OperationalError):
                psycopg.connect(stack.endpoint("serving_db"), connect_timeout=3)
        finally:
            client.enable_proxy("serving-db")
    with psycopg.connect(stack.endpoint("serving_db"), connect_timeout=5) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_every_listening_socket_of_the_stack_is_on_loopback(stack_context: StackContext) -> None:
    exposed = []
    for proc in _our_processes(stack_context):
        try:
            for conn in proc.net_connections(kind="inet"):
                if conn.status == psutil.CONN_LISTEN and not conn.laddr.ip.startswith(
                    ("127.", "::ffff:127.", "::1")
                ):
                    exposed.append((proc.pid, proc.name(), conn.laddr))
        except psutil.Error:
            continue
    assert exposed == []


def test_credentials_are_private(stack_context: StackContext) -> None:
    secrets = stack_context.layout.secrets_dir
    assert secrets.stat().st_mode & 0o777 == 0o700
    for path in secrets.iterdir():
        assert path.stat().st_mode & 0o077 == 0, path
    password = stack_context.credentials.airflow_admin_password
    for log in stack_context.layout.logs_dir.glob("*.log"):
        assert password not in log.read_text(errors="replace"), log


@pytest.mark.stack_lifecycle
@pytest.mark.slow
def test_down_leaves_no_process_behind_and_up_brings_it_back(stack_context: StackContext) -> None:
    embedded = EmbeddedStack(stack_context)
    embedded.down()
    assert _our_processes(stack_context) == []
    assert [r.name for r in embedded.status() if r.state != "stopped"] == []
    rows = embedded.up()
    assert [(r.name, r.state, r.detail) for r in rows if r.state != "running"] == []
