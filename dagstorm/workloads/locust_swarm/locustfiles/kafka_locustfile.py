"""Locust users that produce ad events to Kafka (``locust -f`` this file; docs/locust.md).

One producer per process (kafka-python under gevent), shared by the process's
users. A task sends ``batch_records`` records and waits for every ack; it fires
one Locust ``request`` event with the batch's response time (first send to last
ack) and the bytes acknowledged, so Locust's own stats are right, and tells
dagstorm how many records it carried and how many were acknowledged.
"""

from __future__ import annotations

import time
from functools import cache
from typing import Any

from locust import User, constant, events, task

from dagstorm.clients.kafka import KafkaProducer
from dagstorm.workloads.locust_swarm.ad_records import RecordPool
from dagstorm.workloads.locust_swarm.locustfiles.swarm_runtime import (
    ACKED,
    BYTES,
    RECORDS,
    WORKER,
    SwarmShape,
    config,
)
from dagstorm.workloads.locust_swarm.spec import KafkaUserSpec

__all__ = ["KafkaAdsUser", "SwarmShape"]


class KafkaBatchError(Exception):
    """Some records of a batch were not acknowledged."""


def _spec() -> KafkaUserSpec:
    spec = config().user
    if not isinstance(spec, KafkaUserSpec):
        raise RuntimeError("kafka_locustfile.py needs a `user: {kind: kafka}` config")
    return spec


@cache
def producer() -> KafkaProducer:
    """The producer of this process (created on first use)."""
    spec = _spec()
    return KafkaProducer(
        bootstrap_servers=config().kafka_bootstrap,
        client_id=f"dagstorm-locust-{config().name}",
        acks=spec.acks if spec.acks == "all" else int(spec.acks),
        compression_type=None if spec.compression == "none" else spec.compression,
        linger_ms=spec.linger_ms,
        batch_size=spec.batch_kib * 1024,
        max_block_ms=int(spec.ack_timeout * 1000),
        request_timeout_ms=int(spec.ack_timeout * 1000),
    )


@cache
def pool() -> RecordPool:
    """The records of this process (seeded by the scenario's seed and the worker index)."""
    spec = _spec()
    seed = (config().seed + 1_000_003 * WORKER.index) % 2**63  # workers send different events
    return RecordPool(spec.model, seed, spec.pool_records)


class KafkaAdsUser(User):
    """Sends batches of ad events as fast as acks come back."""

    wait_time = constant(0)

    @task
    def send_batch(self) -> None:
        """One batch: send, wait for every ack, fire one request event."""
        spec = _spec()
        with WORKER.request_slot():
            records = pool().take(spec.batch_records)
            started = time.perf_counter()
            futures: list[tuple[Any, int]] = []
            error = ""
            try:
                for key, value in records:
                    futures.append((producer().send(spec.topic, key=key, value=value), len(value)))
            except Exception as exc:  # noqa: BLE001 - producer creation or send refused: counted
                error = f"{type(exc).__name__}: {exc}"[:200]
            acked = acked_bytes = 0
            deadline = started + spec.ack_timeout
            for future, length in futures:  # what was sent is waited for, even after an error
                try:
                    future.get(timeout=max(0.001, deadline - time.perf_counter()))
                except Exception as exc:  # noqa: BLE001 - every failure is counted, none raised
                    error = error or f"{type(exc).__name__}: {exc}"[:200]
                else:
                    acked += 1
                    acked_bytes += length
            took_ms = (time.perf_counter() - started) * 1000
            failed = len(records) - acked
            problem = KafkaBatchError(f"{failed} of {len(records)}: {error}") if failed else None
            events.request.fire(
                request_type="kafka",
                name=spec.topic,
                response_time=took_ms,
                response_length=acked_bytes,
                exception=problem,
                context={RECORDS: len(records), ACKED: acked, BYTES: acked_bytes},
            )
