"""The aggregation both Spark jobs share, and how they write their output.

Input: normalised ad events (string columns, see ad_schema.NORMALISED_FIELDS).
Output directory::

    <out>/stats/part-*.json   one JSON object per (hour, campaign_id, ad_id)
    <out>/_MANIFEST.json      counts and totals the load and check tasks verify

Duplicates (same event_id) count once. Spend is summed as decimal(28,6), so the
totals are exact; unique users are HyperLogLog++ estimates.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from ad_schema import NORMALISED_FIELDS
from pyspark import SparkConf
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

#: Relative standard deviation of approx_count_distinct.
USERS_RSD = 0.02

NORMALISED_SCHEMA = StructType(
    [StructField(name, StringType(), False) for name in NORMALISED_FIELDS]
)


def session(app_name: str) -> SparkSession:
    """A Spark session in UTC (master, resources and a ``--name`` come from spark-submit)."""
    builder = SparkSession.builder.config("spark.sql.session.timeZone", "UTC")
    if SparkConf().get("spark.app.name", "").endswith(".py"):  # spark-submit's default name
        builder = builder.appName(app_name)
    return builder.getOrCreate()


def aggregate(events: DataFrame) -> DataFrame:
    """Per (hour, campaign_id, ad_id): event counts, spend, approximate unique users."""
    deduped = events.dropDuplicates(["event_id"])

    def count_of(kind: str) -> Any:
        return F.sum((F.col("event_type") == kind).cast("long")).alias(f"{kind}s")

    return deduped.groupBy("hour", "campaign_id", "ad_id").agg(
        count_of("impression"),
        count_of("click"),
        count_of("conversion"),
        F.sum(F.col("spend").cast("decimal(18,6)")).alias("spend"),
        F.approx_count_distinct("user_id", USERS_RSD).alias("approx_unique_users"),
    )


def summarise(events: DataFrame, stats: DataFrame) -> dict[str, Any]:
    """Counts and totals of one run, for the manifest (two small Spark jobs)."""
    seen = events.agg(
        F.count(F.lit(1)).alias("records"), F.countDistinct("event_id").alias("distinct")
    ).first()
    assert seen is not None
    # The stats are small (one row per hour, campaign and ad): total them here, exactly.
    rows = stats.select("hour", "impressions", "clicks", "conversions", "spend").collect()
    spend = sum((Decimal(row["spend"]) for row in rows), Decimal("0.000000"))
    return {
        "valid_records": int(seen["records"]),
        "distinct_events": int(seen["distinct"]),
        "duplicate_records": int(seen["records"]) - int(seen["distinct"]),
        "rows": len(rows),
        "impressions": sum(int(row["impressions"]) for row in rows),
        "clicks": sum(int(row["clicks"]) for row in rows),
        "conversions": sum(int(row["conversions"]) for row in rows),
        "spend": str(spend.quantize(Decimal("0.000001"))),
        "hours": sorted({row["hour"] for row in rows}),
    }


def write_output(stats: DataFrame, out: str, manifest: Mapping[str, Any]) -> None:
    """Overwrite ``<out>/stats`` and then write ``<out>/_MANIFEST.json`` (atomically)."""
    (
        stats.select(
            "hour",
            "campaign_id",
            "ad_id",
            "impressions",
            "clicks",
            "conversions",
            F.col("spend").cast("string").alias("spend"),
            "approx_unique_users",
        )
        .coalesce(1)
        .write.mode("overwrite")
        .json(os.path.join(out, "stats"))
    )
    target = Path(out) / "_MANIFEST.json"
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(dict(manifest), indent=2, sort_keys=True))
    tmp.replace(target)
