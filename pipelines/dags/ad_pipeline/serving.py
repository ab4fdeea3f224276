"""Idempotent loads into the serving database, and the checks that follow them.

Each load is one transaction: delete the partition (an hour, or a signal's
batch) and insert it again, so a rerun or a cleared task never duplicates. The
checks compare the serving tables with the Spark job's manifest.
Schema: pipelines/sql/serving_schema.sql.
"""

# ruff: noqa: PLC0415 - heavy or Airflow-runtime imports stay inside functions: DAG files parse fast

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from ad_pipeline.settings import SERVING_CONN_ID

STAT_COLUMNS = ("impressions", "clicks", "conversions", "spend", "approx_unique_users")
#: Seconds to wait for a connection (the serving-db link may be faulted).
CONNECT_TIMEOUT = 10


def connect() -> Any:
    """A psycopg (3) connection to the serving DB from the Airflow connection."""
    import psycopg
    from airflow.sdk import Connection

    conn = Connection.get(SERVING_CONN_ID)
    return psycopg.connect(
        host=conn.host,
        port=conn.port,
        user=conn.login,
        password=conn.password,
        dbname=conn.schema,
        connect_timeout=CONNECT_TIMEOUT,
        application_name="ad_pipeline",
        options="-c statement_timeout=120000",
    )


def read_output(output_dir: str, run_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The job's manifest and stats rows; the manifest must be this run's."""
    from airflow.sdk.exceptions import AirflowException

    out = Path(output_dir)
    manifest_path = out / "_MANIFEST.json"
    if not manifest_path.exists():
        raise AirflowException(f"{manifest_path} is missing: did the Spark job finish?")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("run_id") != run_id:
        raise AirflowException(
            f"{manifest_path} belongs to run {manifest.get('run_id')!r}, not {run_id!r}"
        )
    rows: list[dict[str, Any]] = []
    for part in sorted((out / "stats").glob("part-*.json")):
        with part.open() as handle:
            rows.extend(json.loads(line, parse_float=Decimal) for line in handle if line.strip())
    if len(rows) != manifest["rows"]:
        raise AirflowException(
            f"{out}: {len(rows)} stats rows, the manifest says {manifest['rows']}"
        )
    return manifest, rows


def _key(row: dict[str, Any]) -> tuple[str, str, str]:
    return (row["hour"], str(row["campaign_id"]), str(row["ad_id"]))


def _stat_values(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        int(row["impressions"]),
        int(row["clicks"]),
        int(row["conversions"]),
        Decimal(str(row["spend"])),
        int(row["approx_unique_users"]),
    )


def load_hourly(output_dir: str, validated: dict[str, Any], run_id: str) -> dict[str, Any]:
    """Replace one partition in ad_stats_hourly and record it in ad_partition_loads."""
    manifest, rows = read_output(output_dir, run_id)
    partition = f"{manifest['partition_hour']}:00:00+00:00"
    with connect() as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM ad_stats_hourly WHERE partition_hour = %s", (partition,))
        cur.executemany(
            "INSERT INTO ad_stats_hourly (partition_hour, hour, campaign_id, ad_id, impressions,"
            " clicks, conversions, spend, approx_unique_users, run_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(partition, *_key(row), *_stat_values(row), run_id) for row in rows],
        )
        cur.execute(
            "INSERT INTO ad_partition_loads (hour, run_id, input_records, bad_records,"
            " valid_records, duplicate_records, rows, impressions, clicks, conversions, spend,"
            " landed_at, loaded_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())"
            " ON CONFLICT (hour) DO UPDATE SET run_id = EXCLUDED.run_id,"
            " input_records = EXCLUDED.input_records, bad_records = EXCLUDED.bad_records,"
            " valid_records = EXCLUDED.valid_records,"
            " duplicate_records = EXCLUDED.duplicate_records, rows = EXCLUDED.rows,"
            " impressions = EXCLUDED.impressions, clicks = EXCLUDED.clicks,"
            " conversions = EXCLUDED.conversions, spend = EXCLUDED.spend,"
            " landed_at = EXCLUDED.landed_at, loaded_at = now()",
            (
                partition,
                run_id,
                validated["records"],
                validated["bad_records"],
                manifest["valid_records"],
                manifest["duplicate_records"],
                manifest["rows"],
                manifest["impressions"],
                manifest["clicks"],
                manifest["conversions"],
                Decimal(manifest["spend"]),
                validated.get("landed_at"),
            ),
        )
    return {"partition_hour": partition, "rows": len(rows), "run_id": run_id}


def _totals(cur: Any, table: str, where: str, key: Any) -> tuple[Any, ...]:
    cur.execute(
        f"SELECT count(*), coalesce(sum(impressions), 0), coalesce(sum(clicks), 0),"
        f" coalesce(sum(conversions), 0), coalesce(sum(spend), 0) FROM {table} WHERE {where}",
        (key,),
    )
    row = cur.fetchone()
    return (int(row[0]), int(row[1]), int(row[2]), int(row[3]), Decimal(row[4]))


def _expected(manifest: dict[str, Any]) -> tuple[Any, ...]:
    return (
        int(manifest["rows"]),
        int(manifest["impressions"]),
        int(manifest["clicks"]),
        int(manifest["conversions"]),
        Decimal(manifest["spend"]),
    )


def check_hourly(output_dir: str, run_id: str) -> dict[str, Any]:
    """The partition is served, by this run, and matches the job's output exactly."""
    from airflow.sdk.exceptions import AirflowException

    manifest, _ = read_output(output_dir, run_id)
    partition = f"{manifest['partition_hour']}:00:00+00:00"
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT run_id, extract(epoch FROM now() - loaded_at),"
            " extract(epoch FROM loaded_at - landed_at)"
            " FROM ad_partition_loads WHERE hour = %s",
            (partition,),
        )
        load = cur.fetchone()
        served = _totals(cur, "ad_stats_hourly", "partition_hour = %s", partition)
    if load is None:
        raise AirflowException(f"partition {partition} is not in ad_partition_loads")
    if load[0] != run_id:
        raise AirflowException(f"partition {partition} was last loaded by {load[0]}, not {run_id}")
    expected = _expected(manifest)
    if served != expected:
        raise AirflowException(f"partition {partition}: served {served}, the job wrote {expected}")
    return {
        "partition_hour": partition,
        "rows": served[0],
        "hours": manifest["hours"],
        "seconds_since_load": float(load[1]),
        "landing_to_served_seconds": float(load[2]) if load[2] is not None else None,
    }


