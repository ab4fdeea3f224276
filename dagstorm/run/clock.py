"""One clock for the engine, shapes and faults: wall time, and simulated time.

Simulated time is wall time × time compression (24: a simulated day passes in
one wall hour). Tests use :class:`FakeClock`, whose ``sleep`` advances time at
once, so nothing in them really waits.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """What the engine asks for time."""

    compression: float

    def elapsed(self) -> float:
        """Wall seconds since the run started (monotonic)."""

    def wall(self) -> float:
        """Epoch seconds now."""

    def sleep(self, seconds: float) -> None:
        """Wait (or, for a fake clock, advance)."""

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Wait for ``event`` at most ``seconds``; True if it was set."""


def simulated(clock: Clock) -> float:
    """Simulated seconds since the start."""
    return clock.elapsed() * clock.compression


class WallClock:
    """Real time."""

    def __init__(self, compression: float = 1.0) -> None:
        self.compression = compression
        self._start = time.monotonic()
        self._start_wall = time.time()

    def elapsed(self) -> float:
        """Wall seconds since start."""
        return time.monotonic() - self._start

    def wall(self) -> float:
        """Epoch seconds (start wall time + monotonic elapsed: immune to clock steps)."""
        return self._start_wall + self.elapsed()

    def sleep(self, seconds: float) -> None:
        """Sleep."""
        if seconds > 0:
            time.sleep(seconds)

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Wait on an event."""
        return event.wait(max(0.0, seconds))


class FakeClock:
    """Time that moves only when told to (``sleep``/``wait``/``advance``)."""

    def __init__(self, compression: float = 1.0, start_wall: float = 1_800_000_000.0) -> None:
        self.compression = compression
        self._now = 0.0
        self._start_wall = start_wall
        self._lock = threading.Lock()

    def elapsed(self) -> float:
        """Fake seconds since start."""
        with self._lock:
            return self._now

    def wall(self) -> float:
        """Fake epoch seconds."""
        return self._start_wall + self.elapsed()

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        with self._lock:
            self._now += max(0.0, seconds)

    def sleep(self, seconds: float) -> None:
        """Advance instead of sleeping."""
        self.advance(seconds)

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Return at once: set events win, otherwise time advances."""
        if event.is_set():
            return True
        self.advance(seconds)
        return event.is_set()
