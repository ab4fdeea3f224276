"""The workload contract the engine drives."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod

from dagstorm.engine.clock import Clock
from dagstorm.engine.journal import RunJournal


class Workload(ABC):
    """Generates load in its own thread; reports stats as journal events.

    ``start`` returns at once; ``stop`` ends the load and waits for the thread.
    Every workload is bounded in count and time.
    """

    def __init__(self, name: str, journal: RunJournal, clock: Clock) -> None:
        self.name = name
        self.journal = journal
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    @abstractmethod
    def run(self) -> None:
        """The load loop; returns when ``self._stop`` is set or the work is done."""

    def _main(self) -> None:
        try:
            self.run()
        except Exception as exc:  # noqa: BLE001 - reported as an event; the run goes on
            self.error = exc
            self.journal.emit(
                "log", level="error", message=f"workload {self.name} stopped: {exc!r}"[:500]
            )

    def start(self) -> None:
        """Start the load thread."""
        self._thread = threading.Thread(
            target=self._main, name=f"workload-{self.name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Stop and wait."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
