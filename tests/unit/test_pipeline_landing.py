"""The landing contract: record checks, the validate task, signals, sample ground truth.

These parts of the pipeline are plain Python, so they run here without Airflow
(the one Airflow name validate uses, AirflowFailException, is faked).
"""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "pipelines" / "dags"
JOBS = ROOT / "pipelines" / "jobs"
TOOLS = ROOT / "pipelines" / "tools"
HOUR = datetime(2024, 5, 1, 13, tzinfo=UTC)


class FakeFail(Exception):
    """Stands in for airflow.sdk.exceptions.AirflowFailException."""


@pytest.fixture(autouse=True)
def pipeline_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for path in (DAGS, JOBS, TOOLS):
        monkeypatch.syspath_prepend(str(path))
    exceptions = types.ModuleType("airflow.sdk.exceptions")
    exceptions.AirflowFailException = FakeFail  # type: ignore[attr-defined]
    exceptions.AirflowException = FakeFail  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "airflow", types.ModuleType("airflow"))
    monkeypatch.setitem(sys.modules, "airflow.sdk", types.ModuleType("airflow.sdk"))
    monkeypatch.setitem(sys.modules, "airflow.sdk.exceptions", exceptions)
    yield


def good(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "event_id": "e1",
        "event_time": "2024-05-01T13:05:00.250Z",
        "campaign_id": 1000001,
        "ad_id": 100000001,
        "pricing_model": "cpc",
        "user_id": "u1",
        "impression_id": "i1",
        "geo": "US",
        "spend": 0.1234567,
        "event_type": "click",
        "device": "mobile",
        "os": "ios",
        "placement": "feed",
        "bid_price": 0.25,
        "schema_version": 1,
    }
    record.update(changes)
    return record


def without(name: str) -> dict[str, Any]:
    return {k: v for k, v in good().items() if k != name}


# -- ad_schema ------------------------------------------------------------------------


def test_a_valid_record_is_normalised() -> None:
    import ad_schema

    record, reason = ad_schema.check_line(json.dumps(good()))
    assert reason is None and record is not None
    assert record["spend"] == "0.123457"  # six places, half-even
    assert record["event_time"] == "2024-05-01T13:05:00.250000Z"
    assert record["hour"] == "2024-05-01T13:00:00Z"
    assert (record["campaign_id"], record["ad_id"]) == ("1000001", "100000001")
    assert tuple(record) == ad_schema.NORMALISED_FIELDS


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"event_id": ', "malformed_json"),
        (b"\xff\xfe", "malformed_json"),
        ("[1, 2]", "not_an_object"),
        (json.dumps(without("user_id")), "missing_field:user_id"),
        (json.dumps(good(ad_id=None)), "missing_field:ad_id"),
        (json.dumps(good(experiment="exp-07")), "unknown_field:experiment"),
        (json.dumps(good(campaign_id="1000001")), "bad_type:campaign_id"),
        (json.dumps(good(ad_id=1.0)), "bad_type:ad_id"),
        (json.dumps(good(ad_id=True)), "bad_type:ad_id"),
        (json.dumps(good(geo=7)), "bad_type:geo"),
        (json.dumps(good(geo="")), "bad_value:geo"),
        (json.dumps(good(event_type="view")), "bad_value:event_type"),
        (json.dumps(good(event_time=1714568700000)), "bad_type:event_time"),
        (json.dumps(good(event_time="yesterday")), "bad_value:event_time"),
        (json.dumps(good(event_time="2024-05-01T13:05:00")), "bad_value:event_time"),
        (json.dumps(good(spend="1.0")), "bad_type:spend"),
        (json.dumps(good(spend=True)), "bad_type:spend"),
        (json.dumps(good(bid_price=-1)), "bad_value:bid_price"),
        (json.dumps(good(schema_version=2)), "bad_value:schema_version"),
        ('{"spend": NaN}', "missing_field:ad_id"),
    ],
)
def test_bad_records_get_a_reason(line: str | bytes, reason: str) -> None:
    import ad_schema

    record, got = ad_schema.check_line(line)
    assert record is None
    assert got == reason


