"""Locust as a workload on the real stack: 1 master + 2 workers, stats into the journal.

Kafka: every record the journal counts as acknowledged is on the broker (the
topic's end offsets grew by exactly that much). Airflow: every run the trigger
users journaled exists in Airflow's REST API with the conf they sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from dagstorm.clients.airflow import fetch_token
from dagstorm.clients.kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from dagstorm.run.clock import WallClock
from dagstorm.run.journal import RunJournal
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import Stack
from dagstorm.workloads.locust_swarm.spec import KafkaUserSpec, TriggerUserSpec, UserSpec
from dagstorm.workloads.locust_swarm.swarm_config import SwarmConfig
from dagstorm.workloads.locust_swarm.workload import LocustSwarm, drain_timeout

PARTITIONS = 3
DAG = "scheduler_bench_000"


def events_of(path: Path, kind: str) -> list[dict[str, Any]]:
    return [e for e in map(orjson.loads, path.read_bytes().splitlines()) if e["kind"] == kind]


def end_offsets(stack: Stack, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=stack.kafka_bootstrap, request_timeout_ms=20_000)
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        return sum(consumer.end_offsets(parts).values())
    finally:
        consumer.close()


@pytest.fixture
def topic(stack: Stack) -> Iterator[str]:
    from kafka.admin import NewTopic

    name = f"locust_it_{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap, request_timeout_ms=20_000)
    try:
        admin.create_topics([NewTopic(name, PARTITIONS, 1)])
        yield name
        admin.delete_topics([name])
    finally:
        admin.close()


def run_swarm(
    ctx: StackContext, stack: Stack, tmp_path: Path, user: UserSpec, **limits: Any
) -> tuple[LocustSwarm, Path]:
    work_dir = tmp_path / "locust"
    work_dir.mkdir()
    config = SwarmConfig(
        name="it",
        user=user,
        workers=2,
        spawn_rate=50,
        drain_timeout_s=drain_timeout(20),
        kafka_bootstrap=stack.endpoint("kafka"),
        airflow_url=stack.endpoint("airflow"),
        stats_path=work_dir / "stats.jsonl",
        stop_path=work_dir / "stop",
        **limits,
    )
    journal_path = tmp_path / "journal.jsonl"
    clock = WallClock(1.0)
    with RunJournal(journal_path, clock, secrets=stack.secret_values()) as journal:
        swarm = LocustSwarm(
            "it",
            journal,
            clock,
            config=config,
            stop_timeout=20,
            work_dir=work_dir,
            pid_dir=ctx.layout.run_dir,
            marker=ctx.marker,
            credentials=stack.airflow_login()[1:],
        )
        swarm.start()
        swarm.join(timeout=swarm.hard_timeout_s + 60)
    return swarm, journal_path


def test_kafka_users_acked_records_equal_broker_offsets(
    stack_context: StackContext, stack: Stack, topic: str, tmp_path: Path
) -> None:
    before = end_offsets(stack, topic)
    user = KafkaUserSpec(topic=topic, batch_records=200, pool_records=2000)
    swarm, journal = run_swarm(
        stack_context, stack, tmp_path, user, users=4, max_users=4, duration_s=12, max_requests=150
    )
    stats = events_of(journal, "workload_stats")
    (end,) = events_of(journal, "locust_end")
    acked = sum(e["acked"] for e in stats)
    assert end["complete"] is True, end
    assert end["reason"] in {"duration", "max_requests"}
    assert acked > 0
    assert end["acked"] == acked
    assert sum(e["failed"] for e in stats) == 0
    assert end_offsets(stack, topic) - before == acked
    assert {e["workers"] for e in stats} <= {1, 2} and max(e["workers"] for e in stats) == 2
    assert sum(e["requests"] for e in stats) <= 150
    assert not list(stack_context.layout.run_dir.glob("locust-it*")), "pid files left behind"
    assert all(outcome == "not running" for outcome in end["stopped"]), end["stopped"]
    del swarm


def test_trigger_users_create_the_runs_they_journal(
    stack_context: StackContext, stack: Stack, tmp_path: Path
) -> None:
    marker = uuid.uuid4().hex
    user = TriggerUserSpec(dag=DAG, conf={"it_marker": marker}, wait=0.5)
    _, journal = run_swarm(
        stack_context, stack, tmp_path, user, users=2, max_users=2, duration_s=30, max_requests=6
    )
    triggered = [e for e in events_of(journal, "dag_triggered") if e["ok"]]
    (end,) = events_of(journal, "locust_end")
    assert end["reason"] == "max_requests" and end["complete"] is True, end
    assert len(triggered) == 6
    token = fetch_token(*stack.airflow_login())
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=20) as client:
        for event in triggered:
            url = f"{stack.airflow_url}/api/v2/dags/{DAG}/dagRuns/{event['run_id']}"
            run = client.get(url)
            assert run.status_code == 200, run.text
            assert run.json()["conf"] == {"it_marker": marker, "dagstorm_storm": "it"}
            assert event["conf"] == run.json()["conf"]
    assert stack.airflow_login()[2] not in journal.read_text()
