"""Per-interval producer statistics: the ``workload_stats`` event of a Kafka workload.

Counters are filled from two threads (the workload's and kafka-python's sender,
through delivery callbacks), so every update holds one lock; latencies are kept
per settled batch (one sample per record batch, weighted by its records) and
reduced to p50/p99 (nearest rank, ``core.quantiles``) when the window closes.
Nothing accumulates across windows.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from dagstorm.core.quantiles import weighted_quantile


@dataclass(frozen=True)
class StatsSnapshot:
    """One closed window's figures (what ``workload_stats`` carries)."""

    records: int
    bytes: int
    acked: int
    failed: int
    dropped: int
    retried: int
    p50_ms: float | None
    p99_ms: float | None
    interval_s: float

    def event_fields(self) -> dict[str, Any]:
        """The journal fields (``docs/journal.md``, ``workload_stats``)."""
        return {
            "records": self.records,
            "bytes": self.bytes,
            "acked": self.acked,
            "failed": self.failed,
            "dropped": self.dropped,
            "retried": self.retried,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "interval_s": round(self.interval_s, 3),
        }


class StatsWindow:
    """Counters of the current interval; :meth:`close` returns them and starts anew."""

    def __init__(self, started: float) -> None:
        self._lock = threading.Lock()
        #: Start of the current window (wall seconds).
        self.started = started
        self._reset()

    def _reset(self) -> None:
        self.records = self.bytes = self.acked = self.failed = self.dropped = self.retried = 0
        self._latency: list[float] = []
        self._weight: list[int] = []

    def sent(self, records: int, size: int) -> None:
        """``records`` (``size`` bytes of values) handed to the producer."""
        with self._lock:
            self.records += records
            self.bytes += size

    def dropped_records(self, records: int) -> None:
        """``records`` dropped by the buffer policy (never handed to the producer)."""
        with self._lock:
            self.dropped += records

    def settled(self, records: int, *, ok: bool, latency_ms: float | None = None) -> None:
        """Records settled: acknowledged (``ok``) or failed, ``latency_ms`` after their send."""
        with self._lock:
            if ok:
                self.acked += records
                if latency_ms is not None:
                    self._latency.append(latency_ms)
                    self._weight.append(records)
            else:
                self.failed += records

    def retries(self, records: int) -> None:
        """``records`` were re-sent by the producer (a batch retried)."""
        with self._lock:
            self.retried += records

    def _latency_ms(self, q: float) -> float | None:
        """The ``q`` quantile of this window's ack latencies, each batch counted per record."""
        value = weighted_quantile(self._latency, self._weight, q)
        return None if value is None else round(value, 2)

    def close(self, now: float) -> StatsSnapshot:
        """The window ending at ``now`` (wall seconds); the next one starts there."""
        with self._lock:
            p50 = self._latency_ms(0.50)
            p99 = self._latency_ms(0.99)
            snap = StatsSnapshot(
                records=self.records,
                bytes=self.bytes,
                acked=self.acked,
                failed=self.failed,
                dropped=self.dropped,
                retried=self.retried,
                p50_ms=p50,
                p99_ms=p99,
                interval_s=now - self.started,
            )
            self.started = now
            self._reset()
        return snap
