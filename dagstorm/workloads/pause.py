"""A pause gate for load loops: paused, a loop blocks at its next safe point.

The engine pauses and resumes workloads (a control command, docs/control.md); a
loop calls :meth:`PauseGate.wait` where stopping is harmless (between batches,
before a request) and shifts its schedule by the seconds it was paused, so a
resume continues at the planned rate instead of catching up in a burst.
"""

from __future__ import annotations

import threading

from dagstorm.run.clock import Clock

#: A paused loop re-checks its stop event at least this often (real seconds).
RECHECK_S = 0.5


class PauseGate:
    """Open (running) or closed (paused); thread-safe."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._cond = threading.Condition()
        self._paused = False
        #: Wall seconds spent blocked in :meth:`wait`, in total.
        self.paused_seconds = 0.0
        #: How many loops are blocked in :meth:`wait` now.
        self.blocked = 0

    @property
    def paused(self) -> bool:
        """Whether the gate is closed."""
        return self._paused

    def pause(self) -> None:
        """Close the gate: loops block at their next :meth:`wait`."""
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        """Open the gate and wake the blocked loops."""
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def wake(self) -> None:
        """Wake blocked loops so they re-check their stop event (called by ``stop``)."""
        with self._cond:
            self._cond.notify_all()

    def wait(self, stop: threading.Event) -> float:
        """Block while paused and not stopped; the wall seconds this call was paused."""
        with self._cond:
            if not self._paused or stop.is_set():
                return 0.0
            started = self.clock.elapsed()
            self.blocked += 1
            try:
                while self._paused and not stop.is_set():
                    self._cond.wait(RECHECK_S)
            finally:
                self.blocked -= 1
            held = max(0.0, self.clock.elapsed() - started)
            self.paused_seconds += held
            return held
