"""Per-second bins over a sliding window: bounded memory for any event rate."""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections import deque


class SecondBins:
    """Sums of values per whole second of ``t``, keeping the last ``window`` seconds."""

    def __init__(self, window: int = 120) -> None:
        self.window = window
        self._bins: deque[list[float]] = deque()  # [second, sum], seconds ascending

    def add(self, t: float, value: float) -> None:
        """Add ``value`` to the bin of second ``int(t)``."""
        second = int(t)
        if self._bins and self._bins[-1][0] == second:
            self._bins[-1][1] += value
        elif not self._bins or second > self._bins[-1][0]:
            self._bins.append([second, value])
            while self._bins and self._bins[0][0] <= second - self.window:
                self._bins.popleft()
        else:  # late event: find its bin (rare; journal events are nearly in order)
            for item in reversed(self._bins):
                if item[0] == second:
                    item[1] += value
                    return

    def values(self, now_t: float, width: int | None = None) -> list[float]:
        """The last ``width`` (default: window) seconds up to ``now_t``, 0 where empty."""
        width = min(width or self.window, self.window)
        end = int(now_t)
        start = end - width + 1
        out = [0.0] * width
        for second, value in self._bins:
            if start <= second <= end:
                out[int(second) - start] = value
        return out

    def last(self, now_t: float) -> float:
        """The value of the last complete second before ``now_t`` (0 when none)."""
        target = int(now_t) - 1
        for second, value in reversed(self._bins):
            if second == target:
                return value
            if second < target:
                break
        return 0.0

    def __len__(self) -> int:
        return len(self._bins)


class MinuteCounts:
    """Counts per minute of the run (minute m = wall seconds [60m, 60m + 60)), last N minutes."""

    def __init__(self, window: int = 60) -> None:
        self.window = window
        self._counts: dict[int, int] = {}

    def add(self, t: float, count: int = 1) -> None:
        """Count ``count`` at wall second ``t`` (ignored before the run started)."""
        if t < 0:
            return
        minute = int(t // 60)
        self._counts[minute] = self._counts.get(minute, 0) + count
        if len(self._counts) > self.window:
            for old in sorted(self._counts)[: len(self._counts) - self.window]:
                del self._counts[old]

    def series(self, now_t: float, width: int) -> list[int]:
        """Counts of the last ``width`` minutes up to the minute of ``now_t``."""
        end = int(max(now_t, 0) // 60)
        return [self._counts.get(m, 0) for m in range(end - width + 1, end + 1)]

    def get(self, minute: int) -> int:
        """The count of one minute."""
        return self._counts.get(minute, 0)


class RecentTimes:
    """The times of events in the last ``window`` seconds, to count a sliding span.

    Times may come out of order (a task try's start reaches the journal when a probe
    sees it): each is kept in order, and times older than the window go.
    """

    def __init__(self, window: float = 120.0) -> None:
        self.window = window
        self._times: list[float] = []

    def add(self, t: float) -> None:
        """Record an event at ``t``."""
        insort(self._times, t)
        old = bisect_left(self._times, self._times[-1] - self.window)
        if old:
            del self._times[:old]

    def count(self, now_t: float, span: float) -> int:
        """How many events fell in ``(now_t - span, now_t]``."""
        return bisect_right(self._times, now_t) - bisect_right(self._times, now_t - span)
