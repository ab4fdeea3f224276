"""Faults that act on the running Spark applications a name matches, and on each new one.

Both ``jvm`` fault families work this way: inject waits (≤ :data:`WAIT_S`) until a
scan acted on a matching application, then a background thread scans every
:data:`POLL_S` so that an application started while the fault holds (the executor
Spark starts after an OOM, the next application of an Airflow retry) is hit too.
Verify polls each application acted on for its evidence in the REST APIs of its
driver and of the history server.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from dagstorm.core.errors import DagstormError, FaultError
from dagstorm.core.polling import poll_until
from dagstorm.faults.base import Fault
from dagstorm.faults.jvm import targets
from dagstorm.faults.specs import JvmFault

#: Seconds inject waits for a matching application, and verify for the evidence.
WAIT_S = 120.0
#: Seconds between two looks for new matching applications.
POLL_S = 1.0


class AppWatchingFault(Fault):
    """A fault on the matching running Spark applications, rescanned while it holds."""

    spec: JvmFault
    #: The watcher thread's name, before the fault id.
    thread_prefix = "app-fault"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._lock = threading.Lock()
        #: Application id → name, of every application acted on.
        self._apps: dict[str, str] = {}
        #: The watcher's last problems (the master restarting, say), newest last.
        self.errors: list[str] = []

    def _master_ui(self) -> str:
        url = self.ctx.stack.spark_ui_url
        if url is None:
            raise FaultError("the stack declares no Spark master UI", fix="declare spark_ui_url")
        return url

    def scan(self) -> int:
        """Act on every new matching application (or JVM); how many now."""
        raise NotImplementedError

    def _watch(self) -> None:
        while not self._stop.wait(POLL_S):
            try:
                self.scan()
            except (DagstormError, OSError, ValueError) as exc:  # the master restarting, say
                message = exc.render() if isinstance(exc, DagstormError) else str(exc)
                self.errors.append(message)
                del self.errors[:-20]

    def _first_then_watch(self, nothing: Callable[[], FaultError]) -> float:
        """Scan until something was acted on (else raise ``nothing()``), then watch.

        Returns the seconds the first scan took to find its target.
        """
        started = time.monotonic()

        def first() -> bool | None:
            return True if self.scan() > 0 else None

        if poll_until(first, timeout=WAIT_S, interval=POLL_S) is None:
            raise nothing()
        took = time.monotonic() - started
        self._watcher = threading.Thread(
            target=self._watch, name=f"{self.thread_prefix}-{self.fault_id}", daemon=True
        )
        self._watcher.start()
        return took

    def _rest_bases(self, app_id: str, agent_jar: str = "") -> list[str]:
        """REST API bases that may know ``app_id``: its driver's UI, the history server."""
        app = targets.SparkApp(app_id, self._apps.get(app_id, ""))
        bases = [
            base
            for jvm in targets.find_jvms([app], agent_jar, frozenset({"driver"}))
            if (base := targets.driver_ui(jvm.pid)) is not None
        ]
        if self.ctx.stack.spark_history_url:
            bases.append(self.ctx.stack.spark_history_url)
        return bases

    def _evidence_of_apps(self, find: Callable[[str, list[str]], str | None]) -> str | None:
        """Poll (≤ :data:`WAIT_S`) each application acted on until ``find`` says what it saw.

        ``find(app_id, bases)`` gets the application's REST bases (looked up once they
        answer) and returns the evidence in one line, or None.
        """
        bases: dict[str, list[str]] = {}

        def seen() -> str | None:
            with self._lock:
                app_ids = list(self._apps)
            for app_id in app_ids:
                if not bases.get(app_id):
                    bases[app_id] = self._rest_bases_of(app_id)
                found = find(app_id, bases[app_id])
                if found is not None:
                    return found
            return None

        return poll_until(seen, timeout=WAIT_S, interval=1.0)

    def _rest_bases_of(self, app_id: str) -> list[str]:
        """The REST bases of ``app_id`` for this fault (a subclass names the agent's jar)."""
        return self._rest_bases(app_id)

    def stop(self) -> None:
        """Stop acting on new applications."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=10)
