"""Read ``journal.jsonl`` incrementally, as it grows (tail -f style, pure Python).

Shared by every live reader of a run: the TUI, the Prometheus endpoint, and a
command waiting for its acknowledgement or the run's end.

The follower keeps only a byte offset and the bytes of a line not yet complete,
never the events it has read, so memory stays bounded however long the run.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
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
    With ``kinds``, only events of those kinds are returned, and only their lines
    are parsed (see :func:`parse_lines`).
    """

    def __init__(self, path: Path, *, kinds: Collection[str] | None = None) -> None:
        self.path = path
        self.kinds = kinds
        self.offset = 0
        self._partial = b""

    def rewind(self) -> None:
        """Start again from the first event (a replay seeking backwards)."""
        self.offset = 0
        self._partial = b""

    def read(self, max_bytes: int | None = None) -> list[Event]:
        """The complete events written since the last call (empty if none or no file yet).

        At most ``max_bytes`` (default :data:`CHUNK_BYTES`) are read per call.
        """
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read(CHUNK_BYTES if max_bytes is None else max_bytes)
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
        return parse_lines(data[: cut + 1], self.kinds)

    def chunks(self) -> Iterator[list[Event]]:
        """The events written since the last call, one chunk's at a time, to the file's end.

        A chunk may hold none of :attr:`kinds`, so it reads on until the file has no
        more bytes, not until a chunk gives no event. A caller that keeps each chunk's
        events as it comes loses none if a later read fails.
        """
        while True:
            offset = self.offset
            events = self.read()
            if self.offset == offset:
                return
            yield events

    def read_to_end(self) -> list[Event]:
        """Every complete event written since the last call (see :meth:`chunks`)."""
        return [event for events in self.chunks() for event in events]


def kind_marker(kind: str) -> bytes:
    """The bytes every journal line of ``kind`` holds (the writer's compact JSON)."""
    return b'"kind":' + orjson.dumps(kind)


def parse_lines(data: bytes, kinds: Collection[str] | None = None) -> list[Event]:
    """The JSON objects of ``data``, one a line; undecodable lines are skipped.

    With ``kinds``, only the events of those kinds: a line is parsed only when it
    holds one of their markers (:func:`kind_marker`), so a reader that wants a few
    kinds out of a multi-GB journal parses a few lines, not all of them.
    """
    lines = data.splitlines() if kinds is None else _lines_holding(data, map(kind_marker, kinds))
    events: list[Event] = []
    for line in lines:
        if not line:
            continue
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(event, dict) and (kinds is None or event.get("kind") in kinds):
            events.append(event)
    return events


def _lines_holding(data: bytes, markers: Iterable[bytes]) -> list[bytes]:
    """The lines of ``data`` that hold one of ``markers``, in order.

    Found by searching the bytes for each marker (C speed), not by visiting every
    line in Python: the kinds a reader picks are usually a tiny share of the lines.
    """
    spans: set[tuple[int, int]] = set()
    for marker in markers:
        at = data.find(marker)
        while at >= 0:
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end
            spans.add((start, end))
            at = data.find(marker, end)
    return [data[start:end] for start, end in sorted(spans)]


def events_of_kinds(path: Path, kinds: Collection[str]) -> list[Event]:
    """Every complete event of ``kinds`` in a journal, read in bounded chunks.

    Memory holds the chosen events and one chunk, never the whole journal; a torn
    last line is skipped. An absent journal has none.
    """
    return JournalFollower(path, kinds=kinds).read_to_end()


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
