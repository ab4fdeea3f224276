"""Columns of generated events, and the buffer of events due in later batches.

Events are a struct of numpy arrays (one row per event); categorical values are
small integer codes into the catalogue, rendered as text only by the encoders.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

I8 = NDArray[np.int8]
I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]
Index = NDArray[np.int64] | NDArray[np.bool_]


@dataclass
class EventColumns:
    """A batch of events as parallel numpy arrays."""

    event_id: U64
    impression_id: U64
    event_ms: I64
    #: When the line reaches the landing zone; lines are written in this order.
    arrival_ms: I64
    event_type: I8
    ad: I64
    user: U64
    geo: I64
    devos: I64
    placement: I64
    bid_cents: I64
    spend_micros: I64
    label: I8

    def __len__(self) -> int:
        return int(self.event_id.size)

    def _map(self, fn: Any) -> EventColumns:
        return EventColumns(**{f.name: fn(getattr(self, f.name)) for f in fields(self)})

    def take(self, index: Index) -> EventColumns:
        """Rows selected by integer positions or a boolean mask."""
        return self._map(lambda column: column[index])

    def replace(self, **columns: Any) -> EventColumns:
        """A copy sharing the columns not given."""
        current = {f.name: getattr(self, f.name) for f in fields(self)}
        current.update(columns)
        return EventColumns(**current)

    @classmethod
    def concat(cls, parts: list[EventColumns]) -> EventColumns:
        """All rows of ``parts``, in order."""
        nonempty = [p for p in parts if len(p)]
        if len(nonempty) <= 1:
            return nonempty[0] if nonempty else (parts[0] if parts else cls.empty())
        return cls(
            **{f.name: np.concatenate([getattr(p, f.name) for p in nonempty]) for f in fields(cls)}
        )

    @classmethod
    def empty(cls) -> EventColumns:
        """No rows."""
        u64, i64, i8 = np.empty(0, np.uint64), np.empty(0, np.int64), np.empty(0, np.int8)
        return cls(
            event_id=u64,
            impression_id=u64,
            event_ms=i64,
            arrival_ms=i64,
            event_type=i8,
            ad=i64,
            user=u64,
            geo=i64,
            devos=i64,
            placement=i64,
            bid_cents=i64,
            spend_micros=i64,
            label=i8,
        )


class PendingEvents:
    """Clicks and conversions created now but due later, bucketed by due second."""

    BUCKET_MS = 1000

    def __init__(self) -> None:
        self._buckets: dict[int, list[EventColumns]] = {}
        self._keys: list[int] = []
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def push(self, events: EventColumns) -> None:
        """Hold ``events`` until their ``arrival_ms``."""
        if not len(events):
            return
        buckets = events.arrival_ms // self.BUCKET_MS
        order = np.argsort(buckets, kind="stable")
        keys, starts = np.unique(buckets[order], return_index=True)
        ends = [*starts[1:].tolist(), len(order)]
        for key, start, end in zip(keys.tolist(), starts.tolist(), ends, strict=True):
            if key not in self._buckets:
                self._buckets[key] = []
                heapq.heappush(self._keys, key)
            self._buckets[key].append(events.take(order[start:end]))
        self._count += len(events)

    def pop_due(self, before_ms: int) -> EventColumns:
        """Remove and return the events with ``arrival_ms < before_ms``."""
        due: list[EventColumns] = []
        limit = before_ms // self.BUCKET_MS
        while self._keys and self._keys[0] <= limit:
            key = self._keys[0]
            bucket = EventColumns.concat(self._buckets[key])
            if key < limit:
                heapq.heappop(self._keys)
                del self._buckets[key]
                due.append(bucket)
                continue
            now = bucket.arrival_ms < before_ms
            due.append(bucket.take(now))
            rest = bucket.take(~now)
            if len(rest):
                self._buckets[key] = [rest]
            else:
                heapq.heappop(self._keys)
                del self._buckets[key]
            break
        out = EventColumns.concat(due)
        self._count -= len(out)
        return out
