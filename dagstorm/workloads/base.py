"""The workload contract the engine drives."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import ClassVar

from dagstorm.run.clock import Clock
from dagstorm.run.events import Log
from dagstorm.run.journal import RunJournal
from dagstorm.workloads.pause import PauseGate


class Workload(ABC):
    """Generates load in its own thread; reports stats as journal events.

    ``start`` returns at once; ``stop`` ends the load and waits for the thread.
    Every workload is bounded in count and time.

    ``pause``/``resume`` come from the engine (a control command). A loop honours
    them by calling :meth:`wait_if_paused` at a safe point of each iteration and
    shifting its schedule by the seconds it returns, and says so with
    ``pausable = True`` (docs/workloads.md, "Pausing a workload"); the engine reports
    the others as not paused.
    """

    #: Whether the load loop honours :meth:`pause` (calls :meth:`wait_if_paused`).
    pausable: ClassVar[bool] = False

    def __init__(self, name: str, journal: RunJournal, clock: Clock) -> None:
        self.name = name
        self.journal = journal
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self._gate = PauseGate(clock)

    @abstractmethod
    def run(self) -> None:
        """The load loop; returns when ``self._stop`` is set or the work is done."""

    def _main(self) -> None:
        try:
            self.run()
        except Exception as exc:  # noqa: BLE001 - reported as an event; the run goes on
            self.error = exc
            self.journal.emit(
                Log(level="error", message=f"workload {self.name} stopped: {exc!r}"[:500])
            )

    def start(self) -> None:
        """Start the load thread."""
        self._thread = threading.Thread(
            target=self._main, name=f"workload-{self.name}", daemon=True
        )
        self._thread.start()

    @property
    def paused(self) -> bool:
        """Whether the engine has paused this workload."""
        return self._gate.paused

    @property
    def paused_seconds(self) -> float:
        """Wall seconds the loop has spent paused so far."""
        return self._gate.paused_seconds

    def pause(self) -> None:
        """Pause the load at the loop's next :meth:`wait_if_paused` (also before ``start``)."""
        self._gate.pause()

    def resume(self) -> None:
        """Let a paused loop go on."""
        self._gate.resume()

    def wait_if_paused(self) -> float:
        """Block while paused (until resumed or stopped); the wall seconds spent paused."""
        return self._gate.wait(self._stop)

    def stop(self, timeout: float = 60.0) -> None:
        """Stop and wait (a paused loop wakes up to stop)."""
        self._stop.set()
        self._gate.wake()
        if self._thread is not None:
            self._thread.join(timeout)
