"""The Locust Kafka user's request: the pool's records as column-built batches, each acked whole.

``send_batch`` runs in this process with a fake producer that decodes every batch
(kafka-python's reader) and resolves it as the test says; the locustfile's task
runs in a child process (importing Locust patches the process with gevent).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dagstorm.clients.kafka import KafkaTimeoutError
from dagstorm.workloads.kafka.record_batch import PrebuiltRecords
from dagstorm.workloads.kafka.records import MAX_SECTION_BYTES
from dagstorm.workloads.locust_swarm.ad_records import ColumnPool, send_batch
from dagstorm.workloads.locust_swarm.spec import KafkaUserSpec
from dagstorm.workloads.locust_swarm.swarm_config import CONFIG_ENV, SwarmConfig
from dagstorm.workloads.model.config import AdModelConfig

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka.producer.future import FutureProduceResult
    from kafka.record.default_records import DefaultRecordBatch
    from kafka.structs import TopicPartition

PARTITIONS = 3


class FakeBatchProducer:
    """Takes whole batches, decodes them; on ``wakeup`` resolves each as ``outcome(i)`` says."""

    def __init__(
        self,
        outcome: Callable[[int], bool | None] = lambda i: True,
        *,
        refuse_after: int | None = None,
    ) -> None:
        self.outcome = outcome  # True: ack, False: fail, None: never answer
        self.refuse_after = refuse_after
        self.batches: list[tuple[int, list[tuple[bytes, bytes]]]] = []
        self.futures: list[FutureProduceResult] = []
        self.sizes: list[int] = []

    def enqueue(self, topic: str, partition: int, records: PrebuiltRecords) -> FutureProduceResult:
        if self.refuse_after is not None and len(self.batches) >= self.refuse_after:
            raise KafkaTimeoutError("buffer full")
        assert topic == "ad_events" and 0 <= partition < PARTITIONS
        records.close()
        self.sizes.append(records.size_in_bytes())
        decoded = list(DefaultRecordBatch(bytes(records.buffer())))
        assert [r.offset for r in decoded] == list(range(records.next_offset()))
        self.batches.append((partition, [(bytes(r.key), bytes(r.value)) for r in decoded]))
        future = FutureProduceResult(TopicPartition(topic, partition))
        self.futures.append(future)
        return future

    def wakeup(self) -> None:
        for i, future in enumerate(self.futures):
            if future.is_done:
                continue
            verdict = self.outcome(i)
            if verdict is True:
                future.success((0, -1, None))
            elif verdict is False:
                future.failure(KafkaTimeoutError("expired"))


@pytest.fixture(scope="module")
def pool_args() -> tuple[AdModelConfig, int, int, int]:
    return AdModelConfig(), 7, 1000, PARTITIONS


def _pool(args: tuple[AdModelConfig, int, int, int]) -> ColumnPool:
    return ColumnPool(*args)


def _expected(pool: ColumnPool, positions: np.ndarray) -> dict[int, list[tuple[bytes, bytes]]]:
    """Per partition, the (key, value) of the records at ``positions``, in their order."""
    out: dict[int, list[tuple[bytes, bytes]]] = {}
    for p in positions.tolist():
        out.setdefault(int(pool.partition[p]), []).append((pool.key(p), pool.values[p]))
    return out


def test_every_record_of_the_request_reaches_its_partition_once_in_order(pool_args: Any) -> None:
    pool, mirror = _pool(pool_args), _pool(pool_args)
    fake = FakeBatchProducer()
    outcome = send_batch(fake, pool, "ad_events", 600, limit=16 * 1024, codec="lz4", timeout=5)
    positions = mirror.take(600)
    sent: dict[int, list[tuple[bytes, bytes]]] = {}
    for partition, records in fake.batches:
        sent.setdefault(partition, []).extend(records)
    assert sent == _expected(mirror, positions)
    assert len(fake.batches) > PARTITIONS  # 600 records of ~340 B do not fit 16 KiB batches
    assert max(fake.sizes) <= 16 * 1024 + 100  # section within the limit (+ the header)
    assert (outcome.records, outcome.acked, outcome.failed, outcome.error) == (600, 600, 0, "")
    assert outcome.acked_bytes == int(mirror.lengths[positions].sum())
    # the same campaign key always lands on the same partition (Kafka's partitioner)
    by_key: dict[bytes, set[int]] = {}
    for partition, records in fake.batches:
        for key, _ in records:
            by_key.setdefault(key, set()).add(partition)
    assert all(len(parts) == 1 for parts in by_key.values())


def test_a_failed_batch_counts_exactly_its_records_as_failed(pool_args: Any) -> None:
    pool = _pool(pool_args)
    fake = FakeBatchProducer(lambda i: i != 1)
    outcome = send_batch(fake, pool, "ad_events", 500, limit=16 * 1024, codec="none", timeout=5)
    lost = len(fake.batches[1][1])
    assert outcome.acked == 500 - lost and outcome.failed == lost > 0
    acked_values = [v for i, (_, recs) in enumerate(fake.batches) if i != 1 for _, v in recs]
    assert outcome.acked_bytes == sum(len(v) for v in acked_values)
    assert outcome.error.startswith("KafkaTimeoutError")


def test_batches_queued_before_a_refusal_are_still_waited_for(pool_args: Any) -> None:
    pool = _pool(pool_args)
    fake = FakeBatchProducer(refuse_after=2)
    outcome = send_batch(fake, pool, "ad_events", 500, limit=16 * 1024, codec="lz4", timeout=5)
    queued = sum(len(recs) for _, recs in fake.batches)
    assert len(fake.batches) == 2 and outcome.acked == queued < 500
    assert "buffer full" in outcome.error


def test_an_unanswered_batch_is_failed_at_the_timeout(pool_args: Any) -> None:
    pool = _pool(pool_args)
    fake = FakeBatchProducer(lambda i: None if i == 0 else True)
    outcome = send_batch(
        fake, pool, "ad_events", 300, limit=MAX_SECTION_BYTES, codec="lz4", timeout=0.2
    )
    assert outcome.failed == len(fake.batches[0][1]) > 0
    assert outcome.took_ms >= 200
    assert "no acknowledgement within 0.2 s" in outcome.error


def test_the_pool_cycles_through_its_records(pool_args: Any) -> None:
    pool = _pool(pool_args)
    first = pool.take(700)
    second = pool.take(700)
    assert first.tolist() == list(range(700))
    assert second.tolist() == [*range(700, 1000), *range(400)]
    assert 250 < pool.mean_bytes < 500


TASK = """
import json, sys
from dagstorm.workloads.locust_swarm.locustfiles import kafka_locustfile as lf
from kafka.producer.future import FutureProduceResult
from kafka.structs import TopicPartition
from locust import events

