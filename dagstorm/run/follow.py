"""Read ``journal.jsonl`` incrementally, as it grows (tail -f style, pure Python).

Shared by every live reader of a run: the TUI, the Prometheus endpoint, and a
command waiting for its acknowledgement or the run's end.

The follower keeps only a byte offset and the bytes of a line not yet complete,
never the events it has read, so memory stays bounded however long the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

Event = dict[str, Any]

#: Read at most this many bytes per call, so one call never blocks for long.
CHUNK_BYTES = 4 * 1024 * 1024


class JournalFollower:
    """Incremental reader of a journal file: each :meth:`read` returns the new events.

    A line is only parsed once its newline has been written; a torn line that never
    gets completed (a crash mid-write) is skipped, like every journal reader does.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self._partial = b""

    def rewind(self) -> None:
        """Start again from the first event (a replay seeking backwards)."""
        self.offset = 0
        self._partial = b""

    def read(self, max_bytes: int = CHUNK_BYTES) -> list[Event]:
        """The complete events written since the last call (empty if none or no file yet)."""
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read(max_bytes)
        except FileNotFoundError:
            return []
        if not chunk:
            return []
        self.offset += len(chunk)
        data = self._partial + chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            self._partial = data
            return []
        self._partial = data[cut + 1 :]
        return parse_lines(data[: cut + 1])


def parse_lines(data: bytes) -> list[Event]:
    """The JSON objects of ``data``, one a line; undecodable lines are skipped."""
    events: list[Event] = []
    for line in data.splitlines():
        if not line:
            continue
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def tail_events(path: Path, tail_bytes: int = 65536) -> list[Event]:
    """The complete events in the last ``tail_bytes`` of a journal (none if it is absent).

    Only lines ended by a newline count (a torn last line is not an event yet); the
    first line, cut by the window, does not parse and is skipped.
    """
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - tail_bytes))
            data = handle.read()
    except FileNotFoundError:
        return []
    return parse_lines(data[: data.rfind(b"\n") + 1])


def last_event(path: Path, tail_bytes: int = 65536) -> Event | None:
    """The last complete event of a journal, reading only its end (None if none)."""
    events = tail_events(path, tail_bytes)
    return events[-1] if events else None
