"""Each fault family on the real stack: the effect is measured, not assumed."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from dagstorm.clients.airflow import fetch_token
from dagstorm.clients.kafka import KafkaProducer, KafkaTimeoutError
from dagstorm.core.errors import FaultError
from dagstorm.faults.base import FaultContext
from dagstorm.faults.journal import FaultJournal
from dagstorm.faults.manager import FaultManager
from dagstorm.faults.specs import AirflowFault, BrokerFault, NetworkFault, SparkFault
from dagstorm.stack.embedded.components.airflow import health_document
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.launcher import EmbeddedStack
from dagstorm.stack.endpoints import Stack

pytestmark = pytest.mark.integration


@pytest.fixture
def manager(stack: Stack, stack_context: StackContext) -> Iterator[FaultManager]:
    journal = FaultJournal(stack_context.layout.root / "faults" / "journal.jsonl")
    with FaultManager(FaultContext(stack=stack, journal=journal, embedded=stack_context)) as mgr:
        yield mgr
    assert all(c.running() for c in EmbeddedStack(stack_context).components.values())


def _producer(stack: Stack, *, block_ms: int = 20_000) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=stack.kafka_bootstrap,
        acks="all",
        linger_ms=0,
        retries=0,
        request_timeout_ms=4_000,
        max_block_ms=block_ms,
        delivery_timeout_ms=6_000,
    )


def _ack_seconds(stack: Stack, topic: str, count: int = 6) -> float:
    producer = _producer(stack)
    try:
        producer.send(topic, b"warm").get(timeout=30)
        samples = []
        for _ in range(count):
            started = time.monotonic()
            producer.send(topic, uuid.uuid4().bytes).get(timeout=30)
            samples.append(time.monotonic() - started)
    finally:
        producer.close(timeout=5)
    return statistics.median(samples)


def _produce_ok(stack: Stack, topic: str, *, timeout: float = 8.0) -> bool:
    try:
        producer = _producer(stack, block_ms=int(timeout * 1000))
    except KafkaTimeoutError:
        return False
    try:
        producer.send(topic, b"probe").get(timeout=timeout)
        return True
    except Exception:  # noqa: BLE001 - any failure to deliver counts as "not delivered"
        return False
    finally:
        producer.close(timeout=2)


def _recovers(stack: Stack, topic: str, *, within: float = 60.0) -> bool:
    """Delivery works (again) within ``within`` seconds (transient leader moves are retried).

    Also the first delivery to a new topic: it is created by that first produce, and
    until its partition has a leader the send fails with ``NotLeaderForPartitionError``.
    """
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if _produce_ok(stack, topic, timeout=8):
            return True
        time.sleep(1)
    return False


def test_kafka_latency_rises_by_the_toxic_and_falls_back_after_revert(
    stack: Stack, manager: FaultManager
) -> None:
    topic = f"fault-latency-{uuid.uuid4().hex[:6]}"
    before = _ack_seconds(stack, topic)
    active = manager.inject(
        NetworkFault(link="kafka", effect="latency", latency_ms=250, stream="downstream")
    )
    during = _ack_seconds(stack, topic)
    manager.revert(active)
    after = _ack_seconds(stack, topic)
    assert during - before >= 0.2, (before, during)
    assert after < 0.25, (before, during, after)


def test_produce_fails_while_the_broker_is_killed_and_succeeds_after_restart(
    stack: Stack, manager: FaultManager
) -> None:
    topic = f"fault-kill-{uuid.uuid4().hex[:6]}"
    assert _recovers(stack, topic)  # the new topic has a leader and takes a message
    active = manager.inject(BrokerFault(action="kill"))
    assert not _produce_ok(stack, topic, timeout=4)
    manager.revert(active)
    assert _recovers(stack, topic)


def test_a_paused_broker_accepts_nothing_until_resumed(stack: Stack, manager: FaultManager) -> None:
    topic = f"fault-pause-{uuid.uuid4().hex[:6]}"
    assert _recovers(stack, topic)  # the new topic has a leader and takes a message
    active = manager.inject(BrokerFault(action="pause"))
    assert "stopped (SIGSTOP)" in active.evidence
    assert not _produce_ok(stack, topic, timeout=4)
    manager.revert(active)
    assert _recovers(stack, topic)


def test_cluster_pressure_is_a_real_exit_52_visible_in_spark_rest(
    stack: Stack, manager: FaultManager
) -> None:
    active = manager.inject(SparkFault(action="cluster_pressure"))
    assert "code 52" in active.evidence
    manager.revert(active)
    # After the application ends, the history server keeps the evidence.
    assert stack.spark_history_url is not None
    name = f"dagstorm-oom-{active.fault_id}"
    deadline = time.monotonic() + 90
    failed_tasks, reasons = 0, []
    while time.monotonic() < deadline:
        apps = httpx.get(f"{stack.spark_history_url}/api/v1/applications", timeout=5).json()
        app = next((a for a in apps if a["name"] == name), None)
        if app is not None:
            base = f"{stack.spark_history_url}/api/v1/applications/{app['id']}"
            executors = httpx.get(f"{base}/allexecutors", timeout=5).json()
            reasons = [e.get("removeReason", "") for e in executors if e["id"] != "driver"]
            stages = httpx.get(f"{base}/stages", timeout=5).json()
            failed_tasks = sum(s.get("numFailedTasks", 0) for s in stages)
            if failed_tasks and any("52" in r for r in reasons):
                break
        time.sleep(2)
    assert any("exited with code 52" in r for r in reasons), reasons
    assert failed_tasks >= 1


def test_the_scheduler_comes_back_after_a_kill(
    stack_context: StackContext, manager: FaultManager
) -> None:
    active = manager.inject(AirflowFault(action="kill", component="scheduler"))
    assert "is gone" in active.evidence
    manager.revert(active)
    doc = health_document(stack_context)
    assert doc is not None and doc["scheduler"]["status"] == "healthy"


def _api_seconds(stack: Stack, token: str, count: int = 5) -> float:
    samples = []
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        client.get(f"{stack.airflow_url}/api/v2/dags")
        for _ in range(count):
            started = time.monotonic()
            client.get(f"{stack.airflow_url}/api/v2/dags").raise_for_status()
            samples.append(time.monotonic() - started)
    return statistics.median(samples)


def test_metadata_db_latency_slows_the_airflow_api(stack: Stack, manager: FaultManager) -> None:
    token = fetch_token(*stack.airflow_login())
    before = _api_seconds(stack, token)
    active = manager.inject(NetworkFault(link="airflow-db", effect="latency", latency_ms=100))
    during = _api_seconds(stack, token)
    manager.revert(active)
    assert during - before >= 0.1, (before, during)


def test_an_undeclared_target_is_refused_before_anything_happens(
    stack: Stack, stack_context: StackContext, tmp_path: object
) -> None:
    from dataclasses import replace
    from pathlib import Path

    journal = FaultJournal(Path(str(tmp_path)) / "journal.jsonl")
    narrow = replace(stack, components=("postgres",), links=("serving-db",))
    ctx = FaultContext(stack=narrow, journal=journal, embedded=stack_context)
    manager = FaultManager(ctx)
    with pytest.raises(FaultError, match="not a declared fault target"):
        manager.inject(BrokerFault(action="kill"))
    with pytest.raises(FaultError, match="not declared"):
        manager.inject(NetworkFault(link="kafka", effect="down"))
    assert journal.entries() == []
    assert EmbeddedStack(stack_context).components["kafka"].running() is not None
