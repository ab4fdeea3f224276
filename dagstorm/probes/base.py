"""The probe contract: sample on an interval into journal events, never raise."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod

from dagstorm.run.clock import Clock
from dagstorm.run.events import ProbeError
from dagstorm.run.journal import RunJournal


class Probe(ABC):
    """Samples something every ``interval`` seconds in its own thread.

    A failing sample becomes a ``probe_error`` event; the probe keeps going.
    :meth:`stop` takes one last sample, so what finished between the last interval
    and the end of the run (a DAG run ending during the drain) is in the journal.
    """

    name = "probe"
    #: Whether :meth:`stop` takes a last sample.
    final_sample = True

    def __init__(self, journal: RunJournal, clock: Clock, *, interval: float = 2.0) -> None:
        self.journal = journal
        self.clock = clock
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors = 0

    @abstractmethod
    def sample(self) -> None:
        """Take one sample and emit events."""

    def setup(self) -> None:  # noqa: B027 - optional hook
        """Work before the first sample (open sockets, ...); errors are journaled."""

    def teardown(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""

    def _loop(self) -> None:
        try:
            self.setup()
        except Exception as exc:  # noqa: BLE001 - a probe never crashes the run
            self._error(exc)
        while not self._stop.is_set():
            self._sample_once()
            if self.clock.wait(self._stop, self.interval):
                break
        if self.final_sample:
            self._sample_once()
        try:
            self.teardown()
        except Exception as exc:  # noqa: BLE001 - a probe never crashes the run
            self._error(exc)

    def _sample_once(self) -> None:
        try:
            self.sample()
        except Exception as exc:  # noqa: BLE001 - a probe never crashes the run
            self._error(exc)

    def _error(self, exc: BaseException) -> None:
        self.errors += 1
        message = str(exc).splitlines()[0][:300] if str(exc) else ""
        body = getattr(exc, "body", None)  # the Airflow client's ApiException
        if body:
            message = f"{message} {str(body)[:200]}"
        self.journal.emit(ProbeError(probe=self.name, error=f"{type(exc).__name__}: {message}"))

    def start(self) -> None:
        """Start sampling in a daemon thread."""
        self._thread = threading.Thread(target=self._loop, name=f"probe-{self.name}", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the probe to stop (its last sample starts now); :meth:`stop` waits for it."""
        self._stop.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop, after one last sample (bounded by ``timeout``)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
