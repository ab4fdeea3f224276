# mypy: disable-error-code="import-untyped"
"""Read a long journal in one pass, the periodic samples into compact columns.

A 24 h soak journal holds ~10 M events, 95 % of them periodic samples
(``statsd``, ``process_stats``, ``workload_stats``, ``kafka_lag``, …). Parsing
each into a Python dict would take minutes and gigabytes, so :func:`scan_journal`
reads the file in blocks of whole lines and parses each block in one call of
Arrow's JSON reader, with an explicit schema of only the columns readers use
(the periodic kinds' and ``kind``): each periodic kind's rows become a frame
chunk, and only the other lines — DAG runs, task tries, faults, alerts, phases,
a few in a thousand — are parsed into dicts as before. No Python code runs per
periodic line.

A block Arrow cannot read (a torn line, a field that changes type, a blank line
that would shift rows from lines) is read line by line instead: each line routed
by its ``"kind"`` found in the bytes (where the journal writer puts it), the
periodic kinds parsed in batches by Arrow, a batch Arrow refuses parsed one line
at a time, skipping the undecodable, like :func:`read_journal`.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json

from dagstorm.run.events import Kind

__all__ = ["BULK_COLUMNS", "JournalScan", "scan_journal"]

#: Periodic kinds and the columns kept of them (``seq`` and ``t`` always).
BULK_COLUMNS: Mapping[str, tuple[str, ...]] = {
    Kind.STATSD: ("metric", "type", "value", "count", "p50_ms", "p95_ms", "max_ms"),
    Kind.PROCESS_STATS: ("component", "cpu_pct", "rss_mb"),
    Kind.WORKLOAD_STATS: (
        "workload", "workload_kind", "records", "bytes", "acked", "failed", "interval_s",
    ),
    Kind.KAFKA_LAG: ("topic", "group", "lag"),
    Kind.KAFKA_OFFSETS: (),
    Kind.CELERY_QUEUE: ("queue", "depth"),
    Kind.CELERY_WORKERS: ("alive", "total", "stopped"),
    Kind.CELERY_WORKER_TASKS: ("worker", "received", "succeeded", "raised"),
    Kind.SPARK_CLUSTER: ("cores", "cores_used", "active_apps"),
    Kind.PROBE_ERROR: (),
}  # fmt: skip
#: Columns read as text; every other kept column is a number.
TEXT_COLUMNS = frozenset({"metric", "type", "component", "workload", "workload_kind", "topic",
                          "group", "queue", "worker", "kind"})  # fmt: skip
_MARK = b'"kind":"'
_NEWLINE = ord("\n")
READ_BYTES = 64 * 1024 * 1024


@dataclass
class JournalScan:
    """A journal read in one pass: dict events, periodic samples as frames, counts."""

    #: Every event not of a periodic kind, in file order (dicts, as read_journal gives).
    events: list[dict[str, Any]] = field(default_factory=list)
    #: Events per kind (all kinds).
    counts: Counter[str] = field(default_factory=Counter)
    #: Each periodic kind's rows as Arrow tables (:func:`_kept_schema`), in file order.
    _chunks: dict[str, list[pa.Table]] = field(default_factory=dict)
    _frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Events in the journal."""
        return sum(self.counts.values())

    def frame(self, kind: str) -> pd.DataFrame:
        """The periodic ``kind``'s samples: ``seq``, ``t`` and its columns, in ``seq`` order."""
        if kind not in self._frames:
            columns = ["seq", "t", *BULK_COLUMNS[kind]]
            chunks = [c for c in self._chunks.pop(kind, []) if c.num_rows]
            frame = _concat(chunks) if chunks else pd.DataFrame(columns=columns)
            # Chunks come in file order: a journal's seq already ascends (sorting would not
            # move a row), and a stable sort only runs when it would.
            if not frame["seq"].is_monotonic_increasing:
                frame = frame.sort_values("seq", kind="stable", ignore_index=True)
            self._frames[kind] = frame
            pa.default_memory_pool().release_unused()  # the chunks' pages (Arrow allocated them)
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

    def _add(self, kind: str, table: pa.Table) -> None:
        self._chunks.setdefault(kind, []).append(table)


def long_journal(path: Path) -> bool:
    """Whether the journal at ``path`` spans more than one block: worth showing progress for.

    A usual run's journal is read in a second or two; a long soak's (hundreds of MB)
    takes tens of seconds. A missing file is not long.
    """
    try:
        return Path(path).stat().st_size > READ_BYTES
    except OSError:
        return False


def scan_journal(path: Path, *, on_read: Callable[[int], None] | None = None) -> JournalScan:
    """Read ``path`` once (see the module docstring).

    ``on_read`` is called after each block (:data:`READ_BYTES`) with the bytes read
    so far: once per block, never per line; the last call gives the file's size.
    """
    scan = JournalScan()
    partial = b""
    read = 0
    with Path(path).open("rb") as handle:
        while True:
            block = handle.read(READ_BYTES)
            if not block:
                break
            read += len(block)
            if partial:
                block = partial + block
            cut = block.rfind(b"\n") + 1
            partial = block[cut:]
            if cut:
                _scan_block(scan, memoryview(block)[:cut])
            if on_read is not None:
                on_read(read)
    if partial.strip():  # a last line without its newline: a torn write, usually
        kind = _kind_of(partial)
        if kind is not None and kind in BULK_COLUMNS:
            _flush(scan, kind, [partial])
        else:
            _parse_one(scan, partial)
    pa.default_memory_pool().release_unused()  # the blocks' parse buffers
    return scan


