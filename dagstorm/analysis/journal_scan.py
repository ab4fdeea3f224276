# mypy: disable-error-code="import-untyped"
"""Read a long journal in one pass, the periodic samples into compact columns.

A 24 h soak journal holds ~10 M events, 95 % of them periodic samples
(``statsd``, ``process_stats``, ``workload_stats``, ``kafka_lag``, …). Parsing
each into a Python dict would take minutes and gigabytes, so :func:`scan_journal`
routes each line by its ``"kind"`` (found in the bytes, as the journal writer
puts it) and parses the periodic kinds in batches with Arrow's JSON reader into
frames of only the columns readers use; every other event (DAG runs, task
tries, faults, alerts, phases, …) is parsed into a dict as before. A batch Arrow
cannot read (a torn line, a field that changes type) falls back to parsing its
lines one by one, skipping the undecodable, like :func:`read_journal`.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json
from pandas.api.types import union_categoricals

__all__ = ["BULK_COLUMNS", "JournalScan", "scan_journal"]

#: Periodic kinds and the columns kept of them (``seq`` and ``t`` always).
BULK_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "statsd": ("metric", "type", "value", "count", "p50_ms", "p95_ms", "max_ms"),
    "process_stats": ("component", "cpu_pct", "rss_mb"),
    "workload_stats": (
        "workload", "workload_kind", "records", "bytes", "acked", "failed", "interval_s",
    ),
    "kafka_lag": ("topic", "group", "lag"),
    "kafka_offsets": (),
    "spark_cluster": (),
    "probe_error": (),
}  # fmt: skip
#: Columns read as text; every other kept column is a number.
TEXT_COLUMNS = frozenset({"metric", "type", "component", "workload", "workload_kind", "topic",
                          "group", "kind"})  # fmt: skip
_MARK = b'"kind":"'
READ_BYTES = 64 * 1024 * 1024
BATCH_BYTES = 32 * 1024 * 1024


@dataclass
class JournalScan:
    """A journal read in one pass: dict events, periodic samples as frames, counts."""

    #: Every event not of a periodic kind, in file order (dicts, as read_journal gives).
    events: list[dict[str, Any]] = field(default_factory=list)
    #: Events per kind (all kinds).
    counts: Counter[str] = field(default_factory=Counter)
    _chunks: dict[str, list[pd.DataFrame]] = field(default_factory=dict)
    _frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Events in the journal."""
        return sum(self.counts.values())

    def frame(self, kind: str) -> pd.DataFrame:
        """The periodic ``kind``'s samples: ``seq``, ``t`` and its columns, in ``seq`` order."""
        if kind not in self._frames:
            columns = ["seq", "t", *BULK_COLUMNS[kind]]
            chunks = [c for c in self._chunks.pop(kind, []) if len(c)]
            frame = _concat(chunks) if chunks else pd.DataFrame(columns=columns)
            if len(chunks) > 1 or not frame["seq"].is_monotonic_increasing:
                frame = frame.sort_values("seq", kind="stable", ignore_index=True)
            self._frames[kind] = frame
        return self._frames[kind]

    def max_t(self) -> float:
        """The largest ``t`` of any event (0.0 for an empty journal)."""
        values = [float(e["t"]) for e in self.events if _is_number(e.get("t"))]
        for kind in BULK_COLUMNS:
            if self.counts.get(kind):
                column = pd.to_numeric(self.frame(kind)["t"], errors="coerce")
                if column.notna().any():
                    values.append(float(column.max()))
        return max(values, default=0.0)

    def _add(self, kind: str, frame: pd.DataFrame) -> None:
        self._chunks.setdefault(kind, []).append(frame)