class Fake:
    def __init__(self):
        self.batches = 0
    def partitions_for(self, topic):
        return {0, 1, 2}
    def enqueue(self, topic, partition, records):
        self.batches += 1
        future = FutureProduceResult(TopicPartition(topic, partition))
        self.pending = getattr(self, "pending", []) + [(future, records.next_offset())]
        return future
    def wakeup(self):
        for i, (future, n) in enumerate(self.pending):
            if not future.is_done:
                future.success((0, -1, None)) if i % 2 == 0 else future.failure(Exception("nope"))

fake = Fake()
lf.producer = lambda: fake
fired = []
events.request.add_listener(lambda **kw: fired.append(kw))
lf.KafkaAdsUser.send_batch(None)
(kw,) = fired
even = sum(n for i, (f, n) in enumerate(fake.pending) if i % 2 == 0)
print(json.dumps({"context": kw["context"], "even": even, "batches": fake.batches,
                  "type": kw["request_type"], "name": kw["name"], "length": kw["response_length"],
                  "exception": str(kw["exception"]), "patched": "gevent" in sys.modules}))
"""


def test_the_locust_task_fires_one_request_with_the_batch_accounting(tmp_path: Path) -> None:
    config = SwarmConfig(
        name="t",
        user=KafkaUserSpec(batch_records=400, batch_kib=16, pool_records=1000),
        workers=1,
        users=1,
        max_users=1,
        spawn_rate=1,
        shape=None,
        compression=1.0,
        duration_s=60,
        max_requests=10,
        drain_timeout_s=5,
        stats_path=tmp_path / "stats.jsonl",
        stop_path=tmp_path / "stop",
    )
    path = config.write(tmp_path / "config.json")
    done = subprocess.run(
        [sys.executable, "-c", TASK],
        env={**os.environ, CONFIG_ENV: str(path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    got = json.loads(done.stdout.strip().splitlines()[-1])
    context = got["context"]
    assert got["patched"] is True and got["type"] == "kafka" and got["name"] == "ad_events"
    assert got["batches"] > 3  # one request, several record batches
    assert context["dagstorm_records"] == 400
    assert context["dagstorm_acked"] == got["even"] < 400
    assert context["dagstorm_bytes"] == got["length"] > 0
    assert got["exception"].startswith(f"{400 - got['even']} of 400: Exception: nope")