def _scan_block(scan: JournalScan, block: memoryview) -> None:
    """Whole lines: parsed at once by Arrow, or line by line when Arrow cannot.

    One Arrow pass over the block reads every line's kept columns (the union of
    the periodic kinds') and its ``kind``; each periodic kind's rows become a
    chunk, and only the other lines (a few in a thousand) are parsed into dicts.
    A block Arrow rejects (a torn line, a field that changes type, a blank line
    that shifts rows from lines) goes through :func:`_scan_lines` instead.
    """
    try:
        table = pa_json.read_json(
            pa.BufferReader(pa.py_buffer(block)),
            parse_options=pa_json.ParseOptions(
                explicit_schema=_UNION_SCHEMA, unexpected_field_behavior="ignore"
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        _scan_lines(scan, block)
        return
    ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == _NEWLINE)
    if table.num_rows != len(ends):
        _scan_lines(scan, block)
        return
    kinds = table.column("kind").combine_chunks().dictionary_encode()
    names: list[str] = kinds.dictionary.to_pylist()
    codes = kinds.indices.fill_null(-1).to_numpy()
    code_of = {name: code for code, name in enumerate(names)}
    periodic = [code_of[kind] for kind in BULK_COLUMNS if kind in code_of]
    starts = np.concatenate(([0], ends[:-1] + 1))
    events: list[dict[str, Any] | None] = []
    for row in np.flatnonzero(~np.isin(codes, periodic)).tolist():
        try:
            event = orjson.loads(block[starts[row] : ends[row]])
        except orjson.JSONDecodeError:
            events.append(None)
            continue
        kind = names[codes[row]] if codes[row] >= 0 else None
        if not isinstance(event, dict) or event.get("kind") != kind:
            _scan_lines(scan, block)  # rows and lines do not line up: go line by line
            return
        events.append(event)
    for event in events:
        if event is not None:
            scan.counts[str(event.get("kind"))] += 1
            scan.events.append(event)
    for kind in BULK_COLUMNS:
        if kind in code_of:
            rows = np.flatnonzero(codes == code_of[kind])
            scan.counts[kind] += len(rows)
            kept = table.select(["seq", "t", *BULK_COLUMNS[kind]])  # take only what is kept
            scan._add(kind, _table_chunk(kind, kept.take(rows)))


def _scan_lines(scan: JournalScan, block: memoryview) -> None:
    """Route each line of ``block`` by the kind in its bytes, periodic kinds in batches."""
    batches: dict[str, list[bytes]] = {kind: [] for kind in BULK_COLUMNS}
    for line in bytes(block).split(b"\n"):
        kind = _kind_of(line)
        if kind in batches:
            batches[kind].append(line)
        elif line.strip():
            _parse_one(scan, line)
    for kind, lines in batches.items():
        if lines:
            _flush(scan, kind, lines)


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
        scan._add(kind, _rows_chunk(kind, [event]))
        return
    scan.counts[kind] += 1
    scan.events.append(event)


def _flush(scan: JournalScan, kind: str, lines: list[bytes]) -> None:
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
    scan._add(kind, _table_chunk(kind, table))


def _table_chunk(kind: str, table: pa.Table) -> pa.Table:
    """The kept columns of ``kind``'s rows read by Arrow (a column absent from them: nulls)."""
    schema = _kept_schema(kind)
    arrays = [
        table.column(f.name) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


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
        scan._add(kind, _rows_chunk(kind, events))


def _concat(chunks: list[pa.Table]) -> pd.DataFrame:
    """Chunks into one frame; text columns as categoricals (a few names, millions of rows).

    Arrow concatenates without copying and dictionary-encodes the text once; pandas
    gets one conversion (freeing Arrow's buffers as it goes). Categories are sorted.
    """
    table = pa.concat_tables(chunks)
    del chunks[:]
    for index, name in enumerate(table.column_names):
        if name in TEXT_COLUMNS:
            table = table.set_column(index, name, table.column(name).dictionary_encode())
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    for name in frame.columns:
        if name in TEXT_COLUMNS:
            column = frame[name]
            if not isinstance(column.dtype, pd.CategoricalDtype):
                column = column.astype("category")
            frame[name] = column.cat.reorder_categories(sorted(column.cat.categories))
    return frame


def _schema(kind: str) -> pa.Schema:
    """Only the kept columns, typed: Arrow skips every other field of the line."""
    names = ["seq", "t", "kind", *BULK_COLUMNS[kind]]
    return pa.schema([(n, pa.string() if n in TEXT_COLUMNS else pa.float64()) for n in names])


def _kept_schema(kind: str) -> pa.Schema:
    """The columns a periodic kind keeps (``seq``, ``t`` and its own), as chunks hold them."""
    names = ["seq", "t", *BULK_COLUMNS[kind]]
    return pa.schema([(n, pa.string() if n in TEXT_COLUMNS else pa.float64()) for n in names])


#: Every periodic kind's kept columns and ``kind``: what one Arrow pass over a block reads.
_UNION_NAMES = dict.fromkeys(["seq", "t", "kind", *(c for cs in BULK_COLUMNS.values() for c in cs)])
_UNION_SCHEMA = pa.schema(
    [(n, pa.string() if n in TEXT_COLUMNS else pa.float64()) for n in _UNION_NAMES]
)


def _rows_chunk(kind: str, events: list[dict[str, Any]]) -> pa.Table:
    """The kept columns of ``kind``'s events parsed one by one: text as text, numbers or null."""
    arrays: list[pa.Array] = []
    for f in _kept_schema(kind):
        values = [e.get(f.name) for e in events]
        if f.name in TEXT_COLUMNS:
            arrays.append(pa.array([None if v is None else str(v) for v in values], pa.string()))
        else:
            numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
            arrays.append(pa.array(numbers.astype(float), pa.float64(), from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=_kept_schema(kind))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
