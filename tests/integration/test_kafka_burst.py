"""kafka_burst on the real broker: acked == end offsets, a broker kill loses and doubles nothing."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka.admin import NewTopic
from kafka.partitioner.default import murmur2

from dagstorm.clients.kafka import KafkaAdminClient
from dagstorm.faults.base import FaultContext
from dagstorm.faults.journal import FaultJournal
from dagstorm.faults.manager import FaultManager
from dagstorm.faults.specs import BrokerFault
from dagstorm.run.clock import WallClock
from dagstorm.run.journal import RunJournal, read_journal
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import Stack
from dagstorm.workloads.kafka.burst import KafkaBurst
from dagstorm.workloads.kafka.config import KafkaBurstConfig
from dagstorm.workloads.kafka.producer import make_producer
from dagstorm.workloads.sinks.ledger import load_ledger
from tests.integration.helpers import read_topic

pytestmark = pytest.mark.integration


def _topics(stack: Stack) -> tuple[str, str]:
    topic = f"kb-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap, request_timeout_ms=30_000)
    try:
        admin.create_topics([NewTopic(topic, 3, 1), NewTopic(f"{topic}-ctl", 1, 1)])
    finally:
        admin.close()
    return topic, f"{topic}-ctl"


def _workload(stack: Stack, tmp_path: Path, **extra: object) -> tuple[KafkaBurst, RunJournal]:
    topic, control = _topics(stack)
    config = KafkaBurstConfig.model_validate(
        {"rate": "5k events/s", "topic": topic, "control_topic": control, "seed": 3, **extra}
    )
    clock = WallClock()
    journal = RunJournal(tmp_path / "journal.jsonl", clock)
    workload = KafkaBurst(
        "kb",
        journal,
        clock,
        config=config,
        producer_factory=lambda: make_producer(config, stack.endpoint("kafka")),
        ledger_dir=tmp_path / "ledger" / "kafka",
        run_tag="it",
    )
    return workload, journal


def _signals(journal: RunJournal) -> list[dict[str, Any]]:
    journal.close()
    return [e for e in read_journal(journal.path) if e["kind"] == "kafka_signal"]


@pytest.mark.parametrize("encode_workers", [0, 2])
def test_acked_records_equal_the_broker_end_offsets_and_the_signalled_ranges(
    stack: Stack, tmp_path: Path, encode_workers: int
) -> None:
    workload, journal = _workload(
        stack, tmp_path, max_records=40_000, producer={"encode_workers": encode_workers}
    )
    workload.run()
    ledger = load_ledger(tmp_path / "ledger" / "kafka")
    records = read_topic(stack, workload.config.topic)
    assert int(ledger["acked"].sum()) == workload.totals["acked"] == len(records) == 40_000
    # The batches dagstorm builds itself read back as keyed records where a keyed
    # kafka-python send would have put them.
    n_parts = 3  # as created by _topics
    for partition, _, value, key in records[:: max(1, len(records) // 2000)]:
        assert key == str(orjson.loads(value)["campaign_id"]).encode()
        assert partition == (murmur2(key) & 0x7FFFFFFF) % n_parts
    signals = _signals(journal)
    ranges = [r for s in signals for r in s["ranges"].values()]
    assert sum(end - start for start, end in ranges) == 40_000
    assert sum(int(s["records"]) for s in signals) == 40_000


def test_a_broker_kill_mid_burst_loses_nothing_acked_and_doubles_nothing(
    stack: Stack, stack_context: StackContext, tmp_path: Path
) -> None:
    workload, journal = _workload(
        stack,
        tmp_path,
        max_records=150_000,
        max_duration=60,
        producer={"request_timeout": 3, "delivery_timeout": 8, "block_timeout": 3},
    )
    faults = FaultJournal(stack_context.layout.root / "faults" / "journal.jsonl")
    with FaultManager(FaultContext(stack=stack, journal=faults, embedded=stack_context)) as mgr:
        thread = threading.Thread(target=workload.run)
        thread.start()
        time.sleep(6)
        active = mgr.inject(BrokerFault(action="kill"))
        time.sleep(10)
        mgr.revert(active)
        thread.join(180)
    assert not thread.is_alive()
    records = read_topic(stack, workload.config.topic)
    ids = Counter(orjson.loads(value)["event_id"] for _, _, value, _ in records)
    assert max(ids.values()) == 1  # nothing written twice
    acked = workload.totals["acked"]
    assert int(load_ledger(tmp_path / "ledger" / "kafka")["acked"].sum()) == acked
    assert 0 < acked <= len(records)  # every acked record is in the topic
    # The signalled ranges hold acked offsets only, and every acked offset.
    signals = _signals(journal)
    in_ranges = {
        (int(p), o)
        for s in signals
        if s["ok"]
        for p, (start, end) in s["ranges"].items()
        for o in range(start, end)
    }
    assert len(in_ranges) == acked, [(s["reason"], s["ok"], s["error"]) for s in signals]
    assert in_ranges <= {(p, o) for p, o, *_ in records}
