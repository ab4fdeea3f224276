"""The ``kafka_burst`` workload's hand-over: generated events → record batches → the producer.

:class:`RecordSender` owns the data producer. It encodes each chunk of events
(:func:`~dagstorm.workloads.kafka.encode_pool.encode_chunk`: grouped by partition,
JSON values, record batches cut and compressed) — in this process, or with
``producer.encode_workers`` in worker processes while the next chunks are
generated (:class:`~dagstorm.workloads.kafka.encode_pool.EncodePool`; chunks are
handed over in the order they were sent, at most ``2 × workers`` waiting) — then
checks the in-flight bound (drop, or back-pressure with a timeout) and queues the
batches; what the producer accepted is counted as ``written`` in the ledger and
tracked until its delivery is settled. :meth:`RecordSender.flush` first hands over
every chunk still being encoded.
A producer that cannot be made (or was abandoned as wedged) is made anew on the
next send; send errors are counted and logged, a few at first then every 100th.
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np

from dagstorm.clients.kafka import KafkaError
from dagstorm.run.events import Log
from dagstorm.run.journal import RunJournal
from dagstorm.workloads.kafka.config import KafkaBurstConfig
from dagstorm.workloads.kafka.delivery import Chunk, DeliveryTracker
from dagstorm.workloads.kafka.encode_pool import Encoded, EncodePool, encode_chunk
from dagstorm.workloads.kafka.messages import MessageEncoder
from dagstorm.workloads.kafka.producer import ProducerFactory, abandon
from dagstorm.workloads.kafka.records import Batch
from dagstorm.workloads.kafka.retries import RetryCounter
from dagstorm.workloads.kafka.stats import StatsWindow
from dagstorm.workloads.model.events import EventColumns
from dagstorm.workloads.sinks.ledger import KeyCounts, LedgerWriter


@dataclass(frozen=True)
class _Waiting:
    """A chunk sent to the encode pool and not yet handed to the producer."""

    hour_ms: int
    events: EventColumns
    counts: KeyCounts | None
    encoded: Future[Encoded]


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
        #: Worker processes encoding chunks (None: encoded in this process).
        self.pool: EncodePool | None = None
        self._waiting: deque[_Waiting] = deque()

    def open(self) -> None:
        """Make the first data producer (RuntimeError: it cannot be made)."""
        try:
            producer = self.producer_factory()
        except Exception as exc:
            raise RuntimeError(f"no Kafka producer: {exc}") from exc
        self.producer = producer
        self.retries = RetryCounter(producer)

    def connect(self, catalog: Any) -> None:
        """Build the encoder (and pool) for the topic's partitions (RuntimeError: it has none)."""
        partitions = self.producer.partitions_for(self.config.topic)
        if not partitions:
            raise RuntimeError(f"topic {self.config.topic} has no partitions")
        self.encoder = MessageEncoder(catalog, len(partitions))
        cfg = self.config.producer
        if cfg.encode_workers:
            self.pool = EncodePool(
                catalog,
                len(partitions),
                workers=cfg.encode_workers,
                batch_size=cfg.batch_size,
                codec=cfg.compression,
            )

    def send(self, hour_ms: int, events: EventColumns, counts: KeyCounts | None = None) -> None:
        """Hand ``events`` to the producer as record batches, within the buffer bound.

        ``counts`` are the ledger counts of ``events`` when the caller has them. With
        an encode pool the chunk is encoded beside the caller and handed over by a
        later call (this one, :meth:`poll` or :meth:`flush`), in order.
        """
        if self.pool is None:
            cfg = self.config.producer
            encoded = encode_chunk(
                self.encoder, events, batch_size=cfg.batch_size, codec=cfg.compression
            )
            self._hand_over(hour_ms, events, counts, encoded)
            return
        self._waiting.append(_Waiting(hour_ms, events, counts, self.pool.submit(events)))
        self.poll(wait_above=self.pool.depth)

    def poll(self, *, wait_above: int | None = None) -> None:
        """Hand over the encoded chunks that are ready, in order.

        With ``wait_above``, wait for the oldest until at most that many are left
        (0: every one). RuntimeError when a worker failed: the chunks still waiting
        are never handed over (generated, not sent).
        """
        limit = len(self._waiting) if wait_above is None else wait_above
        while self._waiting:
            oldest = self._waiting[0]
            if len(self._waiting) <= limit and not oldest.encoded.done():
                return
            self._waiting.popleft()
            try:
                encoded = oldest.encoded.result()
            except Exception as exc:
                self._waiting.clear()
                raise RuntimeError(f"a Kafka encoding worker failed: {exc!r}") from exc
            self._hand_over(oldest.hour_ms, oldest.events, oldest.counts, encoded)

    def close(self) -> None:
        """Stop the encode pool (nothing is handed over after this)."""
        self._waiting.clear()
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    def _hand_over(
        self, hour_ms: int, events: EventColumns, counts: KeyCounts | None, encoded: Encoded
    ) -> None:
        """The bound, the producer's queue, the ledger's ``written``, the tracker."""
        n = len(events)
        size = encoded.value_bytes
        cfg = self.config.producer
        room = self.tracker.has_room(n, size) or (
            cfg.policy == "backpressure" and self.tracker.wait_for_room(n, size, cfg.block_timeout)
        )
        if not room:
            self.stats.dropped_records(n)
            self.totals["dropped"] += n
            return
        queued = self._enqueue(encoded.batches)
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
            encoded.partition,
            int(encoded.value_lengths[index].sum()),
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
        """Hand over every chunk being encoded; wait up to ``timeout`` for all to settle."""
        self.poll(wait_above=0)
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
