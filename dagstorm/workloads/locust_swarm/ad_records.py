"""The records a Kafka user sends, and one request of it: a batch built from columns.

Each process generates ``size`` ad events once (the ad-log model, and the
``kafka_burst`` workload's :class:`~dagstorm.workloads.kafka.messages.MessageEncoder`:
the same JSON values, campaign keys and partitions) and cycles through them, so
generating costs nothing while the producer is measured.

A user's request is :func:`send_batch`: the next ``n`` records of the pool laid out
as record batches at once (:func:`~dagstorm.workloads.kafka.records.build_batches`,
one per partition and size limit), queued whole on the process's
:class:`~dagstorm.workloads.kafka.producer.BatchProducer` — the path ``kafka_burst``
takes — then every batch's acknowledgement waited for. A record counts as acked
only when the broker acknowledged its batch; a batch that failed, was refused or
was not acknowledged within the timeout counts as failed, record by record.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from dagstorm.workloads.config import DEFAULT_START
from dagstorm.workloads.kafka.messages import MessageEncoder
from dagstorm.workloads.kafka.records import KeyTable, build_batches
from dagstorm.workloads.model.admodel import AdLogModel
from dagstorm.workloads.model.config import AdModelConfig
from dagstorm.workloads.model.schedule import Window

__all__ = ["BatchOutcome", "ColumnPool", "send_batch"]


class ColumnPool:
    """``size`` ad events as columns (values, keys, partitions), handed out in order, cycled."""

    def __init__(self, config: AdModelConfig, seed: int, size: int, partitions: int) -> None:
        model = AdLogModel(config, seed)
        start_ms = int(DEFAULT_START.timestamp() * 1000)
        window = Window(index=0, start_ms=start_ms, end_ms=start_ms + 60_000, count=size)
        events = model.generate(window).events
        encoder = MessageEncoder(model.catalog, partitions)
        #: One JSON record per event (no newline) and its length in bytes.
        self.values, self.lengths = encoder.values(events)
        #: The campaign keys, and each record's row in it.
        self.keys: KeyTable = encoder.key_table
        self.key_index: np.ndarray = encoder.key_index(events)
        #: Each record's partition (Kafka's default partitioner on its key).
        self.partition: np.ndarray = encoder.partitions(events)
        self._next = 0

    def __len__(self) -> int:
        return len(self.values)

    def take(self, n: int) -> np.ndarray:
        """Positions of the next ``n`` records (wrapping around)."""
        positions = (self._next + np.arange(n, dtype=np.int64)) % len(self.values)
        self._next = (self._next + n) % len(self.values)
        return positions

    def key(self, position: int) -> bytes:
        """The key of record ``position``."""
        row = int(self.key_index[position])
        return bytes(self.keys.data[row, : int(self.keys.lengths[row])])

    @property
    def mean_bytes(self) -> float:
        """Mean value size in bytes."""
        return float(self.lengths.mean()) if len(self.values) else 0.0


@dataclass(frozen=True)
class BatchOutcome:
    """What became of one request's records."""

    records: int
    acked: int
    #: Value bytes of the acknowledged records.
    acked_bytes: int
    #: From building the batches to the last acknowledgement (or the timeout), ms.
    took_ms: float
    #: The first error met ("" when every record was acknowledged).
    error: str = ""

    @property
    def failed(self) -> int:
        """Records not acknowledged."""
        return self.records - self.acked


def send_batch(
    producer: Any,
    pool: ColumnPool,
    topic: str,
    n: int,
    *,
    limit: int,
    codec: str,
    timeout: float,
) -> BatchOutcome:
    """Send the pool's next ``n`` records as record batches and wait for their acks.

    ``producer`` is a :class:`~dagstorm.workloads.kafka.producer.BatchProducer` (or a
    fake with its ``enqueue`` and ``wakeup``). What was queued is waited for even
    after a later batch was refused; nothing raises.
    """
    positions = pool.take(n)
    started = time.perf_counter()
    lengths = pool.lengths[positions]
    values = list(map(pool.values.__getitem__, positions.tolist()))
    error = ""
    queued: list[tuple[Any, np.ndarray]] = []
    try:
        batches = build_batches(
            pool.keys,
            pool.key_index[positions],
            values,
            lengths,
            pool.partition[positions],
            limit=limit,
            codec=codec,
        )
        for batch in batches:
            queued.append((producer.enqueue(topic, batch.partition, batch.records), batch.index))
    except Exception as exc:  # noqa: BLE001 - a refused batch is counted, never raised
        error = _text(exc)
    if queued:
        producer.wakeup()
    acked = acked_bytes = 0
    deadline = started + timeout
    for future, index in queued:
        if not future.wait(max(0.001, deadline - time.perf_counter())):
            error = error or f"KafkaTimeoutError: no acknowledgement within {timeout:g} s"
        elif future.failed():
            error = error or _text(future.exception)
        else:
            acked += len(index)
            acked_bytes += int(lengths[index].sum())
    took_ms = (time.perf_counter() - started) * 1000
    return BatchOutcome(n, acked, acked_bytes, took_ms, error)


def _text(exc: BaseException | None) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]