def batch_loaded(signal_id: str) -> bool:
    """True if the signal's batch is already in ad_events_batches."""
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM ad_events_batches WHERE signal_id = %s", (signal_id,))
        return cur.fetchone() is not None


def load_events(output_dir: str, run_id: str) -> dict[str, Any]:
    """Replace one signal's batch in ad_events_batches / ad_events_stats."""
    manifest, rows = read_output(output_dir, run_id)
    signal_id = manifest["signal_id"]
    with connect() as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM ad_events_batches WHERE signal_id = %s", (signal_id,))
        cur.execute(
            "INSERT INTO ad_events_batches (signal_id, topic, ranges, run_id, input_records,"
            " bad_records, valid_records, duplicate_records, rows, impressions, clicks,"
            " conversions, spend) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                signal_id,
                manifest["topic"],
                json.dumps(manifest["ranges"]),
                run_id,
                manifest["input_records"],
                manifest["bad_records"],
                manifest["valid_records"],
                manifest["duplicate_records"],
                manifest["rows"],
                manifest["impressions"],
                manifest["clicks"],
                manifest["conversions"],
                Decimal(manifest["spend"]),
            ),
        )
        cur.executemany(
            "INSERT INTO ad_events_stats (signal_id, hour, campaign_id, ad_id, impressions,"
            " clicks, conversions, spend, approx_unique_users)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(signal_id, *_key(row), *_stat_values(row)) for row in rows],
        )
    return {"signal_id": signal_id, "rows": len(rows), "run_id": run_id}


def check_events(output_dir: str, run_id: str) -> dict[str, Any]:
    """The signal's batch is served, by this run, and matches the job's output exactly."""
    from airflow.sdk.exceptions import AirflowException

    manifest, _ = read_output(output_dir, run_id)
    signal_id = manifest["signal_id"]
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT run_id FROM ad_events_batches WHERE signal_id = %s", (signal_id,))
        batch = cur.fetchone()
        served = _totals(cur, "ad_events_stats", "signal_id = %s", signal_id)
    if batch is None or batch[0] != run_id:
        raise AirflowException(f"batch {signal_id} is not served by run {run_id} ({batch})")
    expected = _expected(manifest)
    if served != expected:
        raise AirflowException(f"batch {signal_id}: served {served}, the job wrote {expected}")
    return {"signal_id": signal_id, "rows": served[0]}
