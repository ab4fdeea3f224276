"""The replay clock: play, pause, seek and speed over a finished run's timeline.

Pure Python and thread-safe: the UI changes it, the reader worker asks it how far
to read. Positions are wall seconds since the run started (the journal's ``t``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

SPEEDS: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


@dataclass(frozen=True)
class ReplayPosition:
    """A snapshot of the replay clock."""

    t: float
    playing: bool
    speed: float
    #: Incremented on each backwards seek: readers must start again from the top.
    epoch: int


class ReplayClock:
    """Where a replay is, advanced by the UI's ticks while playing."""

    def __init__(self, *, speed: float = 1.0, playing: bool = True, end_t: float | None = None):
        self._lock = threading.Lock()
        self._t = 0.0
        self._speed = speed
        self._playing = playing
        self._epoch = 0
        self.end_t = end_t

    def position(self) -> ReplayPosition:
        """The current position."""
        with self._lock:
            return ReplayPosition(self._t, self._playing, self._speed, self._epoch)

    def tick(self, wall_dt: float) -> ReplayPosition:
        """Advance by ``wall_dt`` seconds of real time × speed when playing."""
        with self._lock:
            if self._playing:
                self._t = self._clamp(self._t + wall_dt * self._speed)
                if self.end_t is not None and self._t >= self.end_t:
                    self._playing = False
        return self.position()

    def toggle(self) -> bool:
        """Play ↔ pause; returns True when now playing."""
        with self._lock:
            self._playing = not self._playing
            if self._playing and self.end_t is not None and self._t >= self.end_t:
                self._t = 0.0
                self._epoch += 1
            return self._playing

    def seek(self, t: float) -> ReplayPosition:
        """Jump to ``t`` (clamped to the run); backwards bumps the epoch."""
        with self._lock:
            target = self._clamp(t)
            if target < self._t:
                self._epoch += 1
            self._t = target
        return self.position()

    def seek_by(self, delta: float) -> ReplayPosition:
        """Jump ``delta`` seconds forwards (or backwards when negative)."""
        return self.seek(self.position().t + delta)

    def faster(self) -> float:
        """The next speed up; returns it."""
        with self._lock:
            self._speed = next((s for s in SPEEDS if s > self._speed), SPEEDS[-1])
            return self._speed

    def slower(self) -> float:
        """The next speed down; returns it."""
        with self._lock:
            self._speed = next((s for s in reversed(SPEEDS) if s < self._speed), SPEEDS[0])
            return self._speed

    def _clamp(self, t: float) -> float:
        t = max(0.0, t)
        return min(t, self.end_t) if self.end_t is not None else t
