"""The landing zone: partition paths, the validate task and the volume branch.

Contract (docs/pipeline.md): ``<landing>/ad_logs/dt=YYYY-MM-DD/hour=HH/part-*.jsonl``
(or ``part-*.parquet``), finished by ``_SUCCESS`` (JSON with ``records``). Validate
checks every record against the contract (pipelines/jobs/ad_schema.py), writes the
valid ones normalised to the staging area for Spark and the bad ones, with their
reason, to the quarantine area, and returns the counts. Late events (event_time
in an earlier hour) are valid: they count in their own hour.
"""

# ruff: noqa: PLC0415 - heavy or Airflow-runtime imports stay inside functions: DAG files parse fast

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

#: Longest raw record kept in the quarantine file.
MAX_RAW = 2048


def partition_hour(params: dict[str, Any] | None, data_interval_start: Any = None) -> str:
    """``YYYY-MM-DDTHH``: ``params.partition_hour`` if given, else the interval's start."""
    chosen = (params or {}).get("partition_hour")
    if chosen:
        return parse_hour(str(chosen)).strftime("%Y-%m-%dT%H")
    if data_interval_start is None:
        raise ValueError("no partition: set params.partition_hour (YYYY-MM-DDTHH) for this run")
    return data_interval_start.astimezone(UTC).strftime("%Y-%m-%dT%H")


def parse_hour(text: str) -> datetime:
    """``2024-05-01T13`` (or a longer ISO form) → that UTC hour."""
    text = text.strip()
    moment = datetime.strptime(text[:13], "%Y-%m-%dT%H")
    return moment.replace(tzinfo=UTC)


def partition_path(hour: str) -> str:
    """``ad_logs/dt=2024-05-01/hour=13`` (relative to the landing / work areas)."""
    moment = parse_hour(hour)
    return f"ad_logs/dt={moment:%Y-%m-%d}/hour={moment:%H}"


def load_schema_module(jobs_dir: str) -> ModuleType:
    """pipelines/jobs/ad_schema.py, the same rules the Spark jobs apply."""
    path = Path(jobs_dir) / "ad_schema.py"
    spec = importlib.util.spec_from_file_location("ad_schema", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read_marker(marker: Path) -> dict[str, Any]:
    text = marker.read_text().strip()
    if not text:
        return {}  # a bare Hadoop-style marker: nothing declared
    try:
        data = json.loads(text)
    except ValueError:
        return {"unreadable": True}
    return data if isinstance(data, dict) else {"unreadable": True}


def _jsonl_records(path: Path) -> Iterator[tuple[int, str, Any]]:
    """(line number, raw text, raw line) of each non-blank line."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield number, line.decode("utf-8", "replace").rstrip("\n"), line


def _parquet_records(path: Path) -> Iterator[tuple[int, str, Any]]:
    """(row number, JSON text, row dict) of each Parquet row."""
    import pyarrow.parquet as pq

    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=65536):
        for row in batch.to_pylist():
            number += 1
            yield number, json.dumps(row, default=str), row


def validate_partition(
    landing_dir: str, work_dir: str, partition: str, jobs_dir: str
) -> dict[str, Any]:
    """Check, stage and quarantine one partition; return its counts (the task's XCom)."""
    from airflow.sdk.exceptions import AirflowFailException

    schema = load_schema_module(jobs_dir)
    rel = partition_path(partition)
    source = Path(landing_dir) / rel
    marker = source / "_SUCCESS"
    if not marker.exists():
        raise AirflowFailException(f"{marker} is missing: the partition is not finished")
    declared = _read_marker(marker)
    files = sorted(source.glob("part-*.jsonl")) + sorted(source.glob("part-*.parquet"))
    if not files:
        raise AirflowFailException(f"{source}: no part-*.jsonl or part-*.parquet files")

    staging = Path(work_dir) / "staging" / rel
    quarantine = Path(work_dir) / "quarantine" / rel
    for area in (staging, quarantine):
        shutil.rmtree(area, ignore_errors=True)
        area.mkdir(parents=True)
    reasons: Counter[str] = Counter()
    records = valid = 0
    valid_tmp = staging / "valid.jsonl.tmp"
    with valid_tmp.open("w") as good, (quarantine / "bad.jsonl").open("w") as bad:
        for path in files:
            parquet = path.suffix == ".parquet"
            rows = _parquet_records(path) if parquet else _jsonl_records(path)
            for number, raw, item in rows:
                records += 1
                if parquet:
                    record, reason = schema.check_record(item)
                else:
                    record, reason = schema.check_line(item)
                if record is None:
                    reasons[reason] += 1
                    entry = {"file": path.name, "line": number, "reason": reason}
                    bad.write(json.dumps({**entry, "raw": raw[:MAX_RAW]}) + "\n")
                    continue
                valid += 1
                good.write(json.dumps(record, separators=(",", ":")) + "\n")
    os.replace(valid_tmp, staging / "valid.jsonl")

    summary: dict[str, Any] = {
        "partition_hour": partition,
        "files": len(files),
        "records": records,
        "valid_records": valid,
        "bad_records": records - valid,
        "bad_by_reason": dict(sorted(reasons.items())),
        "declared_records": declared.get("records"),
        "landed_at": datetime.fromtimestamp(marker.stat().st_mtime, UTC).isoformat(),
        "staging_dir": str(staging),
        "quarantine_dir": str(quarantine),
    }
    (quarantine / "_COUNTS.json").write_text(json.dumps(summary, indent=2))
    if declared.get("unreadable"):
        raise AirflowFailException(f"{marker}: not a JSON object (see docs/pipeline.md)")
    if isinstance(declared.get("records"), int) and declared["records"] != records:
        raise AirflowFailException(
            f"{source}: _SUCCESS declares {declared['records']} records, the files hold"
            f" {records}: the partition is incomplete or was rewritten"
        )
    if valid == 0:
        raise AirflowFailException(
            f"{source}: zero valid records ({records} read, {records - valid} quarantined"
            f" in {quarantine}; reasons {dict(reasons)})"
        )
    return summary


def choose_profile(validated: dict[str, Any], threshold: int) -> str:
    """The Spark task to run: heavy settings at or above ``threshold`` valid records."""
    return (
        "aggregate_heavy"
        if int(validated["valid_records"]) >= int(threshold)
        else "aggregate_light"
    )
