"""Completeness of the stream path: the Kafka ledger's acked column vs ad_events_stats rows."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from dagstorm.analysis.measures.compute import compute_measures
from dagstorm.analysis.rundata.load import build_run_data, load_run
from dagstorm.analysis.verdict.judgement import evaluate
from tests.unit.test_analysis_completeness import A1, A2, C1, C2, H22, H23, ledger_frame, serving

ORIGIN = 1_800_000_000.0

#: Acked == written here; C2's click of 23:00 (3 acked) never served; C1 served twice.
KAFKA_LEDGER = [
    (H22, H22, C1, A1, "impression", "valid", 100, 100),
    (H22, H22, C1, A1, "click", "valid", 4, 4),
    (H23, H23, C2, A2, "click", "valid", 3, 3),
    (H23, H23, C2, A2, "impression", "valid", 40, 40),
]
STREAM = [
    (H22, C1, A1, 100, 4, 0),
    (H22, C1, A1, 5, 0, 0),  # a second signal served 5 impressions again
    (H23, C2, A2, 40, 0, 0),
]


def _events(slos: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "seq": 1,
            "t": 0,
            "wall": ORIGIN,
            "kind": "run_start",
            "slos": slos,
            "time_compression": 1,
        },
        {"seq": 2, "t": 90, "wall": ORIGIN + 90, "kind": "run_end", "status": "completed"},
    ]


def _data(slos: list[dict[str, Any]], stream_run: str | None = None, **frames: Any) -> Any:
    events = _events(slos)
    if stream_run is not None:
        run = {"dag_id": "ad_events_stream", "run_id": "r", "state": stream_run}
        events.insert(1, {"seq": 3, "t": 10, "wall": ORIGIN + 10, "kind": "dag_run", **run})
    data = build_run_data(events, run_dir=Path("run"), absent={"ledger": "no ledger/"})
    return replace(data, **frames)


SLOS = [{"lost_events": 0}, {"duplicate_events": 0}]


def test_the_stream_path_is_measured_against_the_acked_column() -> None:
    ledger = ledger_frame(KAFKA_LEDGER, acked=True)
    ledger.loc[0, "acked"] = 98  # two impressions never acknowledged: not expected
    measures = compute_measures(_data(SLOS, stream_ledger=ledger, stream_serving=serving(STREAM)))
    stream = measures.stream_completeness
    assert stream is not None and stream.measured and stream.basis == "acked"
    assert stream.total is not None
    assert (stream.total.generated, stream.total.acked, stream.total.loaded) == (147, 145, 149)
    assert (stream.lost_events, stream.duplicate_events) == (3, 7)
    hours = {row.key: (row.lost, row.duplicated) for row in stream.per_hour}
    assert hours == {"2026-03-01T22:00:00Z": (0, 7), "2026-03-01T23:00:00Z": (3, 0)}
    assert not measures.completeness.measured  # no landing ledger: the landing path is apart


def test_count_slos_judge_the_stream_when_the_landing_path_is_absent() -> None:
    data = _data(SLOS, stream_ledger=ledger_frame(KAFKA_LEDGER, acked=True))
    data = replace(data, stream_serving=serving(STREAM))
    verdict = evaluate(data.scenario.slos, compute_measures(data), compression=1.0)
    lost, dup = verdict.slos
    assert (lost.value, lost.passed, dup.value, dup.passed) == (3.0, False, 5.0, False)
    assert "stream: of 147 expected (acked), 149 loaded" in lost.detail


def test_without_stream_serving_rows_the_stream_is_not_measured_never_zero() -> None:
    data = _data(SLOS, stream_ledger=ledger_frame(KAFKA_LEDGER, acked=True))
    data = replace(data, absent={**data.absent, "stream_serving": "no stream_serving.parquet"})
    measures = compute_measures(data)
    assert measures.stream_completeness is not None
    assert not measures.stream_completeness.measured
    assert measures.stream_completeness.lost_events is None
    verdict = evaluate(data.scenario.slos, measures, compression=1.0)
    assert all(s.value is None and not s.passed for s in verdict.slos)


def test_a_run_without_a_kafka_workload_has_no_stream_measure() -> None:
    assert compute_measures(_data(SLOS)).stream_completeness is None


def test_load_run_reads_the_kafka_ledger_and_the_stream_snapshot(tmp_path: Path) -> None:
    kafka = tmp_path / "ledger" / "kafka"
    kafka.mkdir(parents=True)
    ledger_frame(KAFKA_LEDGER, acked=True).to_parquet(kafka / "counts-00000.parquet")
    (kafka / "summary.json").write_bytes(orjson.dumps({"complete": True}))
    serving(STREAM).to_parquet(tmp_path / "stream_serving.parquet")
    lines = [orjson.dumps(e) for e in _events(SLOS)]
    (tmp_path / "journal.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    data = load_run(tmp_path)
    assert data.stream_ledger is not None and int(data.stream_ledger["acked"].sum()) == 147
    assert data.stream_serving is not None and len(data.stream_serving) == 3
    assert data.ledger is None and "ledger" in data.absent
    stream = compute_measures(data).stream_completeness
    assert stream is not None and (stream.lost_events, stream.duplicate_events) == (3, 5)


def test_an_unreadable_stream_snapshot_is_reported_absent(tmp_path: Path) -> None:
    kafka = tmp_path / "ledger" / "kafka"
    kafka.mkdir(parents=True)
    ledger_frame(KAFKA_LEDGER, acked=True).to_parquet(kafka / "counts-00000.parquet")
    pd.DataFrame({"x": [1]}).to_parquet(tmp_path / "stream_serving.parquet")
    lines = [orjson.dumps(e) for e in _events(SLOS)]
    (tmp_path / "journal.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    data = load_run(tmp_path)
    assert data.stream_serving is None
    assert "lacks column" in data.absent["stream_serving"]


def _cut(ids: tuple[str, ...], rows: list[tuple[Any, ...]]) -> Any:
    from dagstorm.analysis.rundata.signal_cuts import SignalCut

    ledger = ledger_frame(rows, acked=True)
    return SignalCut(ids, int(ledger["acked"].sum()), ledger)


#: Signal s1 covered the 22:00 rows, s2 the 23:00 ones (KAFKA_LEDGER split by signal).
CUTS = (_cut(("s1",), KAFKA_LEDGER[:2]), _cut(("s2",), KAFKA_LEDGER[2:]))
SERVED_S1 = [(H22, C1, A1, 100, 4, 0)]


def test_a_signal_still_being_served_at_the_end_is_in_flight_not_lost() -> None:
    data = _data(
        SLOS,
        stream_ledger=ledger_frame(KAFKA_LEDGER, acked=True),
        stream_serving=serving(SERVED_S1),
        stream_cuts=CUTS,
        stream_served=frozenset({"s1"}),
        stream_run="running",
    )
    stream = compute_measures(data).stream_completeness
    assert stream is not None and stream.total is not None
    assert (stream.lost_events, stream.duplicate_events) == (0, 0)
    assert (stream.in_flight_partitions, stream.in_flight_partition_events) == (1, 43)
    assert stream.total.expected == 104
    lost = evaluate(data.scenario.slos, compute_measures(data), compression=1.0).slos[0]
    assert lost.passed and "1 signal still loading at the end (43 events) left out" in lost.detail


def test_an_unserved_signal_with_no_run_in_flight_is_lost() -> None:
    data = _data(
        SLOS,
        stream_ledger=ledger_frame(KAFKA_LEDGER, acked=True),
        stream_serving=serving(SERVED_S1),
        stream_cuts=CUTS,
        stream_served=frozenset({"s1"}),
        stream_run="success",
    )
    stream = compute_measures(data).stream_completeness
    assert stream is not None and stream.in_flight_partitions == 0
    assert stream.lost_events == 43


def test_read_signal_cuts_reads_what_the_workload_writes(tmp_path: Path) -> None:
    from dagstorm.analysis.rundata.signal_cuts import read_signal_cuts

    for n, (ids, rows) in enumerate(((["s1"], KAFKA_LEDGER[:2]), (["s2", "s3"], KAFKA_LEDGER[2:]))):
        cut = tmp_path / "signals" / f"cut-{n:05d}"
        cut.mkdir(parents=True)
        ledger_frame(rows, acked=True).to_parquet(cut / "counts-00000.parquet")
        summary = {"signal_ids": ids, "records": sum(r[-1] for r in rows)}
        (cut / "summary.json").write_bytes(orjson.dumps(summary))
    cuts = read_signal_cuts(tmp_path)
    assert [(c.signal_ids, c.records) for c in cuts] == [(("s1",), 104), (("s2", "s3"), 43)]
    assert read_signal_cuts(tmp_path / "nowhere") == ()
