"""Aggregate one range of the ad_events Kafka topic named by a completion signal (PySpark).

Reads exactly the offsets in ``--ranges`` (batch read with Spark's Kafka source:
the spark-sql-kafka-0-10 jars must be on the classpath via ``--jars``), checks
each message against the ad event contract (ad_schema), drops duplicate
event_ids and writes per-(hour, campaign_id, ad_id) stats plus a manifest.

By hand::

    spark-submit --master spark://127.0.0.1:7077 \
        --jars "$(ls <state>/spark/jars/*.jar | paste -sd,)" \
        pipelines/jobs/aggregate_ad_events.py --bootstrap 127.0.0.1:9092 \
        --topic ad_events --ranges '{"0": [0, 1000]}' \
        --output /tmp/out --signal-id manual-1
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import ad_schema  # noqa: E402
from ad_spark import NORMALISED_SCHEMA, aggregate, session, summarise, write_output  # noqa: E402
from pyspark.sql.types import StringType, StructField, StructType  # noqa: E402

#: A checked message: the reason it is invalid (or null), then its normalised fields.
CHECKED_SCHEMA = StructType(
    [StructField("reason", StringType(), True)]
    + [StructField(f.name, StringType(), True) for f in NORMALISED_SCHEMA.fields]
)


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True, help="Kafka bootstrap servers")
    parser.add_argument("--topic", required=True)
    parser.add_argument(
        "--ranges", required=True, help='JSON {"<partition>": [start, end)} (end exclusive)'
    )
    parser.add_argument("--output", required=True, help="output directory (overwritten)")
    parser.add_argument("--signal-id", required=True, help="kept in the manifest")
    parser.add_argument("--run-id", default="manual", help="Airflow run id, kept in the manifest")
    return parser.parse_args(argv)


def check_values(values: Iterator[bytes | None]) -> Iterator[tuple[str | None, ...]]:
    """(reason, *normalised fields) per message; reason is None for a valid one."""
    for value in values:
        record, reason = ad_schema.check_line(value)
        if record is None:
            yield (reason, *([None] * len(ad_schema.NORMALISED_FIELDS)))
        else:
            yield (None, *(record[name] for name in ad_schema.NORMALISED_FIELDS))


def main(argv: list[str]) -> int:
    """Run the job; exit code 0 on success."""
    args = parse_args(argv)
    ranges = {str(int(p)): (int(r[0]), int(r[1])) for p, r in json.loads(args.ranges).items()}
    ranges = {p: r for p, r in ranges.items() if r[1] > r[0]}
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / "_MANIFEST.json").unlink(missing_ok=True)
    spark = session(f"aggregate_ad_events {args.signal_id}")
    try:
        spark.sparkContext.addPyFile(os.path.join(HERE, "ad_schema.py"))
        expected = sum(end - start for start, end in ranges.values())
        raw = (
            spark.read.format("kafka")
            .option("kafka.bootstrap.servers", args.bootstrap)
            .option("assign", json.dumps({args.topic: [int(p) for p in ranges]}))
            .option(
                "startingOffsets", json.dumps({args.topic: {p: r[0] for p, r in ranges.items()}})
            )
            .option("endingOffsets", json.dumps({args.topic: {p: r[1] for p, r in ranges.items()}}))
            .option("failOnDataLoss", "true")
            .load()
        )
        checked = spark.createDataFrame(
            raw.select("value").rdd.map(lambda row: row[0]).mapPartitions(check_values),
            CHECKED_SCHEMA,
        ).cache()
        bad = {
            row["reason"]: int(row["count"])
            for row in checked.filter("reason IS NOT NULL").groupBy("reason").count().collect()
        }
        events = checked.filter("reason IS NULL").drop("reason").cache()
        stats = aggregate(events).cache()
        summary = summarise(events, stats)
        manifest = {
            "kind": "ad_events",
            "signal_id": args.signal_id,
            "run_id": args.run_id,
            "topic": args.topic,
            "ranges": {p: list(r) for p, r in ranges.items()},
            "expected_records": expected,
            "input_records": summary["valid_records"] + sum(bad.values()),
            "bad_records": sum(bad.values()),
            "bad_by_reason": bad,
            **summary,
        }
        if manifest["input_records"] != expected:
            print(
                f"error: read {manifest['input_records']} messages, the signal names {expected}",
                file=sys.stderr,
            )
            return 3
        write_output(stats, args.output, manifest)
        print(f"aggregate_ad_events: {manifest['rows']} rows from {expected} messages")
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
