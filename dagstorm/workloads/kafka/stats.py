"""Per-interval producer statistics: the ``workload_stats`` event of a Kafka workload.

Counters are filled from two threads (the workload's and kafka-python's sender,
through delivery callbacks), so every update holds one lock; latencies are kept
per settled batch (one sample per record batch, weighted by its records) and
reduced to p50/p99 when the window closes. Nothing accumulates across windows.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np


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


def weighted_percentile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` (0..1) nearest-rank percentile of ``values``, each counted ``weights`` times."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    rank = max(1, math.ceil(q * int(cumulative[-1])))
    return float(values[order][np.searchsorted(cumulative, rank, side="left")])


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

    def close(self, now: float) -> StatsSnapshot:
        """The window ending at ``now`` (wall seconds); the next one starts there."""
        with self._lock:
            p50 = p99 = None
            if self._latency:
                values = np.asarray(self._latency, dtype=np.float64)
                weights = np.asarray(self._weight, dtype=np.int64)
                p50 = round(weighted_percentile(values, weights, 0.50), 2)
                p99 = round(weighted_percentile(values, weights, 0.99), 2)
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
