"""Batch windows: how simulated time is cut into batches and how many events each gets.

Windows are half-open ``[start_ms, end_ms)`` in epoch milliseconds of simulated
time. They never straddle an hour (a batch lands in one hourly partition), hold
about ``batch_rows`` events, last at most ``max_window_ms``, and end at the
shape's changes (a spike's edges, ``next_change``), so piecewise shapes integrate
exactly. The count of a
window is ``floor(C(end)) - floor(C(start))`` where ``C`` is the expected number of
events since the start (rate x shape, integrated with Simpson's rule), so counts
over any span add up to the integral: the run's total never drifts.

The sequence of windows is a pure function of the settings, never of when the
caller asks, so output is identical however the clock advances.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from dagstorm.workloads.traffic.shapes import ShapeLike

MS_PER_HOUR = 3_600_000


@dataclass(frozen=True)
class Window:
    """One batch's slice of simulated time."""

    index: int
    start_ms: int
    end_ms: int
    count: int

    @property
    def hour_ms(self) -> int:
        """Start of the hour (epoch ms) this window lands in: its partition."""
        return self.start_ms - self.start_ms % MS_PER_HOUR


class Schedule:
    """Cuts simulated time into windows for a rate (events/s) times a shape."""

    def __init__(
        self,
        *,
        events_per_second: float,
        start_ms: int,
        shape: ShapeLike | None = None,
        batch_rows: int = 65_536,
        max_window_ms: int = 10_000,
    ) -> None:
        if events_per_second < 0 or not math.isfinite(events_per_second):
            raise ValueError(f"events_per_second must be finite and >= 0: {events_per_second}")
        self.events_per_second = events_per_second
        self.start_ms = start_ms
        self.shape = shape
        self.batch_rows = batch_rows
        self.max_window_ms = max_window_ms

    def multiplier(self, t: float) -> float:
        """The shape at ``t`` simulated seconds since the start (1 without a shape)."""
        if self.shape is None:
            return 1.0
        return max(0.0, float(self.shape.rate_at(t)))

    def expected(self, start_ms: int, end_ms: int) -> float:
        """Expected events in ``[start_ms, end_ms)`` (composite Simpson over the shape).

        The last point is taken just inside the window (half-open), so a step that
        starts exactly at ``end_ms`` (a spike) does not leak into this window.
        """
        a = (start_ms - self.start_ms) / 1000.0
        b = (end_ms - self.start_ms) / 1000.0
        if self.shape is None:
            return self.events_per_second * (b - a)
        last = b - min(0.0005, (b - a) / 8)
        step = (last - a) / 4
        weights = (1.0, 4.0, 2.0, 4.0, 1.0)
        total = sum(w * self.multiplier(a + i * step) for i, w in enumerate(weights))
        return self.events_per_second * total / 12.0 * (b - a)

    def _next_change_ms(self, start_ms: int) -> int | None:
        """The first shape change after ``start_ms`` (epoch ms, rounded up), if any."""
        changes = getattr(self.shape, "next_change", None)
        if changes is None:
            return None
        at: float | None = changes((start_ms - self.start_ms) / 1000.0)
        if at is None or not math.isfinite(at):
            return None
        return max(start_ms + 1, self.start_ms + math.ceil(at * 1000.0))

    def _next_end(self, start_ms: int) -> int:
        hour_end = start_ms - start_ms % MS_PER_HOUR + MS_PER_HOUR
        change = self._next_change_ms(start_ms)
        if change is not None:  # a window never straddles a spike's edge
            hour_end = min(hour_end, change)
        rate = self.events_per_second * self.multiplier((start_ms - self.start_ms) / 1000.0)
        span = self.max_window_ms if rate <= 0 else int(1000.0 * self.batch_rows / rate)
        end = min(start_ms + max(1, min(span, self.max_window_ms)), hour_end)
        # A shape can rise inside the window (a spike): halve until it fits.
        while end - start_ms > 1 and self.expected(start_ms, end) > 1.5 * self.batch_rows:
            end = start_ms + (end - start_ms) // 2
        return end

    def windows(self) -> Iterator[Window]:
        """All windows from the start, forever (the caller bounds the loop)."""
        index, start, cumulative = 0, self.start_ms, 0.0
        while True:
            end = self._next_end(start)
            total = cumulative + self.expected(start, end)
            count = math.floor(total) - math.floor(cumulative)
            yield Window(index=index, start_ms=start, end_ms=end, count=count)
            index, start, cumulative = index + 1, end, total