def test_late_events_count_in_their_own_hour_and_offsets_become_utc() -> None:
    import ad_schema

    record, _ = ad_schema.check_line(json.dumps(good(event_time="2024-05-01T09:30:00Z")))
    assert record is not None and record["hour"] == "2024-05-01T09:00:00Z"
    record, _ = ad_schema.check_line(json.dumps(good(event_time="2024-05-01T15:30:00+02:00")))
    assert record is not None and record["hour"] == "2024-05-01T13:00:00Z"


def test_parquet_timestamps_are_accepted() -> None:
    import ad_schema

    record, reason = ad_schema.check_record(
        good(event_time=datetime(2024, 5, 1, 13, 5, tzinfo=UTC))
    )
    assert reason is None and record is not None and record["hour"] == "2024-05-01T13:00:00Z"
    record, reason = ad_schema.check_record(good(event_time=datetime(2024, 5, 1, 13, 5)))
    assert (record, reason) == (None, "bad_value:event_time")


# -- validate -------------------------------------------------------------------------


def test_validate_stages_good_records_and_quarantines_bad_ones(tmp_path: Path) -> None:
    import sample_data
    from ad_pipeline import landing

    sample = sample_data.make_sample(HOUR)
    sample_data.write_partition(tmp_path / "landing", sample, files=3)
    summary = landing.validate_partition(
        str(tmp_path / "landing"), str(tmp_path / "work"), "2024-05-01T13", str(JOBS)
    )
    assert summary["records"] == sample.records == summary["declared_records"]
    assert summary["bad_records"] == len(sample.bad_lines)
    assert summary["valid_records"] == len(sample.events) + len(sample.duplicates)
    assert sum(summary["bad_by_reason"].values()) == len(sample.bad_lines)
    staged = Path(summary["staging_dir"]) / "valid.jsonl"
    assert len(staged.read_text().splitlines()) == summary["valid_records"]
    bad = (Path(summary["quarantine_dir"]) / "bad.jsonl").read_text().splitlines()
    assert {json.loads(line)["reason"] for line in bad} == set(summary["bad_by_reason"])


