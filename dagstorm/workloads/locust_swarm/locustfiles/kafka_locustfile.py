"""Locust users that produce ad events to Kafka (``locust -f`` this file; docs/locust.md).

One producer per process (kafka-python under gevent, wrapped as dagstorm's
:class:`~dagstorm.workloads.kafka.producer.BatchProducer`), shared by the process's
users. A task sends ``batch_records`` records as record batches built from columns
— the ``kafka_burst`` workload's path (:func:`~.ad_records.send_batch`) — and waits
for every batch's ack; it fires one Locust ``request`` event with the batch's
response time (building the batches to the last ack) and the bytes acknowledged,
so Locust's own stats are right, and tells dagstorm how many records it carried and
how many were acknowledged.
"""

from __future__ import annotations

from functools import cache

from locust import User, constant, events, task

from dagstorm.clients.kafka import KafkaProducer
from dagstorm.workloads.kafka.producer import BatchProducer, abandon
from dagstorm.workloads.locust_swarm.ad_records import ColumnPool, send_batch
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
def producer() -> BatchProducer:
    """The producer of this process (created on first use; knows the topic's partitions)."""
    spec = _spec()
    plain = KafkaProducer(
        bootstrap_servers=config().kafka_bootstrap,
        client_id=f"dagstorm-locust-{config().name}",
        acks=spec.acks if spec.acks == "all" else int(spec.acks),
        compression_type=None if spec.compression == "none" else spec.compression,
        linger_ms=spec.linger_ms,
        batch_size=spec.batch_kib * 1024,
        max_block_ms=int(spec.ack_timeout * 1000),
        request_timeout_ms=int(spec.ack_timeout * 1000),
    )
    try:
        wrapped = BatchProducer(plain)
        if not wrapped.partitions_for(spec.topic):
            raise RuntimeError(f"topic {spec.topic} has no partitions")
    except BaseException:
        abandon(plain)
        raise
    return wrapped


@cache
def pool() -> ColumnPool:
    """The records of this process (seeded by the scenario's seed and the worker index)."""
    spec = _spec()
    seed = (config().seed + 1_000_003 * WORKER.index) % 2**63  # workers send different events
    partitions = len(producer().partitions_for(spec.topic))
    return ColumnPool(spec.model, seed, spec.pool_records, partitions)


class KafkaAdsUser(User):
    """Sends batches of ad events as fast as acks come back."""

    wait_time = constant(0)

    @task
    def send_batch(self) -> None:
        """One batch: build, queue, wait for every ack, fire one request event."""
        spec = _spec()
        with WORKER.request_slot():
            try:
                outcome = send_batch(
                    producer(),
                    pool(),
                    spec.topic,
                    spec.batch_records,
                    limit=spec.batch_kib * 1024,
                    codec=spec.compression,
                    timeout=spec.ack_timeout,
                )
                records, acked, acked_bytes = outcome.records, outcome.acked, outcome.acked_bytes
                took_ms, error = outcome.took_ms, outcome.error
            except Exception as exc:  # noqa: BLE001 - no producer: the batch counts as failed
                records, acked, acked_bytes, took_ms = spec.batch_records, 0, 0, 0.0
                error = f"{type(exc).__name__}: {exc}"[:200]
            failed = records - acked
            problem = KafkaBatchError(f"{failed} of {records}: {error}") if failed else None
            events.request.fire(
                request_type="kafka",
                name=spec.topic,
                response_time=took_ms,
                response_length=acked_bytes,
                exception=problem,
                context={RECORDS: records, ACKED: acked, BYTES: acked_bytes},
            )
