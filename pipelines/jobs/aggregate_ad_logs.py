"""Aggregate one validated landing partition of ad logs (PySpark).

Reads the normalised JSON lines the validate task staged, drops duplicate
event_ids and writes per-(hour, campaign_id, ad_id) stats plus a manifest. The
hour is the event's: late events in the partition give rows for earlier hours.

By hand::

    spark-submit --master spark://127.0.0.1:7077 pipelines/jobs/aggregate_ad_logs.py \
        --input  <work>/staging/ad_logs/dt=2024-05-01/hour=13 \
        --output <work>/output/ad_logs/dt=2024-05-01/hour=13 \
        --partition-hour 2024-05-01T13 --run-id manual
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ad_spark import NORMALISED_SCHEMA, aggregate, session, summarise, write_output


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", required=True, help="directory of normalised *.jsonl")
    parser.add_argument("--output", required=True, help="output directory (overwritten)")
    parser.add_argument("--partition-hour", required=True, help="YYYY-MM-DDTHH (UTC)")
    parser.add_argument("--run-id", default="manual", help="Airflow run id, kept in the manifest")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """Run the job; exit code 0 on success."""
    args = parse_args(argv)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / "_MANIFEST.json").unlink(missing_ok=True)
    spark = session(f"aggregate_ad_logs {args.partition_hour}")
    try:
        events = (
            spark.read.schema(NORMALISED_SCHEMA)
            .option("mode", "FAILFAST")
            .json(os.path.join(args.input, "*.jsonl"))
            .cache()
        )
        stats = aggregate(events).cache()
        manifest = {
            "kind": "ad_logs",
            "partition_hour": args.partition_hour,
            "run_id": args.run_id,
            **summarise(events, stats),
        }
        write_output(stats, args.output, manifest)
        print(
            f"aggregate_ad_logs: {manifest['rows']} rows from {manifest['valid_records']} records"
        )
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
