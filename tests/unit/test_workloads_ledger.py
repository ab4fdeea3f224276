"""Ledger == files, exactly: read the landing zone back, recount, compare.

The reader here is independent of the generator: it parses what is on disk
(json / pyarrow), classifies each line as a correct pipeline would (unparseable
= malformed; wrong keys or types = drift; repeated event_id = duplicate; event
hour before the partition hour = late) and recounts.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import numpy as np
import orjson
import pandas as pd
import pyarrow.parquet as pq
import pytest

from dagstorm.workloads.config import Format, GeneratorConfig, LandingConfig, SourceConfig
from dagstorm.workloads.encoding.tables import SCHEMA
from dagstorm.workloads.model.config import BadDataConfig
from dagstorm.workloads.model.schema import FIELD_NAMES, FIELDS, Label
from dagstorm.workloads.sinks.generator import AdLogGenerator
from dagstorm.workloads.sinks.ledger import LedgerWriter, expected_counts, load_ledger
from dagstorm.workloads.source import EventSource
from dagstorm.workloads.traffic.rates import parse_rate

JSON_TYPES = {"string": str, "integer": int, "number": float}
LABELS = [label.slug for label in Label]
BAD = BadDataConfig(
    malformed=0.02,
    drift_missing=0.02,
    drift_extra=0.02,
    drift_retyped=0.02,
    late=0.03,
    duplicate=0.02,
)


def generate(tmp: Path, fmt: str) -> Path:
    bad = BAD if fmt == "jsonl" else BAD.model_copy(update={"malformed": 0.0})
    config = GeneratorConfig(
        seed=21,
        rate=parse_rate("20 events/s"),
        start=datetime(2026, 3, 1, 22, 40, tzinfo=UTC),
        bad_data=bad,
        max_window_seconds=60,
        landing=LandingConfig(
            root=tmp / "landing", format=cast(Format, fmt), part_max_bytes=2_000_000
        ),
    )
    generator = AdLogGenerator(config, ledger_dir=tmp / "ledger")
    generator.advance_to(3.3 * 3600)
    generator.close()
    return tmp


def _hour(partition: Path) -> pd.Timestamp:
    dt, hour = partition.parent.name[3:], partition.name[5:]
    return pd.Timestamp(f"{dt}T{hour}:00:00", tz="UTC")


def _drift_kind(record: dict[str, Any]) -> str | None:
    keys = set(record)
    if keys < set(FIELD_NAMES):
        return "drift_missing"
    if keys > set(FIELD_NAMES):
        return "drift_extra"
    if any(type(record[f.name]) is not JSON_TYPES[f.json_type] for f in FIELDS):
        return "drift_retyped"
    return None


def _read_part(part: Path, fmt: str) -> tuple[pd.DataFrame, list[str]]:
    """Records with the good schema, and the labels of the other lines."""
    if fmt == "parquet":
        table = pq.read_table(part)
        if table.schema == SCHEMA:
            return table.to_pandas(), []
        names = set(table.schema.names)
        kind = "drift_missing" if names < set(FIELD_NAMES) else "drift_retyped"
        return pd.DataFrame(), ["drift_extra" if names > set(FIELD_NAMES) else kind] * len(table)
    good, bad = [], []
    for line in part.read_bytes().split(b"\n")[:-1]:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            bad.append("malformed")
            continue
        drift = _drift_kind(record)
        if drift is None:
            good.append(record)
        else:
            bad.append(drift)
    return pd.DataFrame(good, columns=list(FIELD_NAMES)), bad


def read_back(root: Path, fmt: str) -> tuple[pd.DataFrame, dict[str, Counter[str]]]:
    """Rows (partition, label, record fields) and label counts per partition, from disk."""
    rows: list[pd.DataFrame] = []
    labels: dict[str, Counter[str]] = {}
    for partition in sorted(root.glob("dt=*/hour=*")):
        hour = _hour(partition)
        parts = [_read_part(p, fmt) for p in sorted(partition.glob(f"part-*.{fmt}"))]
        frame = pd.concat([f for f, _ in parts if len(f)], ignore_index=True)
        frame["event_hour"] = pd.to_datetime(frame["event_time"], utc=True, format="ISO8601")
        frame["event_hour"] = frame["event_hour"].dt.floor("h")
        frame["label"] = "valid"
        frame.loc[frame["event_hour"] < hour, "label"] = "late"
        frame.loc[frame["event_id"].duplicated(), "label"] = "duplicate"
        bad = pd.DataFrame({"label": [label for _, labels in parts for label in labels]})
        frame = pd.concat([frame, bad], ignore_index=True)
        frame["partition_hour"] = hour
        labels[str(partition.relative_to(root))] = Counter(frame["label"])
        rows.append(frame)
    return pd.concat(rows, ignore_index=True), labels


@pytest.fixture(scope="module", params=["jsonl", "parquet"])
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    fmt = request.param
    tmp = generate(tmp_path_factory.mktemp(fmt), fmt)
    frame, labels = read_back(tmp / "landing", fmt)
    return fmt, tmp, frame, labels, load_ledger(tmp)


def test_every_label_is_exercised(run: Any) -> None:
    fmt, _, frame, _, ledger = run
    expected = set(LABELS) - ({"malformed"} if fmt == "parquet" else set())
    assert set(frame["label"]) == expected
    assert set(ledger["label"]) == expected


def test_ledger_written_equals_generated(run: Any) -> None:
    *_, ledger = run
    assert (ledger["written"] == ledger["generated"]).all()
    assert ledger["acked"].isna().all()


def test_label_totals_per_partition_match_files(run: Any) -> None:
    _, _, _, labels, ledger = run
    for partition, counts in labels.items():
        stamp = pd.Timestamp(partition[3:13] + "T" + partition[-2:] + ":00", tz="UTC")
        mine = ledger[ledger["partition_hour"] == stamp].groupby("label")["written"].sum()
        assert dict(counts) == {k: int(v) for k, v in mine.items() if v}, partition


def test_counts_per_key_match_files_exactly(run: Any) -> None:
    _, _, frame, _, ledger = run
    keys = ["partition_hour", "event_hour", "campaign_id", "ad_id", "event_type", "label"]
    mine = frame[frame["label"].isin(["valid", "late", "duplicate"])]
    recount = mine.groupby(keys).size().rename("n").reset_index()
    theirs = ledger[ledger["label"].isin(["valid", "late", "duplicate"])]
    merged = recount.merge(theirs, on=keys, how="outer")
    assert merged["n"].notna().all() and merged["written"].notna().all()
    assert (merged["n"] == merged["written"]).all()


def test_expected_counts_equal_a_deduplicating_pipeline(run: Any) -> None:
    _, _, frame, _, ledger = run
    good = frame[frame["label"].isin(["valid", "late"])]
    keys = ["campaign_id", "ad_id", "event_hour"]
    counts = good.pivot_table(index=keys, columns="event_type", values="event_id", aggfunc="count")
    counts = counts.reindex(columns=["impression", "click", "conversion"]).fillna(0)
    spend = good.groupby(keys)["spend"].sum()
    truth = expected_counts(ledger).set_index(keys)
    assert len(truth) == len(counts)
    for kind in ("impression", "click", "conversion"):
        assert (truth[f"{kind}s"] == counts[kind].reindex(truth.index)).all()
    assert truth["spend"].to_numpy() == pytest.approx(spend.reindex(truth.index).to_numpy())
    late = frame[frame["label"] == "late"]
    assert (late["event_hour"] < late["partition_hour"]).all()
    assert (late["event_hour"] >= pd.Timestamp("2026-03-01T22:00", tz="UTC")).all()


def test_markers_match_their_partition(run: Any) -> None:
    fmt, tmp, _, labels, _ = run
    root = tmp / "landing"
    assert len(labels) == 4  # 22:40 .. 01:58
    for partition, counts in labels.items():
        marker = json.loads((root / partition / "_SUCCESS").read_text())
        assert marker["schema_version"] == 1 and marker["format"] == fmt
        assert marker["labels"] == {label: counts.get(label, 0) for label in LABELS}
        assert marker["records"] == sum(counts.values())
        assert marker["valid"] == counts["valid"] + counts["late"]
        files = sorted(p.name for p in (root / partition).iterdir() if p.name.startswith("part-"))
        assert sorted(f["name"] for f in marker["files"]) == files
        for entry in marker["files"]:
            assert (root / partition / entry["name"]).stat().st_size == entry["bytes"]
        assert not [p for p in (root / partition).iterdir() if p.name.startswith(".")]


def test_summary(run: Any) -> None:
    _, tmp, frame, _, _ = run
    summary = json.loads((tmp / "ledger" / "summary.json").read_text())
    assert summary["complete"] is True and summary["ledger_version"] == 1
    assert summary["totals"]["written"]["records"] == len(frame)
    assert summary["totals"]["acked"] is None
    assert len(summary["partitions"]) == 4


def test_acked_column_for_kafka(tmp_path: Path) -> None:
    """The Kafka producer's path: count a batch, add it as generated and (partly) acked."""
    source = EventSource(SourceConfig(seed=3, rate=parse_rate("50 events/s"), bad_data=BAD))
    writer = LedgerWriter(tmp_path, source.model.catalog, info={}, kafka=True)
    sent = acked = 0
    for window, events in source.batches(1200):
        writer.add(window.hour_ms, writer.count(window.hour_ms, events), "generated")
        half = events.take(np.arange(len(events)) % 2 == 0)  # "acknowledged" rows
        writer.add(window.hour_ms, writer.count(window.hour_ms, half), "acked")
        sent, acked = sent + len(events), acked + len(half)
    writer.close()
    ledger = load_ledger(tmp_path)
    assert ledger["generated"].sum() == sent and ledger["acked"].sum() == acked
    assert ledger["written"].sum() == 0
    truth = expected_counts(ledger, "acked")
    valid = ledger[ledger["label"].isin(["valid", "late"])]["acked"].sum()
    assert truth[["impressions", "clicks", "conversions"]].to_numpy().sum() == valid
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["totals"]["acked"]["records"] == acked
