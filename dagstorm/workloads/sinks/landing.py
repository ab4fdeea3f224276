"""The landing zone: hourly partitions of part files, each closed by a ``_SUCCESS`` marker.

Layout: ``<root>/dt=YYYY-MM-DD/hour=HH/part-00000.jsonl`` (or ``.parquet``), then
``_SUCCESS``. Readers never see a partial file:

- a part file is written under a hidden temporary name (``.part-00000.jsonl.inprogress``;
  Spark and Hadoop skip names starting with ``.``), fsync'd, then renamed
  (``os.replace``) to its final name, and the directory is fsync'd;
- ``_SUCCESS`` is written the same way (``core.atomic``: temporary file, fsync,
  rename, directory fsync) only after every data file of the partition is in
  place. It holds JSON: the partition's record counts (total, valid, per bad-data
  label), its files and the schema version (see ``docs/workloads.md``).

A partition dagstorm writes again is **replaced**, never mixed with what an earlier
run left in it (:func:`clear_partition`): an earlier run at a higher rate left more
part files than this one writes, and the pipeline would read both (its validation
refuses a partition whose files hold more records than its ``_SUCCESS`` declares).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from dagstorm.core.atomic import atomic_write, fsync_dir
from dagstorm.workloads.config import Format
from dagstorm.workloads.model.schema import CATEGORICAL, COUNTED_LABELS, SCHEMA_VERSION, Label

MARKER = "_SUCCESS"
MARKER_VERSION = 1
EXTENSIONS: dict[str, str] = {"jsonl": ".jsonl", "parquet": ".parquet"}


def partition_name(hour_ms: int) -> str:
    """``dt=YYYY-MM-DD/hour=HH`` of the hour starting at ``hour_ms`` (epoch ms, UTC)."""
    stamp = datetime.fromtimestamp(hour_ms / 1000, tz=UTC)
    return f"dt={stamp:%Y-%m-%d}/hour={stamp:%H}"


def iso_ms(epoch_ms: int) -> str:
    """Epoch milliseconds as ISO-8601 UTC with a ``Z``."""
    return (
        datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    )


def label_dict(counts: list[int]) -> dict[str, int]:
    """Per-label counts keyed by label name."""
    return {label.slug: int(counts[label]) for label in Label}


@dataclass(frozen=True)
class CommittedPart:
    """A part file that is complete, durable and visible under its final name."""

    path: Path
    records: int
    bytes: int
    labels: tuple[int, ...]


@dataclass
class _OpenPart:
    final: Path
    tmp: Path
    file: io.BufferedWriter
    parquet: pq.ParquetWriter | None = None
    records: int = 0
    labels: list[int] = field(default_factory=lambda: [0] * len(Label))


def write_marker(
    root: Path,
    hour_ms: int,
    parts: list[CommittedPart],
    *,
    fmt: Format,
    window: tuple[int, int],
    extra: dict[str, Any],
    fsync: bool = True,
) -> dict[str, Any]:
    """Write the ``_SUCCESS`` of the partition of ``hour_ms`` listing ``parts``; its content.

    Call it only once every part file is committed (renamed to its final name).
    """
    totals = [sum(p.labels[i] for p in parts) for i in range(len(Label))]
    marker = {
        "marker_version": MARKER_VERSION,
        "schema_version": SCHEMA_VERSION,
        "partition": partition_name(hour_ms),
        "format": fmt,
        "records": sum(totals),
        "valid": sum(totals[label] for label in COUNTED_LABELS),
        "labels": label_dict(totals),
        "files": [{"name": p.path.name, "records": p.records, "bytes": p.bytes} for p in parts],
        "window": {"start": iso_ms(window[0]), "end": iso_ms(window[1])},
        **extra,
    }
    path = Path(root) / partition_name(hour_ms) / MARKER
    atomic_write(path, orjson.dumps(marker, option=orjson.OPT_INDENT_2), fsync=fsync)
    return marker


def clear_partition(root: Path, hour_ms: int, *, fsync: bool = True) -> int:
    """Empty the partition of ``hour_ms`` of an earlier run's files; how many were removed.

    Its ``_SUCCESS`` goes first, so no reader takes the old marker for new files;
    then the part files and a crashed writer's hidden temporaries. Other files (not
    dagstorm's) stay.
    """
    directory = Path(root) / partition_name(hour_ms)
    if not directory.is_dir():
        return 0
    removed = 0
    marker = directory / MARKER
    if marker.is_file():
        marker.unlink()
        removed += 1
    for path in sorted(directory.iterdir()):
        name = path.name
        ours = name.startswith("part-") or (
            name.startswith((".part-", f".{MARKER}.")) and name.endswith((".inprogress", ".tmp"))
        )
        if ours and path.is_file():
            path.unlink()
            removed += 1
    if removed and fsync:
        fsync_dir(directory)
    return removed


class LandingWriter:
    """Writes one partition at a time: part files, rolled at ``part_max_bytes``, then a marker.

    With ``replace``, a partition this writer opens for the first time is emptied of
    an earlier run's files first (:func:`clear_partition`); a writer that fills only
    a slice of a partition (a Spark task) leaves that to the one that planned it.
    """

    def __init__(
        self,
        root: Path,
        *,
        fmt: Format = "jsonl",
        part_max_bytes: int = 128 * 1024 * 1024,
        fsync: bool = True,
        drop_cache: bool = False,
        parquet_schema: pa.Schema | None = None,
        replace: bool = False,
    ) -> None:
        self.root = Path(root)
        self.replace = replace
        #: Partitions opened so far (each is replaced once, when first opened).
        self._opened: set[int] = set()
        self.fmt: Format = fmt
        self.part_max_bytes = part_max_bytes
        self.fsync = fsync
        self.drop_cache = drop_cache
        self.parquet_schema = parquet_schema
        self._hour: int | None = None
        self._seq = 0
        self._open: _OpenPart | None = None
        self._parts: list[CommittedPart] = []
        self._committed_bytes = 0

    @property
    def bytes_written(self) -> int:
        """Bytes in the part files so far: committed parts, and the open part's file."""
        open_part = self._open.file.tell() if self._open is not None else 0
        return self._committed_bytes + open_part

    def partition_dir(self, hour_ms: int) -> Path:
        """Directory of the partition for the hour starting at ``hour_ms``."""
        return self.root / partition_name(hour_ms)

    def begin(self, hour_ms: int, *, first_part: int = 0) -> None:
        """Open the partition of ``hour_ms`` (it gets a marker even if no batch follows).

        Part files are numbered from ``first_part``: a writer that fills only a slice
        of the partition (a Spark task) numbers its parts in its own range.
        """
        self._start(hour_ms, first_part)

    def _start(self, hour_ms: int, first_part: int = 0) -> None:
        if self._hour != hour_ms:
            if self._hour is not None:
                raise RuntimeError(f"partition {partition_name(self._hour)} is not finished")
            self._hour, self._seq, self._parts = hour_ms, first_part, []
            if self.replace and hour_ms not in self._opened:
                clear_partition(self.root, hour_ms, fsync=self.fsync)
            self._opened.add(hour_ms)
            self.partition_dir(hour_ms).mkdir(parents=True, exist_ok=True)

    def _new_part(self, schema: pa.Schema | None) -> _OpenPart:
        assert self._hour is not None
        name = f"part-{self._seq:05d}{EXTENSIONS[self.fmt]}"
        self._seq += 1
        final = self.partition_dir(self._hour) / name
        tmp = final.with_name(f".{name}.inprogress")
        file = open(tmp, "wb")  # noqa: SIM115 - closed in _commit
        part = _OpenPart(final=final, tmp=tmp, file=file)
        if self.fmt == "parquet":
            assert schema is not None
            dictionary = [f.name for f in schema if f.name in CATEGORICAL]
            part.parquet = pq.ParquetWriter(
                file, schema, compression="snappy", use_dictionary=dictionary
            )
        return part

    def _commit(self) -> CommittedPart | None:
        part, self._open = self._open, None
        if part is None:
            return None
        if part.parquet is not None:
            part.parquet.close()
        part.file.flush()
        size = part.file.tell()
        if self.fsync:
            os.fsync(part.file.fileno())
            if self.drop_cache:
                # Clean pages we will never read again: dropping them keeps the page
                # cache for the pipeline's reads (and halves the write cost on VMs).
                os.posix_fadvise(part.file.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        part.file.close()
        os.replace(part.tmp, part.final)
        if self.fsync:
            fsync_dir(part.final.parent)
        done = CommittedPart(part.final, part.records, size, tuple(part.labels))
        self._committed_bytes += size
        self._parts.append(done)
        return done

    def append(
        self, hour_ms: int, payload: pa.Buffer | bytes | pa.Table, labels: list[int]
    ) -> CommittedPart | None:
        """Add a batch to the partition's open part; commit the part once it is full."""
        self._start(hour_ms)
        if self._open is None:
            schema = payload.schema if isinstance(payload, pa.Table) else None
            self._open = self._new_part(schema or self.parquet_schema)
        part = self._open
        if isinstance(payload, pa.Table):
            assert part.parquet is not None, "tables go to Parquet parts"
            part.parquet.write_table(payload, row_group_size=max(1, payload.num_rows))
        else:
            part.file.write(payload)
        part.records += sum(labels)
        for i, count in enumerate(labels):
            part.labels[i] += count
        return self._commit() if part.file.tell() >= self.part_max_bytes else None

    def write_side_part(self, hour_ms: int, table: pa.Table, labels: list[int]) -> CommittedPart:
        """A Parquet part file of its own (drift rows with their own schema)."""
        self._start(hour_ms)
        previous, self._open = self._open, self._new_part(table.schema)
        part = self._open
        assert part.parquet is not None, "side parts are Parquet"
        part.parquet.write_table(table)
        part.records, part.labels = sum(labels), list(labels)
        done = self._commit()
        self._open = previous
        assert done is not None
        return done

    def finish(
        self, hour_ms: int, *, window: tuple[int, int], extra: dict[str, Any]
    ) -> dict[str, Any]:
        """Commit the open part, write the partition's ``_SUCCESS``; return its content."""
        parts = self.release(hour_ms)
        return write_marker(
            self.root, hour_ms, parts, fmt=self.fmt, window=window, extra=extra, fsync=self.fsync
        )

    def release(self, hour_ms: int) -> list[CommittedPart]:
        """Commit the open part and close the partition *without* a marker; its parts.

        For a writer that fills a slice of a partition: whoever owns the partition
        writes the marker (:func:`write_marker`) once every slice is released.
        """
        self._start(hour_ms)
        self._commit()
        parts, self._parts = self._parts, []
        self._hour = None
        return parts

    def abort(self) -> None:
        """Drop the open part's temporary file (its rows were never committed)."""
        part, self._open = self._open, None
        if part is not None:
            if part.parquet is not None:
                part.parquet.close()
            part.file.close()
            part.tmp.unlink(missing_ok=True)
        self._hour = None

    @property
    def open_hour(self) -> int | None:
        """The hour (epoch ms) of the partition being written, if any."""
        return self._hour

    @property
    def committed(self) -> list[CommittedPart]:
        """Parts committed so far in the current partition."""
        return list(self._parts)