def test_validate_reads_parquet_too(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from ad_pipeline import landing

    part = tmp_path / "landing" / "ad_logs" / "dt=2024-05-01" / "hour=13"
    part.mkdir(parents=True)
    when = datetime(2024, 5, 1, 13, 5, tzinfo=UTC)
    rows = [good(event_id=f"e{i}", event_time=when) for i in range(5)]
    rows.append(good(event_id="x", event_time=when, spend=-2.0))
    pq.write_table(pa.Table.from_pylist(rows), part / "part-00000.parquet")
    (part / "_SUCCESS").write_text(json.dumps({"records": 6}))
    summary = landing.validate_partition(
        str(tmp_path / "landing"), str(tmp_path / "work"), "2024-05-01T13", str(JOBS)
    )
    assert (summary["valid_records"], summary["bad_by_reason"]) == (5, {"bad_value:spend": 1})


def _partition(tmp_path: Path, lines: list[str], marker: str) -> Path:
    part = tmp_path / "landing" / "ad_logs" / "dt=2024-05-01" / "hour=13"
    part.mkdir(parents=True)
    (part / "part-00000.jsonl").write_text("\n".join(lines) + "\n")
    (part / "_SUCCESS").write_text(marker)
    return tmp_path / "landing"


def test_a_partition_with_zero_valid_records_fails_clearly(tmp_path: Path) -> None:
    from ad_pipeline import landing

    landing_dir = _partition(tmp_path, ["{oops", json.dumps(good(spend="x"))], "")
    with pytest.raises(FakeFail, match="zero valid records"):
        landing.validate_partition(
            str(landing_dir), str(tmp_path / "w"), "2024-05-01T13", str(JOBS)
        )


def test_a_partition_shorter_than_its_marker_says_fails(tmp_path: Path) -> None:
    from ad_pipeline import landing

    landing_dir = _partition(tmp_path, [json.dumps(good())], json.dumps({"records": 2}))
    with pytest.raises(FakeFail, match="declares 2 records"):
        landing.validate_partition(
            str(landing_dir), str(tmp_path / "w"), "2024-05-01T13", str(JOBS)
        )


def test_partition_names_and_the_volume_branch() -> None:
    from ad_pipeline import landing

    assert landing.partition_hour({"partition_hour": "2024-05-01T13"}) == "2024-05-01T13"
    assert landing.partition_hour({}, datetime(2024, 5, 1, 15, 0, tzinfo=UTC)) == "2024-05-01T15"
    with pytest.raises(ValueError, match="partition_hour"):
        landing.partition_hour({}, None)
    assert landing.partition_path("2024-05-01T07") == "ad_logs/dt=2024-05-01/hour=07"
    assert landing.choose_profile({"valid_records": 10}, 10) == "aggregate_heavy"
    assert landing.choose_profile({"valid_records": 9}, 10) == "aggregate_light"


# -- signals ---------------------------------------------------------------------------


def test_a_signal_is_parsed_and_checked() -> None:
    from ad_pipeline import signals

    raw = json.dumps({"signal_id": "b-1", "ranges": {"0": [5, 10], "2": [0, 3]}, "records": 8})
    assert signals.parse_signal(raw) == {
        "signal_id": "b-1",
        "topic": "ad_events",
        "ranges": {"0": [5, 10], "2": [0, 3]},
        "records": 8,
    }


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[]",
        json.dumps({"ranges": {"0": [0, 1]}}),
        json.dumps({"signal_id": "a b", "ranges": {"0": [0, 1]}}),
        json.dumps({"signal_id": "a", "topic": "other", "ranges": {"0": [0, 1]}}),
        json.dumps({"signal_id": "a", "ranges": {"x": [0, 1]}}),
        json.dumps({"signal_id": "a", "ranges": {"0": [3, 1]}}),
        json.dumps({"signal_id": "a", "ranges": {"0": [0, 0]}}),
        json.dumps({"signal_id": "a", "ranges": {"0": [0, 4]}, "records": 5}),
    ],
)
def test_bad_signals_are_rejected(raw: str) -> None:
    from ad_pipeline import signals

    with pytest.raises(signals.BadSignal):
        signals.parse_signal(raw)


class FakeTI:
    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def test_route_signal_goes_to_spark_skip_or_reject() -> None:
    from ad_pipeline import signals

    raw = json.dumps({"signal_id": "s1", "ranges": {"0": [0, 3]}})
    ti = FakeTI()
    assert signals.route_signal(raw, ti, lambda _: False) == "aggregate_events"
    assert ti.pushed["ranges_json"] == '{"0": [0, 3]}'
    assert signals.route_signal(raw, FakeTI(), lambda _: True) == "skip_duplicate"
    rejected = FakeTI()
    assert signals.route_signal("{", rejected, lambda _: False) == "reject_signal"
    assert rejected.pushed["rejection"] == "not JSON"


# -- the sample's ground truth ------------------------------------------------------------


def test_the_sample_truth_matches_its_events() -> None:
    import ad_schema
    import sample_data

    sample = sample_data.make_sample(HOUR, scale=2)
    seen: dict[tuple[str, str, str], dict[str, Any]] = {}
    for event in {e["event_id"]: e for e in sample.events + sample.duplicates}.values():
        record, reason = ad_schema.check_line(json.dumps(event))
        assert reason is None and record is not None
        row = seen.setdefault(
            (record["hour"], record["campaign_id"], record["ad_id"]),
            {"impressions": 0, "clicks": 0, "conversions": 0, "spend": Decimal(0)},
        )
        row[record["event_type"] + "s"] += 1
        row["spend"] += Decimal(record["spend"])
    assert set(seen) == set(sample.truth)
    for key, row in seen.items():
        truth = sample.truth[key]
        assert {k: truth[k] for k in row} == row
    assert {key[0] for key in seen} == {"2024-05-01T12:00:00Z", "2024-05-01T13:00:00Z"}
    reasons = {ad_schema.check_line(line)[1] for line in sample.bad_lines}
    assert None not in reasons and len(reasons) == len(sample.bad_lines)
