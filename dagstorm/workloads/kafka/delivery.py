"""Which records Kafka acknowledged: delivery tracking per record batch, bounded.

kafka-python resolves one ``FutureProduceResult`` per record batch it sends.
:class:`DeliveryTracker` registers one callback per batch: when the broker
acknowledges a batch, every record of the chunk that went into it is marked
acked with its offset (base offset + index in the batch) in numpy arrays. A
record is acked only through such a callback; whatever is still unresolved
when the tracker gives up is *unknown* and counted as failed — never as
delivered.

The tracker also bounds what is in flight (records and value bytes handed to the
producer and not yet settled): :meth:`wait_for_room` blocks the caller at most a
timeout, so the buffer policy (drop or back-pressure) never hangs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dagstorm.workloads.kafka.stats import StatsWindow
from dagstorm.workloads.model.events import EventColumns
from dagstorm.workloads.sinks.ledger import KeyCounts

PENDING, ACKED, FAILED, UNSENT = 0, 1, 2, 3


@dataclass(eq=False)
class Chunk:
    """Records of one send call, their partitions and what became of each."""

    hour_ms: int
    events: EventColumns
    partition: np.ndarray
    value_bytes: int
    status: np.ndarray = field(init=False)
    offset: np.ndarray = field(init=False)
    #: The ledger counts of all the chunk's records, when known (reused once all are acked).
    counts: KeyCounts | None = None
    #: Record batches (produce futures) of this chunk not yet resolved.
    open_batches: int = 0

    def __post_init__(self) -> None:
        n = len(self.events)
        self.status = np.full(n, PENDING, dtype=np.int8)
        self.offset = np.full(n, -1, dtype=np.int64)

    @property
    def records(self) -> int:
        """Records in the chunk."""
        return len(self.events)

    def count(self, status: int) -> int:
        """Records with ``status``."""
        return int(np.count_nonzero(self.status == status))


class DeliveryTracker:
    """Marks records acked or failed from batch callbacks; bounds what is in flight."""

    def __init__(self, stats: StatsWindow, *, max_records: int, max_bytes: int) -> None:
        self.stats = stats
        self.max_records = max_records
        self.max_bytes = max_bytes
        self._cond = threading.Condition()
        self._open: set[Chunk] = set()
        self._settled: list[Chunk] = []
        self.in_flight_records = 0
        self.in_flight_bytes = 0
        #: When a record last settled (monotonic seconds): a stalled producer stops this.
        self.last_progress = time.monotonic()

    def has_room(self, records: int, size: int) -> bool:
        """Whether ``records`` more (``size`` bytes) fit (an empty buffer always has room)."""
        if self.in_flight_records == 0:
            return True
        return (
            self.in_flight_records + records <= self.max_records
            and self.in_flight_bytes + size <= self.max_bytes
        )

    def wait_for_room(self, records: int, size: int, timeout: float) -> bool:
        """Block until :meth:`has_room` or ``timeout`` seconds; whether there is room."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self.has_room(records, size):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def track(
        self, chunk: Chunk, batches: Sequence[tuple[Any, np.ndarray]], started: float
    ) -> None:
        """Follow the records of ``chunk`` that went into ``batches``; the rest were never sent.

        Each entry is a batch's produce future (kafka-python's ``FutureProduceResult``)
        and the positions in ``chunk`` of its records, in batch order; ``started`` is
        when the batches were handed over (for the ack latency).
        """
        sent = np.zeros(chunk.records, dtype=bool)
        for _, index in batches:
            sent[index] = True
        chunk.status[~sent] = UNSENT
        accepted = int(np.count_nonzero(sent))
        with self._cond:
            chunk.open_batches = len(batches)
            if batches:
                self._open.add(chunk)
                self.in_flight_records += accepted
                self.in_flight_bytes += chunk.value_bytes
            else:
                self._settled.append(chunk)
        for produce, index in batches:
            produce.add_callback(self._acked, chunk, index, started)
            produce.add_errback(self._failed, chunk, index, started)

    def _acked(self, chunk: Chunk, index: np.ndarray, started: float, result: Any) -> None:
        base, _timestamp, record_errors = result
        if record_errors is not None or base is None or base < 0:
            self._failed(chunk, index, started, None)
            return
        with self._cond:
            if chunk not in self._open:
                return  # given up on already: it stays failed (unknown)
            chunk.status[index] = ACKED
            chunk.offset[index] = base + np.arange(index.size)
            self.stats.settled(
                index.size, ok=True, latency_ms=(time.monotonic() - started) * 1000.0
            )
            self._close_batch(chunk, index.size)

    def _failed(self, chunk: Chunk, index: np.ndarray, _started: float, _error: object) -> None:
        with self._cond:
            if chunk not in self._open:
                return
            chunk.status[index] = FAILED
            self.stats.settled(index.size, ok=False)
            self._close_batch(chunk, index.size)

    def _close_batch(self, chunk: Chunk, records: int) -> None:
        """Called with the lock held."""
        self.last_progress = time.monotonic()
        self.in_flight_records -= records
        chunk.open_batches -= 1
        if chunk.open_batches == 0 and chunk in self._open:
            self._open.discard(chunk)
            self.in_flight_bytes -= chunk.value_bytes
            self._settled.append(chunk)
            self._cond.notify_all()

    def pop_settled(self) -> list[Chunk]:
        """Chunks whose every record is settled, since the last call."""
        with self._cond:
            done, self._settled = self._settled, []
        return done

    @property
    def open_chunks(self) -> int:
        """Chunks with a record still pending."""
        with self._cond:
            return len(self._open)

    def stalled(self, after: float) -> bool:
        """Records are in flight and none has settled for ``after`` seconds."""
        with self._cond:
            if not self._open:
                self.last_progress = time.monotonic()
                return False
            return time.monotonic() - self.last_progress > after

    def give_up(self) -> list[Chunk]:
        """Settle every open chunk now: its pending records become unknown (failed)."""
        with self._cond:
            chunks, self._open = list(self._open), set()
            for chunk in chunks:
                pending = chunk.status == PENDING
                unknown = int(np.count_nonzero(pending))
                chunk.status[pending] = FAILED
                if unknown:
                    self.stats.settled(unknown, ok=False)
            self.in_flight_records = self.in_flight_bytes = 0
            self._settled.extend(chunks)
            self._cond.notify_all()
        return self.pop_settled()
