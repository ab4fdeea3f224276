"""The ``kafka_burst`` workload's hand-over: generated events → record batches → the producer.

:class:`RecordSender` owns the data producer. It groups each chunk of events by
partition, encodes it, checks the in-flight bound (drop, or back-pressure with a
timeout), cuts record batches and queues them; what the producer accepted is
counted as ``written`` in the ledger and tracked until its delivery is settled.
A producer that cannot be made (or was abandoned as wedged) is made anew on the
next send; send errors are counted and logged, a few at first then every 100th.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from dagstorm.clients.kafka import KafkaError
from dagstorm.run.events import Log
from dagstorm.run.journal import RunJournal
from dagstorm.workloads.kafka.config import KafkaBurstConfig
from dagstorm.workloads.kafka.delivery import Chunk, DeliveryTracker
from dagstorm.workloads.kafka.messages import MessageEncoder
from dagstorm.workloads.kafka.producer import ProducerFactory, abandon
from dagstorm.workloads.kafka.records import Batch, build_batches
from dagstorm.workloads.kafka.retries import RetryCounter
from dagstorm.workloads.kafka.stats import StatsWindow
from dagstorm.workloads.model.events import EventColumns
from dagstorm.workloads.sinks.ledger import KeyCounts, LedgerWriter


class RecordSender:
    """Hands a ``kafka_burst`` workload's events to its data producer; see the module docstring.

    ``totals`` is the workload's run totals: ``sent``, ``failed`` and ``dropped``
    are counted here.
    """

    def __init__(
        self,
        name: str,
        journal: RunJournal,
        *,
        config: KafkaBurstConfig,
        producer_factory: ProducerFactory,
        tracker: DeliveryTracker,
        stats: StatsWindow,
        ledger: LedgerWriter,
        totals: dict[str, int],
    ) -> None:
        self.name = name
        self.journal = journal
        self.config = config
        self.producer_factory = producer_factory
        self.tracker = tracker
        self.stats = stats
        self.ledger = ledger
        self.totals = totals
        #: The data producer (None between a failed replacement and the next try).
        self.producer: Any = None
        self._send_errors = 0

    def open(self) -> None:
        """Make the first data producer (RuntimeError: it cannot be made)."""
        try:
            producer = self.producer_factory()
        except Exception as exc:
            raise RuntimeError(f"no Kafka producer: {exc}") from exc
        self.producer = producer
        self.retries = RetryCounter(producer)

    def connect(self, catalog: Any) -> None:
        """Build the encoder for the topic's partitions (RuntimeError: it has none)."""
        partitions = self.producer.partitions_for(self.config.topic)
        if not partitions:
            raise RuntimeError(f"topic {self.config.topic} has no partitions")
        self.encoder = MessageEncoder(catalog, len(partitions))

    def send(self, hour_ms: int, events: EventColumns, counts: KeyCounts | None = None) -> None:
        """Hand ``events`` to the producer as record batches, within the buffer bound.

        ``counts`` are the ledger counts of ``events`` when the caller has them.
        """
        n = len(events)
        # Grouped by partition (each partition's records in their order) before they
        # are encoded, so the values need no reordering when batches are cut.
        partition = self.encoder.partitions(events)
        order = np.argsort(partition, kind="stable")
        events, partition = events.take(order), partition[order]
        values, lengths = self.encoder.value_column(events)
        size = int(lengths.sum())
        cfg = self.config.producer
        room = self.tracker.has_room(n, size) or (
            cfg.policy == "backpressure" and self.tracker.wait_for_room(n, size, cfg.block_timeout)
        )
        if not room:
            self.stats.dropped_records(n)
            self.totals["dropped"] += n
            return
        batches = build_batches(
            self.encoder.key_table,
            self.encoder.key_index(events),
            values,
            lengths,
            partition,
            limit=cfg.batch_size,
            codec=cfg.compression,
        )
        queued = self._enqueue(batches)
        index = np.concatenate([i for _, i in queued]) if queued else np.zeros(0, np.int64)
        accepted = len(index)
        written: KeyCounts | None = None
        if accepted == n:
            written = counts if counts is not None else self.ledger.count(hour_ms, events)
        elif accepted:
            written = self.ledger.count(hour_ms, events.take(np.sort(index)))
        if written is not None:
            self.ledger.add(hour_ms, written, "written")
        chunk = Chunk(
            hour_ms,
            events,
            partition,
            int(lengths[index].sum()),
            counts=written if accepted == n else None,
        )
        self.stats.sent(accepted, chunk.value_bytes)
        self.totals["sent"] += accepted
        self.totals["failed"] += n - accepted
        self.tracker.track(chunk, queued, time.monotonic())

    def _enqueue(self, batches: list[Batch]) -> list[tuple[Any, np.ndarray]]:
        """Queue ``batches`` on the producer; the (future, record positions) of those queued."""
        producer = self.live_producer()
        queued: list[tuple[Any, np.ndarray]] = []
        if producer is None:
            return queued
        topic = self.config.topic
        try:
            for batch in batches:
                future = producer.enqueue(topic, batch.partition, batch.records)
                queued.append((future, batch.index))
        except KafkaError as exc:
            self._send_error(exc)
        if queued:
            producer.wakeup()
        return queued

    def live_producer(self) -> Any:
        """The data producer, made anew if the last replacement failed (None: cannot be made)."""
        if self.producer is None:
            try:
                self.producer = self.producer_factory()
            except Exception as exc:  # noqa: BLE001 - counted as a send error; tried again later
                self._send_error(exc)
                return None
            self.retries = RetryCounter(self.producer)
        return self.producer

    def replace(self) -> bool:
        """Abandon the producer (closed without waiting) and make a new one; whether it was made."""
        abandon(self.producer)
        self.producer = None
        return self.live_producer() is not None

    def flush(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for every record handed over to be settled."""
        if self.producer is None:
            return self.tracker.open_chunks == 0
        try:
            self.producer.flush(timeout=timeout)
        except KafkaError:
            return False
        return self.tracker.open_chunks == 0

    def _send_error(self, exc: BaseException) -> None:
        self._send_errors += 1
        if self._send_errors <= 5 or self._send_errors % 100 == 0:
            failed = f"send failed ({self._send_errors})"
            self.journal.emit(
                Log(level="warning", message=f"workload {self.name}: {failed}: {exc!r}"[:500])
            )