def scan_journal(path: Path) -> JournalScan:
    """Read ``path`` once (see the module docstring)."""
    scan = JournalScan()
    batches: dict[str, list[bytes]] = {kind: [] for kind in BULK_COLUMNS}
    sizes = dict.fromkeys(BULK_COLUMNS, 0)
    partial = b""
    with Path(path).open("rb") as handle:
        while True:
            block = handle.read(READ_BYTES)
            if not block:
                break
            lines = (partial + block).split(b"\n")
            partial = lines.pop()
            for line in lines:
                # Inlined _kind_of: this loop runs once per event (10 M in a 24 h soak).
                start = line.find(_MARK)
                kind = None
                if start >= 0:
                    end = line.find(b'"', start + 8)
                    kind = line[start + 8 : end].decode("ascii", "replace")
                if kind in batches:
                    batches[kind].append(line)
                    sizes[kind] += len(line)
                    if sizes[kind] >= BATCH_BYTES:
                        _flush(scan, kind, batches[kind])
                        batches[kind], sizes[kind] = [], 0
                elif line.strip():
                    _parse_one(scan, line)
    if partial.strip():  # a last line without its newline: a torn write, usually
        kind = _kind_of(partial)
        if kind in batches:
            batches[kind].append(partial)
        else:
            _parse_one(scan, partial)
    for kind, lines in batches.items():
        if lines:
            _flush(scan, kind, lines)
    return scan


def _kind_of(line: bytes) -> str | None:
    start = line.find(_MARK)
    if start < 0:
        return None
    start += len(_MARK)
    end = line.find(b'"', start)
    return line[start:end].decode("ascii", "replace") if end > 0 else None


def _parse_one(scan: JournalScan, line: bytes) -> None:
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return
    if not isinstance(event, dict):
        return
    kind = str(event.get("kind"))
    if kind in BULK_COLUMNS:  # its kind was not where the writer puts it
        scan.counts[kind] += 1
        scan._add(kind, _rows_frame(kind, [event]))
        return
    scan.counts[kind] += 1
    scan.events.append(event)


def _flush(scan: JournalScan, kind: str, lines: list[bytes]) -> None:
    columns = ["seq", "t", *BULK_COLUMNS[kind]]
    try:
        table = pa_json.read_json(
            io.BytesIO(b"\n".join(lines)),
            parse_options=pa_json.ParseOptions(
                explicit_schema=_schema(kind), unexpected_field_behavior="ignore"
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        _parse_each(scan, lines)
        return
    kinds = table.column("kind") if "kind" in table.column_names else None
    if kinds is not None and pa.compute.any(pa.compute.not_equal(kinds, kind)).as_py():
        # A line whose first "kind" was nested: parse that batch one event at a time.
        _parse_each(scan, lines)
        return
    scan.counts[kind] += table.num_rows
    present = [c for c in columns if c in table.column_names]
    frame = table.select(present).to_pandas()
    for column in columns:
        if column not in frame:
            frame[column] = None
        if column in TEXT_COLUMNS:
            frame[column] = frame[column].astype("category")
    scan._add(kind, frame[columns])


def _parse_each(scan: JournalScan, lines: list[bytes]) -> None:
    """Parse a batch line by line (undecodable lines skipped), each to its real kind."""
    bulk: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(event, dict):
            continue
        kind = str(event.get("kind"))
        scan.counts[kind] += 1
        if kind in BULK_COLUMNS:
            bulk.setdefault(kind, []).append(event)
        else:
            scan.events.append(event)
    for kind, events in bulk.items():
        scan._add(kind, _rows_frame(kind, events))


def _concat(chunks: list[pd.DataFrame]) -> pd.DataFrame:
    """Chunks into one frame; text columns stay categorical (a few names, millions of rows)."""
    text = [c for c in chunks[0].columns if c in TEXT_COLUMNS]
    frame = pd.concat([c.drop(columns=text) for c in chunks], ignore_index=True)
    for column in text:
        parts = [pd.Categorical(c[column]) for c in chunks]
        frame[column] = union_categoricals(parts, sort_categories=True)
    return frame[list(chunks[0].columns)]


def _schema(kind: str) -> pa.Schema:
    """Only the kept columns, typed: Arrow skips every other field of the line."""
    names = ["seq", "t", "kind", *BULK_COLUMNS[kind]]
    return pa.schema([(n, pa.string() if n in TEXT_COLUMNS else pa.float64()) for n in names])


def _rows_frame(kind: str, events: list[dict[str, Any]]) -> pd.DataFrame:
    columns = ["seq", "t", *BULK_COLUMNS[kind]]
    frame = pd.DataFrame([[e.get(c) for c in columns] for e in events], columns=columns)
    for column in columns:
        if column in TEXT_COLUMNS:
            frame[column] = frame[column].map(lambda v: None if v is None else str(v))
            frame[column] = frame[column].astype("category")
        else:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
