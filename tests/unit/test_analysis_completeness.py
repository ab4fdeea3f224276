"""Data completeness: the ledger against serving.parquet, with lost and duplicated events."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from dagstorm.analysis.measures.data.completeness import data_completeness
from dagstorm.workloads.sinks.ledger import KEY_COLUMNS

C1, C2 = 1000001, 1000002
A1, A2 = 100000001, 100000002


def hour(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


H22, H23, H00 = hour("2026-03-01T22:00"), hour("2026-03-01T23:00"), hour("2026-03-02T00:00")


def ledger_frame(rows: list[tuple[Any, ...]], acked: bool = False) -> pd.DataFrame:
    """rows: (partition_hour, event_hour, campaign, ad, event_type, label, generated, written)."""
    frame = pd.DataFrame(rows, columns=[*KEY_COLUMNS, "generated", "written"])
    for column in ("partition_hour", "event_hour"):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.as_unit("ms")
    frame["acked"] = (frame["written"] if acked else pd.Series([None] * len(frame))).astype("Int64")
    frame["spend_micros"] = frame["generated"] * 1000
    return frame


LEDGER = [
    (H22, H22, C1, A1, "impression", "valid", 100, 100),
    (H22, H22, C1, A1, "click", "valid", 10, 10),
    (H22, H22, C1, A1, "impression", "duplicate", 5, 5),  # copies: counted once
    (H22, H22, C2, A2, "impression", "valid", 50, 50),
    (H22, H22, C2, A2, "impression", "malformed", 3, 3),  # lost to a correct pipeline
    (H23, H22, C1, A1, "impression", "late", 4, 4),  # arrives an hour late, counts in 22:00
    (H23, H23, C2, A2, "conversion", "valid", 7, 6),  # one line never reached a part file
    (H00, H00, C1, A1, "impression", "valid", 20, 20),  # partition never finished
]
#: partition_written events: 22:00 and 23:00 finished, 00:00 not.
PARTITIONS = pd.DataFrame({"dt": ["2026-03-01", "2026-03-01"], "hour": [22, 23]})


def serving(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """rows: (hour, campaign, ad, impressions, clicks, conversions), ids as text."""
    frame = pd.DataFrame(
        rows, columns=["hour", "campaign_id", "ad_id", "impressions", "clicks", "conversions"]
    )
    frame["hour"] = pd.to_datetime(frame["hour"], utc=True)
    frame["campaign_id"] = frame["campaign_id"].astype(str)
    frame["ad_id"] = frame["ad_id"].astype(str)
    return frame


SERVING = [
    (H22, C1, A1, 100, 12, 0),  # 4 impressions lost, 2 clicks duplicated
    (H22, C2, A2, 50, 0, 0),
    (hour("2026-03-01T21:00"), C1, A1, 9, 0, 0),  # an hour this run never generated
    # 23:00 for C2 never loaded: 6 conversions lost
]


def test_lost_and_duplicated_per_hour_and_campaign() -> None:
    m = data_completeness(ledger_frame(LEDGER), serving(SERVING), partitions=PARTITIONS)
    assert m.measured and m.reason is None
    assert m.basis == "written"
    assert (m.lost_events, m.duplicate_events) == (10, 2)
    assert m.total is not None
    assert (m.total.generated, m.total.expected, m.total.loaded) == (171, 170, 162)
    assert m.total.acked is None
    hours = {row.key: row for row in m.per_hour}
    assert set(hours) == {"2026-03-01T22:00:00Z", "2026-03-01T23:00:00Z"}
    h22, h23 = hours["2026-03-01T22:00:00Z"], hours["2026-03-01T23:00:00Z"]
    assert (h22.expected, h22.loaded, h22.lost, h22.duplicated) == (164, 162, 4, 2)
    assert (h23.generated, h23.expected, h23.loaded, h23.lost) == (7, 6, 0, 6)
    campaigns = {row.key: row for row in m.per_campaign}
    assert (campaigns[str(C1)].lost, campaigns[str(C1)].duplicated) == (4, 2)
    assert (campaigns[str(C2)].expected, campaigns[str(C2)].lost) == (56, 6)
    types = {row.key: row for row in m.per_event_type}
    assert (types["click"].duplicated, types["conversion"].lost) == (2, 6)
    assert (m.unfinished_partitions, m.unfinished_partition_events) == (1, 20)
    assert (m.ignored_serving_rows, m.ignored_serving_events) == (1, 9)


def test_bad_records_injected_and_quarantined() -> None:
    loads = pd.DataFrame({"hour": [H22, H23], "bad_records": [3, 0], "duplicate_records": [5, 0]})
    m = data_completeness(
        ledger_frame(LEDGER), serving(SERVING), partitions=PARTITIONS, partition_loads=loads
    )
    bad = m.bad_records
    assert bad.injected_by_label == {"duplicate": 5, "malformed": 3}
    assert (bad.injected, bad.duplicates_injected) == (3, 5)
    assert (bad.quarantined, bad.duplicates_dropped, bad.quarantined_absent) == (3, 5, None)


def test_quarantined_is_not_measured_without_partition_loads() -> None:
    m = data_completeness(ledger_frame(LEDGER), serving(SERVING), partitions=PARTITIONS)
    assert m.bad_records.quarantined is None
    assert m.bad_records.quarantined_absent == "no partition_loads.parquet"


def test_acked_counts_are_the_basis_when_the_workload_sent_to_kafka() -> None:
    m = data_completeness(ledger_frame(LEDGER, acked=True), serving(SERVING), partitions=PARTITIONS)
    assert m.basis == "acked"
    assert m.total is not None and m.total.acked == 170
    assert m.per_hour[0].acked == 164


def test_a_perfect_load_loses_nothing() -> None:
    loaded = serving([(H22, C1, A1, 104, 10, 0), (H22, C2, A2, 50, 0, 0), (H23, C2, A2, 0, 0, 6)])
    m = data_completeness(ledger_frame(LEDGER), loaded, partitions=PARTITIONS)
    assert (m.lost_events, m.duplicate_events) == (0, 0)


def test_without_partition_events_every_partition_is_expected() -> None:
    empty = pd.DataFrame({"dt": [], "hour": []})
    m = data_completeness(ledger_frame(LEDGER), serving(SERVING), partitions=empty)
    assert m.unfinished_partitions == 0
    assert m.lost_events == 30  # the 00:00 partition's 20 impressions are now lost too


def test_without_serving_data_completeness_is_not_measured_never_zero() -> None:
    m = data_completeness(
        ledger_frame(LEDGER),
        None,
        partitions=PARTITIONS,
        absent={"serving": "no serving.parquet in the run directory"},
    )
    assert not m.measured
    assert m.reason == "no serving.parquet in the run directory"
    assert (m.lost_events, m.duplicate_events) == (None, None)
    assert m.total is not None and m.total.expected == 170 and m.total.loaded is None
    assert all(row.loaded is None and row.lost is None for row in m.per_hour)


def test_without_a_ledger_completeness_is_not_measured() -> None:
    m = data_completeness(None, serving(SERVING), partitions=PARTITIONS)
    assert not m.measured
    assert m.reason == "no ledger in the run directory"
    assert m.lost_events is None and m.per_hour == ()


def test_an_empty_serving_table_loses_everything() -> None:
    m = data_completeness(ledger_frame(LEDGER), serving([]), partitions=PARTITIONS)
    assert m.measured
    assert (m.lost_events, m.duplicate_events) == (170, 0)


@pytest.mark.parametrize("ids", ["int", "text"])
def test_ids_match_whether_stored_as_numbers_or_text(ids: str) -> None:
    loaded = serving([(H22, C1, A1, 104, 10, 0), (H22, C2, A2, 50, 0, 0), (H23, C2, A2, 0, 0, 6)])
    if ids == "int":
        loaded["campaign_id"] = loaded["campaign_id"].astype("int64")
        loaded["ad_id"] = loaded["ad_id"].astype("int64")
    m = data_completeness(ledger_frame(LEDGER), loaded, partitions=PARTITIONS)
    assert (m.lost_events, m.duplicate_events) == (0, 0)


def runs(*rows: tuple[str, str]) -> pd.DataFrame:
    """(partition_hour as the workload's conf gives it, last state)."""
    return pd.DataFrame({"partition_hour": [r[0] for r in rows], "state": [r[1] for r in rows]})


def test_a_partition_still_loading_at_the_end_is_in_flight_not_lost() -> None:
    m = data_completeness(
        ledger_frame(LEDGER),
        serving(SERVING),
        partitions=PARTITIONS,
        dag_runs=runs(("2026-03-01T22", "success"), ("2026-03-01T23", "running")),
    )
    assert (m.in_flight_partitions, m.in_flight_partition_events) == (1, 11)
    # The 23:00 partition held 7 conversions and the 4 late impressions of 22:00.
    assert (m.lost_events, m.duplicate_events) == (0, 2)
    assert m.total is not None and m.total.expected == 160


def test_a_success_of_a_run_this_run_did_not_trigger_does_not_load_its_partition() -> None:
    """A run a previous run left queued loaded 23:00 earlier; this run's own is still running."""
    dag_runs = runs(("2026-03-01T22", "success"), ("2026-03-01T23", "success"))
    dag_runs = pd.concat([dag_runs, runs(("2026-03-01T23", "running"))], ignore_index=True)
    dag_runs["triggered"] = [True, False, True]
    m = data_completeness(
        ledger_frame(LEDGER), serving(SERVING), partitions=PARTITIONS, dag_runs=dag_runs
    )
    assert (m.in_flight_partitions, m.in_flight_partition_events) == (1, 11)
    dag_runs["triggered"] = [True, True, True]  # its own earlier run did load it
    m = data_completeness(
        ledger_frame(LEDGER), serving(SERVING), partitions=PARTITIONS, dag_runs=dag_runs
    )
    assert m.in_flight_partitions == 0


def test_a_partition_whose_load_failed_or_succeeded_is_expected() -> None:
    for states in (("failed",), ("failed", "success"), ("running", "success")):
        m = data_completeness(
            ledger_frame(LEDGER),
            serving(SERVING),
            partitions=PARTITIONS,
            dag_runs=runs(*[("2026-03-01T23", s) for s in states]),
        )
        assert m.in_flight_partitions == 0
        assert m.lost_events == 10
