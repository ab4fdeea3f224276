"""`journal.jsonl`: the append-only record of a run, the contract readers follow.

One JSON object a line. Every event has ``v`` (schema version), ``seq``, ``t``
(wall seconds since the run started, monotonic), ``wall`` (epoch seconds),
``sim`` (simulated seconds since start) and ``kind``. Each event is flushed as it
is written and the file is fsync'd at least once a second. The format is
documented in docs/journal.md; its event kinds are the classes of
:mod:`dagstorm.run.events`, the only thing :meth:`RunJournal.emit` takes::

    journal.emit(Log(level="warning", message="no alert sink"))
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import orjson

from dagstorm.run.clock import Clock
from dagstorm.run.events import CATALOGUE, FORMAT_VERSION, EventFields

FSYNC_INTERVAL = 1.0


class RunJournal:
    """Thread-safe writer of journal events; never keeps events in memory."""

    def __init__(self, path: Path, clock: Clock, *, secrets: list[str] | None = None) -> None:
        self.path = path
        self.clock = clock
        self._secrets = [s for s in (secrets or []) if s]
        self._lock = threading.Lock()
        self._seq = 0
        self._handle = path.open("ab")
        self._last_sync = time.monotonic()
        self._dirty = False
        self._closed = threading.Event()
        self._syncer = threading.Thread(target=self._sync_loop, name="journal-fsync", daemon=True)
        self._syncer.start()

    def emit(self, fields: EventFields) -> dict[str, Any]:
        """Append one event of a catalogued kind; returns it as written (envelope included).

        The fields were validated when ``fields`` was made; only those given are
        written. An event class that is not in the catalogue raises ``TypeError``.
        """
        kind = getattr(type(fields), "KIND", None)
        if kind is None or CATALOGUE.get(kind) is not type(fields):
            raise TypeError(
                f"{type(fields).__qualname__} is not a kind of the journal's catalogue"
                " (dagstorm.run.events); a plugin journals a Log event"
            )
        body = fields.model_dump(exclude_unset=True)
        elapsed = self.clock.elapsed()
        with self._lock:
            self._seq += 1
            event = {
                "v": FORMAT_VERSION,
                "seq": self._seq,
                "t": round(elapsed, 3),
                "wall": round(self.clock.wall(), 3),
                "sim": round(elapsed * self.clock.compression, 3),
                "kind": str(kind),
                **body,
            }
            line = orjson.dumps(event, default=str, option=orjson.OPT_NON_STR_KEYS)
            if self._secrets:
                text = line.decode()
                for secret in self._secrets:
                    text = text.replace(secret, "***")
                line = text.encode()
            if self._handle.closed:
                return event
            self._handle.write(line + b"\n")
            self._handle.flush()
            self._dirty = True
            if time.monotonic() - self._last_sync >= FSYNC_INTERVAL:
                self._fsync()
        return event

    def _fsync(self) -> None:
        os.fsync(self._handle.fileno())
        self._last_sync = time.monotonic()
        self._dirty = False

    def _sync_loop(self) -> None:
        while not self._closed.wait(FSYNC_INTERVAL / 2):
            with self._lock:
                if self._dirty and not self._handle.closed:
                    self._fsync()

    def close(self) -> None:
        """Flush, fsync and close."""
        self._closed.set()
        with self._lock:
            if not self._handle.closed:
                self._handle.flush()
                os.fsync(self._handle.fileno())
                self._handle.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def read_journal(path: Path) -> list[dict[str, Any]]:
    """Every complete event of a journal (a torn last line is skipped)."""
    events: list[dict[str, Any]] = []
    with path.open("rb") as handle:
        for line in handle:
            try:
                events.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                continue
    return events
