"""What the pipeline loaded during a run, read from the serving database at the end.

Only rows written by DAG runs this run triggered count (``run_id``), so rows an
earlier run left for the same hours can never pass for this run's output. The
stream path is filtered the same way by the completion signals this run sent
(``kafka_signal`` events that were acknowledged): ``stream_serving.parquet``
(``ad_events_stats``) and ``stream_batches.parquet`` (``ad_events_batches``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import psycopg

from dagstorm.run.events import Kind
from dagstorm.run.journal import read_journal
from dagstorm.run.rundir import RunDirectory

COLUMNS = ["hour", "campaign_id", "ad_id", "impressions", "clicks", "conversions", "run_id"]
LOAD_COLUMNS = [
    "hour",
    "run_id",
    "input_records",
    "bad_records",
    "valid_records",
    "duplicate_records",
    "rows",
]


def _ok_values(journal_path: Path, kind: str, field: str) -> list[str]:
    """Sorted distinct ``field`` of the journal's successful ``kind`` events."""
    return sorted(
        {
            str(e[field])
            for e in read_journal(journal_path)
            if e.get("kind") == kind and e.get("ok") and e.get(field)
        }
    )


def triggered_run_ids(journal_path: Path) -> list[str]:
    """Run ids of the DAG runs this run created."""
    return _ok_values(journal_path, Kind.DAG_TRIGGERED, "run_id")


STREAM_COLUMNS = [*COLUMNS[:-1], "signal_id"]
BATCH_COLUMNS = [
    "loaded_at",
    "signal_id",
    "run_id",
    "input_records",
    "bad_records",
    "valid_records",
    "duplicate_records",
    "rows",
]


def sent_signal_ids(journal_path: Path) -> list[str]:
    """signal_ids of the completion signals this run sent (acknowledged by Kafka)."""
    return _ok_values(journal_path, Kind.KAFKA_SIGNAL, "signal_id")


def _export(dsn: str, query: str, run_ids: list[str], columns: list[str], path: Path) -> int:
    """Rows of ``query`` (run ids as its one parameter) to Parquet; returns the row count."""
    rows: list[tuple[object, ...]] = []
    if run_ids:
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            rows = conn.execute(query, (run_ids,)).fetchall()
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("hour", "loaded_at"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    for column in ("impressions", "clicks", "conversions"):
        if column in frame:
            frame[column] = frame[column].astype("int64")
    frame.to_parquet(path, index=False)
    return len(frame)


def snapshot_serving(dsn: str, run_dir: Path) -> int:
    """Write ``serving.parquet`` (rows of this run's DAG runs); returns the row count.

    Also ``partition_loads.parquet``: per loaded partition, what validate quarantined.
    """
    directory = RunDirectory(run_dir)
    run_ids = triggered_run_ids(directory.journal)
    count = _export(
        dsn,
        "SELECT hour, campaign_id, ad_id, impressions, clicks, conversions, run_id "
        "FROM ad_stats_hourly WHERE run_id = ANY(%s) ORDER BY hour, campaign_id, ad_id",
        run_ids,
        COLUMNS,
        directory.serving,
    )
    _export(
        dsn,
        "SELECT hour, run_id, input_records, bad_records, valid_records, "
        "duplicate_records, rows FROM ad_partition_loads WHERE run_id = ANY(%s)",
        run_ids,
        LOAD_COLUMNS,
        directory.partition_loads,
    )
    signal_ids = sent_signal_ids(directory.journal)
    if signal_ids:
        count += snapshot_stream(dsn, run_dir, signal_ids)
    return count


def snapshot_stream(dsn: str, run_dir: Path, signal_ids: list[str]) -> int:
    """Write ``stream_serving.parquet`` and ``stream_batches.parquet`` for ``signal_ids``."""
    count = _export(
        dsn,
        "SELECT hour, campaign_id, ad_id, impressions, clicks, conversions, signal_id "
        "FROM ad_events_stats WHERE signal_id = ANY(%s) ORDER BY hour, campaign_id, ad_id",
        signal_ids,
        STREAM_COLUMNS,
        RunDirectory(run_dir).stream_serving,
    )
    _export(
        dsn,
        "SELECT loaded_at, signal_id, run_id, input_records, bad_records, "
        "valid_records, duplicate_records, rows FROM ad_events_batches "
        "WHERE signal_id = ANY(%s)",
        signal_ids,
        BATCH_COLUMNS,
        RunDirectory(run_dir).stream_batches,
    )
    return count
