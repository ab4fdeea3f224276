"""The ground-truth ledger: exact counts of what was generated, written and acknowledged.

Lives in a run directory's ``ledger/``:

- ``counts-NNNNN.parquet``: one chunk per finished partition (and one at close),
  one row per (partition_hour, event_hour, campaign_id, ad_id, event_type, label)
  with ``generated``, ``written`` (in a committed part file), ``acked`` (by Kafka;
  null when the workload did not send to Kafka) and ``spend_micros`` (sum over the
  generated rows). Written atomically (temporary file + rename).
- ``summary.json``: versions, seed, totals per label, and the partitions done.

What a correct pipeline counts ("valid"): lines labelled ``valid`` or ``late``,
by the hour of their ``event_time`` (late lines in their true hour, not their
partition's), per (campaign_id, ad_id, event_type); malformed and drifted lines
excluded; duplicate copies excluded (each event counted once). See
:func:`expected_counts` and ``docs/workloads.md``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dagstorm.core.atomic import atomic_write
from dagstorm.run.rundir import RunDirectory
from dagstorm.workloads.model.catalog import Catalog
from dagstorm.workloads.model.events import EventColumns
from dagstorm.workloads.model.schema import COUNTED_LABELS, EVENT_TYPES, SCHEMA_VERSION, Label
from dagstorm.workloads.sinks.landing import partition_name

LEDGER_VERSION = 1
MS_PER_HOUR = 3_600_000
#: The ledger's summary file, next to its ``counts-*.parquet`` chunks.
SUMMARY_FILE = "summary.json"
Column = Literal["generated", "written", "acked"]
COLUMNS: tuple[Column, ...] = ("generated", "written", "acked")
KEY_COLUMNS = ("partition_hour", "event_hour", "campaign_id", "ad_id", "event_type", "label")
_LATE_SLOTS = 64  # hours back a key can hold
_KEY_STRIDE = _LATE_SLOTS * 4 * 8  # keys per ad


def event_keys(events: EventColumns, partition_hour_ms: int) -> np.ndarray:
    """One int64 key per row: (ad, hours before the partition, event type, label)."""
    back = (partition_hour_ms - (events.event_ms - events.event_ms % MS_PER_HOUR)) // MS_PER_HOUR
    if back.size and (back.min() < 0 or back.max() >= _LATE_SLOTS):
        raise ValueError("event hours must lie 0..63 hours before their partition")
    key = events.ad * _LATE_SLOTS + back
    key = key * 4 + events.event_type
    return key * 8 + events.label


@dataclass(frozen=True)
class KeyCounts:
    """Rows per ledger key (sorted keys), their spend, and rows per label."""

    keys: np.ndarray
    counts: np.ndarray
    spend_micros: np.ndarray
    labels: list[int]


def count_keys(events: EventColumns, partition_hour_ms: int, n_ads: int) -> KeyCounts:
    """Aggregate ``events`` (all landing in one partition) by ledger key."""
    keys = event_keys(events, partition_hour_ms)
    # Most rows are valid and of the partition's hour (hours back = 0, label = 0):
    # count those densely by (ad, type); the rest through a sort.
    common = (keys & (_KEY_STRIDE - 32 | 7)) == 0
    slot = events.ad[common] * 4 + events.event_type[common]
    dense = np.bincount(slot, minlength=n_ads * 4)
    dense_spend = np.bincount(slot, weights=events.spend_micros[common], minlength=dense.size)
    hit = np.flatnonzero(dense)
    rare = ~common
    other, inverse = np.unique(keys[rare], return_inverse=True)
    all_keys = np.concatenate([(hit >> 2) * _KEY_STRIDE + (hit & 3) * 8, other])
    counts = np.concatenate([dense[hit], np.bincount(inverse, minlength=other.size)])
    spend = np.concatenate(
        [
            dense_spend[hit],
            np.bincount(inverse, weights=events.spend_micros[rare], minlength=other.size),
        ]
    )
    order = np.argsort(all_keys, kind="stable")
    labels = np.bincount(events.label, minlength=len(Label))
    return KeyCounts(all_keys[order], counts[order], spend[order].astype(np.int64), labels.tolist())


def merge_counts(parts: list[KeyCounts]) -> KeyCounts:
    """One :class:`KeyCounts` summing ``parts`` key by key (and label by label)."""
    labels = [sum(p.labels[i] for p in parts) for i in range(len(Label))]
    if not parts:
        empty = np.empty(0, dtype=np.int64)
        return KeyCounts(empty, empty, empty, labels)
    keys = np.unique(np.concatenate([p.keys for p in parts]))
    counts = np.zeros(keys.size, dtype=np.int64)
    spend = np.zeros(keys.size, dtype=np.int64)
    for part in parts:
        at = np.searchsorted(keys, part.keys)
        np.add.at(counts, at, part.counts)
        np.add.at(spend, at, part.spend_micros)
    return KeyCounts(keys, counts, spend, labels)


class CountsCollector:
    """A ledger sink that only accumulates: what a Spark task sends back to the driver.

    Same ``count``/``add`` as :class:`LedgerWriter`; :meth:`totals` merges each column.
    """

    def __init__(self, n_ads: int) -> None:
        self.n_ads = n_ads
        self._columns: dict[str, list[KeyCounts]] = defaultdict(list)

    def count(self, partition_hour_ms: int, events: EventColumns) -> KeyCounts:
        """Aggregate ``events`` (all landing in one partition) by ledger key."""
        return count_keys(events, partition_hour_ms, self.n_ads)

    def add(self, partition_hour_ms: int, counts: KeyCounts, column: Column) -> None:
        """Hold ``counts`` for ``column`` (one partition per collector)."""
        if counts.keys.size:
            self._columns[column].append(counts)

    def totals(self, column: Column) -> KeyCounts:
        """Everything added to ``column``, merged (spend summed from the generated rows)."""
        return merge_counts(self._columns.get(column, []))


class LedgerWriter:
    """Accumulates counts per partition and writes ledger chunks and the summary."""

    def __init__(
        self, directory: Path, catalog: Catalog, *, info: dict[str, Any], kafka: bool = False
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.catalog = catalog
        self.info = info
        self.kafka = kafka
        self._pending: dict[int, dict[str, list[tuple[np.ndarray, np.ndarray]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self._seq = 0
        self._totals: dict[str, list[int]] = {c: [0] * len(Label) for c in COLUMNS}
        self._partitions: list[dict[str, Any]] = []

    def count(self, partition_hour_ms: int, events: EventColumns) -> KeyCounts:
        """Aggregate ``events`` (all landing in one partition) by ledger key."""
        return count_keys(events, partition_hour_ms, self.catalog.n_ads)

    def add(self, partition_hour_ms: int, counts: KeyCounts, column: Column) -> None:
        """Add aggregated ``counts`` to ``column`` (generated, written or acked)."""
        if not counts.keys.size:
            return
        pending = self._pending[partition_hour_ms]
        pending[column].append((counts.keys, counts.counts))
        if column == "generated":
            pending["spend_micros"].append((counts.keys, counts.spend_micros))
        for i, n in enumerate(counts.labels):
            self._totals[column][i] += n

    def _table(self, partition_hour_ms: int) -> pa.Table:
        parts = self._pending.pop(partition_hour_ms)
        all_keys = np.unique(np.concatenate([k for lst in parts.values() for k, _ in lst]))
        sums: dict[str, np.ndarray] = {}
        for name in (*COLUMNS, "spend_micros"):
            total = np.zeros(all_keys.size, dtype=np.int64)
            for keys, counts in parts.get(name, []):
                np.add.at(total, np.searchsorted(all_keys, keys), counts)
            sums[name] = total
        label = all_keys % 8
        event_type = (all_keys // 8) % 4
        back = (all_keys // 32) % _LATE_SLOTS
        ad = all_keys // (32 * _LATE_SLOTS)
        cat = self.catalog
        hour_type = pa.timestamp("ms", tz="UTC")
        acked = pa.array(sums["acked"]) if self.kafka else pa.nulls(all_keys.size, pa.int64())
        return pa.table(
            {
                "partition_hour": pa.array(np.full(all_keys.size, partition_hour_ms), hour_type),
                "event_hour": pa.array(partition_hour_ms - back * MS_PER_HOUR, hour_type),
                "campaign_id": pa.array(cat.campaign_ids[cat.ad_campaign[ad]]),
                "ad_id": pa.array(cat.ad_ids[ad]),
                "event_type": pa.array([EVENT_TYPES[i] for i in event_type.tolist()]),
                "label": pa.array([Label(i).slug for i in label.tolist()]),
                "generated": pa.array(sums["generated"]),
                "written": pa.array(sums["written"]),
                "acked": acked,
                "spend_micros": pa.array(sums["spend_micros"]),
            }
        )

    def flush(self, partition_hour_ms: int, *, marker: dict[str, Any] | None = None) -> Path | None:
        """Write the partition's counts as a chunk (if any) and refresh ``summary.json``."""
        path: Path | None = None
        if partition_hour_ms in self._pending:
            table = self._table(partition_hour_ms)
            path = self.directory / f"counts-{self._seq:05d}.parquet"
            self._seq += 1
            sink = pa.BufferOutputStream()
            pq.write_table(table, sink, compression="snappy")
            atomic_write(path, sink.getvalue().to_pybytes(), fsync=True)
        entry: dict[str, Any] = {
            "partition": partition_name(partition_hour_ms),
            "chunk": path.name if path else None,
        }
        if marker is not None:
            entry.update(records=marker["records"], valid=marker["valid"])
        self._partitions.append(entry)
        self.write_summary(complete=False)
        return path

    def write_summary(self, *, complete: bool) -> Path:
        """(Re)write ``summary.json`` atomically."""
        totals: dict[str, Any] = {
            c: {"records": sum(v), "labels": {label.slug: v[label] for label in Label}}
            for c, v in self._totals.items()
        }
        if not self.kafka:
            totals["acked"] = None
        summary = {
            "ledger_version": LEDGER_VERSION,
            "schema_version": SCHEMA_VERSION,
            "complete": complete,
            **self.info,
            "totals": totals,
            "partitions": self._partitions,
        }
        path = self.directory / SUMMARY_FILE
        atomic_write(path, orjson.dumps(summary, option=orjson.OPT_INDENT_2), fsync=True)
        return path

    def close(self) -> None:
        """Flush every partition still held and mark the summary complete."""
        for hour in sorted(self._pending):
            self.flush(hour)
        self.write_summary(complete=True)

    @staticmethod
    def empty_frame() -> pd.DataFrame:
        """A ledger with no rows (the columns of :func:`load_ledger`)."""
        frame = pd.DataFrame(
            columns=[*KEY_COLUMNS, "generated", "written", "acked", "spend_micros"]
        )
        return frame.astype({"acked": "Int64"})


