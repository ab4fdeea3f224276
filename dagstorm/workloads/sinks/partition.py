"""Batches into hourly partitions: encoding, Parquet drift side parts, ledger counts.

:class:`PartitionWriter` is the one place that turns labelled batches into part
files and ledger counts; the local generator and each Spark task
(:mod:`dagstorm.workloads.spark_backend`) use it, so both backends write the same
bytes and count the same rows. Counts go to a :class:`CountsSink`: the
:class:`~dagstorm.workloads.sinks.ledger.LedgerWriter` locally, a
:class:`~dagstorm.workloads.sinks.ledger.CountsCollector` in a Spark task.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pyarrow as pa

from dagstorm.workloads.encoding.jsonl import JsonlEncoder
from dagstorm.workloads.encoding.tables import drift_table, to_table
from dagstorm.workloads.model.catalog import Catalog
from dagstorm.workloads.model.events import EventColumns
from dagstorm.workloads.model.schema import DRIFT_LABELS, Label
from dagstorm.workloads.sinks.landing import CommittedPart, LandingWriter
from dagstorm.workloads.sinks.ledger import Column, KeyCounts


class CountsSink(Protocol):
    """Where ledger counts go: aggregate a batch, add it to a column."""

    def count(self, partition_hour_ms: int, events: EventColumns) -> KeyCounts:
        """Aggregate ``events`` (all landing in one partition) by ledger key."""
        ...

    def add(self, partition_hour_ms: int, counts: KeyCounts, column: Column) -> None:
        """Add ``counts`` to ``column``."""
        ...


class PartitionWriter:
    """Writes batches into the landing writer's open partition and counts them.

    ``generated`` is counted as a batch arrives, ``written`` once its part file is
    committed. Parquet drift rows (their own schema) are held until the partition is
    released and then written as side parts, one per drift label.
    """

    def __init__(self, writer: LandingWriter, catalog: Catalog, sink: CountsSink) -> None:
        self.writer = writer
        self.catalog = catalog
        self.sink = sink
        self.encoder = JsonlEncoder(catalog)
        self._uncommitted: list[KeyCounts] = []
        self._drift: list[EventColumns] = []

    def write(self, hour_ms: int, events: EventColumns) -> tuple[int, int, list[int]]:
        """Write one non-empty batch; its (records, bytes, labels).

        Bytes are what the part files grew by: the encoded lines (JSONL), or the row
        group Parquet wrote (its footer and drift side parts count when the
        partition is released: :attr:`LandingWriter.bytes_written`).
        """
        counts = self.sink.count(hour_ms, events)
        self.sink.add(hour_ms, counts, "generated")
        if self.writer.fmt == "parquet":
            drift = np.isin(events.label, [int(label) for label in DRIFT_LABELS])
            if drift.any():
                self._drift.append(events.take(drift))
                events = events.take(~drift)
                counts = self.sink.count(hour_ms, events)
            table = to_table(events, self.catalog)
            before = self.writer.bytes_written
            self._append(hour_ms, table, counts)
            return len(events), max(0, self.writer.bytes_written - before), counts.labels
        payload = self.encoder.encode(events)
        self._append(hour_ms, payload, counts)
        return len(events), len(payload), counts.labels

    def _append(
        self, hour_ms: int, payload: pa.Buffer | bytes | pa.Table, counts: KeyCounts
    ) -> None:
        self._uncommitted.append(counts)
        if self.writer.append(hour_ms, payload, counts.labels) is not None:
            self._mark_written(hour_ms)

    def _mark_written(self, hour_ms: int) -> None:
        for counts in self._uncommitted:
            self.sink.add(hour_ms, counts, "written")
        self._uncommitted = []

    def release(self, hour_ms: int) -> list[CommittedPart]:
        """Write the drift side parts, commit the open part; the partition's parts.

        The partition is closed without a marker; the caller writes it
        (:func:`~dagstorm.workloads.sinks.landing.write_marker`).
        """
        if self._drift:
            drift = EventColumns.concat(self._drift)
            self._drift = []
            for label in DRIFT_LABELS:
                rows = drift.take(drift.label == label)
                if len(rows):
                    counts = self.sink.count(hour_ms, rows)
                    table = drift_table(rows, self.catalog, Label(label))
                    self.writer.write_side_part(hour_ms, table, counts.labels)
                    self.sink.add(hour_ms, counts, "written")
        parts = self.writer.release(hour_ms)
        self._mark_written(hour_ms)
        return parts
