"""Tasks per Celery worker, counted in the worker's own log as it grows.

Every try on the embedded stack records the same ``hostname`` (the workers share
one machine), so Airflow cannot say which worker ran what. Each Celery worker logs
``Task execute_workload[<id>] received`` when it takes a task from the broker and
``… succeeded in …`` (or ``… raised …``) when the task returns: counting those
lines since the probe started gives tasks per worker without writing to the
broker (``celery inspect`` would broadcast through it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TASK_LINE", "TaskCounts", "TaskLineCounter"]

#: Celery's worker log line for a task taken (``received``) or returned.
TASK_LINE = re.compile(rb"\bTask \S+\[[0-9a-fA-F-]+\] (received|succeeded|raised)\b")
#: At most this much of a log is read per sample (the rest waits for the next one).
MAX_READ = 8 * 1024 * 1024


@dataclass
class TaskCounts:
    """Task lines counted so far."""

    received: int = 0
    #: Tasks that returned (``succeeded``: the workload ran, whatever the try's state).
    succeeded: int = 0
    #: Tasks that raised in Celery.
    raised: int = 0


class TaskLineCounter:
    """Counts task lines a log gains after the first :meth:`update` (its start offset)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.counts = TaskCounts()
        self._offset: int | None = None

    def update(self) -> TaskCounts:
        """Read what the log gained (whole lines only) and count its task lines."""
        try:
            size = self.path.stat().st_size
        except OSError:
            size = 0
        if self._offset is None:  # only tasks of this run count
            self._offset = size
            return self.counts
        if size < self._offset:  # truncated or replaced: start again from its top
            self._offset = 0
        if size == self._offset:
            return self.counts
        with self.path.open("rb") as handle:
            handle.seek(self._offset)
            block = handle.read(min(size - self._offset, MAX_READ))
        whole = block.rfind(b"\n") + 1
        self._offset += whole
        for match in TASK_LINE.finditer(block[:whole]):
            word = match.group(1)
            if word == b"received":
                self.counts.received += 1
            elif word == b"succeeded":
                self.counts.succeeded += 1
            else:
                self.counts.raised += 1
        return self.counts