def _sum_or_null(values: pd.Series) -> object:
    return values.sum(min_count=1)


def load_ledger(path: Path) -> pd.DataFrame:
    """The ledger under ``path`` (a run directory or its ``ledger/``), one row per key."""
    directory = Path(path)
    if RunDirectory(directory).ledger.is_dir():
        directory = RunDirectory(directory).ledger
    chunks = sorted(directory.glob("counts-*.parquet"))
    if not chunks:
        if (directory / SUMMARY_FILE).exists():
            return LedgerWriter.empty_frame()  # a run that generated nothing
        raise FileNotFoundError(f"no ledger in {directory}")
    frame = pa.concat_tables([pq.read_table(c) for c in chunks]).to_pandas()
    frame["acked"] = frame["acked"].astype("Int64")
    sums = {c: "sum" for c in ("generated", "written", "spend_micros")}
    grouped = frame.groupby(list(KEY_COLUMNS), as_index=False, dropna=False)
    out: pd.DataFrame = grouped.agg({**sums, "acked": _sum_or_null})
    out["acked"] = out["acked"].astype("Int64")
    return out


def expected_counts(ledger: pd.DataFrame, column: Column = "written") -> pd.DataFrame:
    """What a correct pipeline reports per (campaign_id, ad_id, event_hour).

    Columns impressions, clicks, conversions and spend (currency), from the valid
    and late lines of ``column`` ("written" for the landing zone, "acked" for Kafka).
    """
    counted = ledger[ledger["label"].isin([label.slug for label in COUNTED_LABELS])].copy()
    counted["n"] = counted[column].astype("int64")
    share = counted["n"] / counted["generated"].where(counted["generated"] > 0, 1)
    counted["spend"] = counted["spend_micros"] * share / 1e6
    keys = ["campaign_id", "ad_id", "event_hour"]
    pivot = counted.pivot_table(
        index=keys, columns="event_type", values="n", aggfunc="sum", fill_value=0
    )
    pivot = pivot.reindex(columns=list(EVENT_TYPES), fill_value=0)
    pivot.columns = [f"{t}s" for t in EVENT_TYPES]
    spend = counted.groupby(keys)["spend"].sum()
    out = pivot.join(spend).reset_index()
    return out[out[[f"{t}s" for t in EVENT_TYPES]].sum(axis=1) > 0].reset_index(drop=True)
