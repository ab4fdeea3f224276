"""kafka-python's producer, handed whole record batches instead of one record at a time.

:class:`BatchProducer` wraps a ``KafkaProducer`` (acks=all, idempotent) and puts
:class:`~dagstorm.workloads.kafka.record_batch.PrebuiltRecords` batches straight into
its record accumulator: kafka-python's own sender then drains them — leader
look-up, producer id and sequence numbers, in-flight limits, retries, delivery
timeouts, ProduceRequests — exactly as it drains the batches ``send()`` builds.
What is skipped is only the per-record work in the caller's thread.

The accumulator's attributes used here are private to kafka-python; the version
is pinned (pyproject.toml) and :func:`check_internals` refuses to run on a
producer that lacks them, with a message naming the version that has them.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka.errors import IllegalStateError
    from kafka.producer.future import FutureProduceResult
    from kafka.producer.producer_batch import ProducerBatch
    from kafka.structs import TopicPartition

from dagstorm.clients.kafka import KafkaProducer

if TYPE_CHECKING:
    from dagstorm.workloads.kafka.config import KafkaBurstConfig
    from dagstorm.workloads.kafka.record_batch import PrebuiltRecords

#: The kafka-python version whose internals :class:`BatchProducer` was written against.
KAFKA_PYTHON = "3.0.12"
_ACCUMULATOR = ("_batches", "_tp_lock", "_incomplete", "_closed")
#: Makes a producer (a :class:`BatchProducer` from :func:`make_producer`, or a fake in tests).
ProducerFactory = Callable[[], Any]


def check_internals(producer: Any) -> None:
    """Raise RuntimeError unless ``producer`` has the accumulator and sender used here."""
    accumulator = getattr(producer, "_accumulator", None)
    sender = getattr(producer, "_sender", None)
    missing = [a for a in _ACCUMULATOR if not hasattr(accumulator, a)]
    if accumulator is None or sender is None or missing or not hasattr(sender, "wakeup"):
        raise RuntimeError(
            "this kafka-python has no record accumulator dagstorm can hand batches to "
            f"(missing: {', '.join(missing) or '_accumulator/_sender'}); "
            f"install kafka-python=={KAFKA_PYTHON} (pinned in pyproject.toml)"
        )


class BatchProducer:
    """A ``KafkaProducer`` that also takes prebuilt record batches (see the module doc)."""

    def __init__(self, producer: Any) -> None:
        check_internals(producer)
        self.producer = producer
        self._accumulator = producer._accumulator

    def partitions_for(self, topic: str) -> set[int]:
        """The topic's partitions (waits for metadata at most ``max_block_ms``)."""
        return set(self.producer.partitions_for(topic))

    def send(self, topic: str, value: bytes, key: bytes | None = None) -> Any:
        """One record, through kafka-python's own ``send`` (control signals)."""
        return self.producer.send(topic, value, key)

    def enqueue(self, topic: str, partition: int, records: PrebuiltRecords) -> FutureProduceResult:
        """Queue one full batch for ``partition``; its future resolves when the broker answers.

        The future succeeds with ``(base_offset, log_append_time, record_errors)`` or
        fails with the batch's error (kafka-python's ``FutureProduceResult``).
        Raises IllegalStateError when the producer is closed.
        """
        tp = TopicPartition(topic, partition)
        batch = ProducerBatch(tp, records)
        accumulator = self._accumulator
        if self.producer._closed:
            raise IllegalStateError("the producer is closed")
        with accumulator._tp_lock(tp):
            if accumulator._closed:
                raise IllegalStateError("the producer's accumulator is closed")
            accumulator._batches[tp].append(batch)
            accumulator._incomplete.add(batch)
        future: FutureProduceResult = batch.produce_future
        return future

    def wakeup(self) -> None:
        """Let the sender thread drain what was queued now (not after its poll timeout)."""
        self.producer._sender.wakeup()

    def flush(self, timeout: float | None = None) -> None:
        """kafka-python's ``flush``: wait for every queued batch to complete."""
        self.producer.flush(timeout=timeout)

    def close(self, timeout: float | None = None) -> None:
        """kafka-python's ``close``."""
        self.producer.close(timeout=timeout)

    @property
    def _metrics(self) -> Any:
        """kafka-python's metrics registry (read by the retry counter)."""
        return getattr(self.producer, "_metrics", None)

    @property
    def _sender(self) -> Any:
        return self.producer._sender


def abandon(producer: Any) -> None:
    """Close ``producer`` at once, aborting what it still holds (never raises).

    kafka-python's ``close(timeout=0)`` flushes first and raises when batches are
    pending, leaving its sender thread running (it could still deliver them): the
    sender is force-closed then, which fails every incomplete batch.
    """
    try:
        producer.close(timeout=0)
    except Exception:  # noqa: BLE001 - pending batches: force the sender down
        sender = getattr(producer, "_sender", None)
        with contextlib.suppress(Exception):
            if sender is not None:
                sender.force_close()
        with contextlib.suppress(Exception):
            producer.close(timeout=0)


def make_producer(config: KafkaBurstConfig, bootstrap: str) -> BatchProducer:
    """kafka-python's producer with ``config.producer``'s settings (bounded constructor).

    The topic's metadata is fetched here (at most ``block_timeout``), so the sender
    knows the partitions' leaders before the first batch is queued.
    """
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        bootstrap_timeout_ms=int(config.producer.request_timeout * 1000),
        **config.producer.kafka_kwargs(),
    )
    try:
        wrapped = BatchProducer(producer)
        if not wrapped.partitions_for(config.topic):
            raise RuntimeError(f"topic {config.topic} has no partitions")
    except BaseException:
        abandon(producer)
        raise
    return wrapped
