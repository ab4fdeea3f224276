"""What the pipeline loaded during a run, read from the serving database at the end.

Only rows written by DAG runs this run triggered count (``run_id``), so rows an
earlier run left for the same hours can never pass for this run's output.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import psycopg

from dagstorm.engine.journal import read_journal

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


def triggered_run_ids(journal_path: Path) -> list[str]:
    """Run ids of the DAG runs this run created."""
    return sorted(
        {
            str(e["run_id"])
            for e in read_journal(journal_path)
            if e.get("kind") == "dag_triggered" and e.get("ok") and e.get("run_id")
        }
    )


def snapshot_serving(dsn: str, run_dir: Path) -> int:
    """Write ``serving.parquet`` (rows of this run's DAG runs); returns the row count."""
    run_ids = triggered_run_ids(run_dir / "journal.jsonl")
    rows: list[tuple[object, ...]] = []
    if run_ids:
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            rows = conn.execute(
                "SELECT hour, campaign_id, ad_id, impressions, clicks, conversions, run_id "
                "FROM ad_stats_hourly WHERE run_id = ANY(%s) ORDER BY hour, campaign_id, ad_id",
                (run_ids,),
            ).fetchall()
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["hour"] = pd.to_datetime(frame["hour"], utc=True)
    for column in ("impressions", "clicks", "conversions"):
        frame[column] = frame[column].astype("int64")
    frame.to_parquet(run_dir / "serving.parquet", index=False)
    _partition_loads(dsn, run_ids, run_dir)
    return len(frame)


def _partition_loads(dsn: str, run_ids: list[str], run_dir: Path) -> None:
    """``partition_loads.parquet``: per loaded partition, what validate quarantined."""
    rows: list[tuple[object, ...]] = []
    if run_ids:
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            rows = conn.execute(
                "SELECT hour, run_id, input_records, bad_records, valid_records, "
                "duplicate_records, rows FROM ad_partition_loads WHERE run_id = ANY(%s)",
                (run_ids,),
            ).fetchall()
    frame = pd.DataFrame(rows, columns=LOAD_COLUMNS)
    frame["hour"] = pd.to_datetime(frame["hour"], utc=True)
    frame.to_parquet(run_dir / "partition_loads.parquet", index=False)
