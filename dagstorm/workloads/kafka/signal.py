"""Completion signals: the acked offset ranges the Kafka-triggered DAG aggregates.

The signal contract (``docs/pipeline.md``, "Completion signals (Kafka)") allows
one ``[start, end)`` range per partition. :class:`AckedRanges` collects the
offsets of acknowledged records since the last signal and cuts them into
signals whose ranges hold *only* acked offsets: where a partition's offsets have
a gap (a batch that failed or whose fate is unknown), the next contiguous run
goes into the next signal. So the DAG never loads a record the ledger does not
count as acked, and ``records`` always equals the sum of the ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Signal:
    """One completion signal: ranges per partition and their record count."""

    signal_id: str
    topic: str
    ranges: dict[str, tuple[int, int]]

    @property
    def records(self) -> int:
        """Records covered (the sum of the ranges)."""
        return sum(end - start for start, end in self.ranges.values())

    def message(self) -> dict[str, Any]:
        """The control-topic message."""
        return {
            "signal_id": self.signal_id,
            "topic": self.topic,
            "ranges": {p: [s, e] for p, (s, e) in sorted(self.ranges.items(), key=_num)},
            "records": self.records,
        }


def _num(item: tuple[str, tuple[int, int]]) -> int:
    return int(item[0])


def contiguous_runs(offsets: np.ndarray) -> list[tuple[int, int]]:
    """Sorted, de-duplicated ``offsets`` as ``[start, end)`` runs of consecutive values."""
    if offsets.size == 0:
        return []
    values = np.unique(offsets)
    breaks = np.flatnonzero(np.diff(values) != 1) + 1
    starts = np.concatenate([[0], breaks])
    ends = np.concatenate([breaks, [values.size]])
    return [(int(values[s]), int(values[e - 1]) + 1) for s, e in zip(starts, ends, strict=True)]


class AckedRanges:
    """Acked offsets per partition since the last signal."""

    def __init__(self) -> None:
        self._offsets: dict[int, list[np.ndarray]] = {}
        self.records = 0

    def add(self, partition: np.ndarray, offset: np.ndarray) -> None:
        """Record acked ``offset`` s in ``partition`` s (parallel arrays)."""
        if offset.size == 0:
            return
        for p in np.unique(partition).tolist():
            self._offsets.setdefault(int(p), []).append(offset[partition == p])
        self.records += int(offset.size)

    def cut(self, topic: str, make_id: Any) -> list[Signal]:
        """Signals covering every offset collected (``make_id()`` names each); resets."""
        runs = {
            p: contiguous_runs(np.concatenate(parts)) for p, parts in self._offsets.items() if parts
        }
        signals = []
        depth = max((len(r) for r in runs.values()), default=0)
        for k in range(depth):
            ranges = {str(p): r[k] for p, r in sorted(runs.items()) if len(r) > k}
            signals.append(Signal(make_id(), topic, ranges))
        return signals

    def clear(self) -> None:
        """Forget the offsets (after their signals were acknowledged)."""
        self._offsets = {}
        self.records = 0
