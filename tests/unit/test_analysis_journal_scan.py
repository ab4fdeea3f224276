"""The one-pass journal reader: the same analysis as reading every event as a dict."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from dagstorm.analysis.outputs.result import result_document, result_of
from dagstorm.analysis.rundata.journal_scan import scan_journal
from dagstorm.analysis.rundata.load import build_run_data, load_run
from dagstorm.run.journal import read_journal

FIXTURES = Path(__file__).parents[1] / "fixtures"
RUNS = [
    FIXTURES / "report_runs" / "20261124T041804Z-smoke",
    FIXTURES / "journals" / "broker_outage",
]


@pytest.mark.parametrize("run_dir", RUNS, ids=lambda p: p.name)
def test_same_result_as_reading_every_event(run_dir: Path) -> None:
    scanned = result_document(result_of(load_run(run_dir)))
    events = read_journal(run_dir / "journal.jsonl")
    data = load_run(run_dir)
    plain = build_run_data(
        events,
        run_dir=run_dir,
        ledger=data.ledger,
        serving=data.serving,
        partition_loads=data.partition_loads,
        absent=data.absent,
        workloads=data.workloads,
    )
    # The pipeline (its stage map) is read from its own file, not the journal.
    plain = replace(plain, pipeline=data.pipeline)
    assert scanned == result_document(result_of(plain))


def test_counts_and_frames_match_the_events() -> None:
    run_dir = RUNS[0]
    events = read_journal(run_dir / "journal.jsonl")
    scan = scan_journal(run_dir / "journal.jsonl")
    kinds: dict[str, int] = {}
    for event in events:
        kinds[event["kind"]] = kinds.get(event["kind"], 0) + 1
    assert dict(scan.counts) == kinds
    stats = scan.frame("process_stats")
    expected = [(e["seq"], e["component"], e["rss_mb"]) for e in events
                if e["kind"] == "process_stats"]  # fmt: skip
    got = list(zip(stats["seq"].astype(int), stats["component"].astype(str), stats["rss_mb"],
                   strict=True))  # fmt: skip
    assert got == expected
    assert scan.max_t() == max(e["t"] for e in events)


def write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(lines))
    return path


def line(**fields: object) -> bytes:
    return orjson.dumps(fields) + b"\n"


def test_odd_lines_fall_back_and_are_counted_once(tmp_path: Path) -> None:
    journal = write(
        tmp_path / "journal.jsonl",
        [
            line(seq=1, t=0.0, kind="run_start", scenario="x", time_compression=1),
            line(seq=2, t=1.0, kind="statsd", metric="a", type="gauge", value=1.0),
            # Written by hand: a space after the colon, so the kind is not found in bytes.
            b'{"seq": 3, "t": 2.0, "kind": "statsd", "metric": "a", "type": "gauge", "value": 3}\n',
            # A nested "kind" before the event's own: the batch falls back line by line.
            line(seq=4, t=3.0, spec={"kind": "statsd"}, kind="fault_intent", fault_id="f"),
            # A value of another type: Arrow refuses the batch; the value reads as missing.
            line(seq=5, t=4.0, kind="statsd", metric="b", type="gauge", value="high"),
            b"not json at all\n",
            b'{"seq": 6, "t": 5.0, "kind": "statsd", "metric": "torn',
        ],
    )
    scan = scan_journal(journal)
    assert dict(scan.counts) == {"run_start": 1, "statsd": 3, "fault_intent": 1}
    assert [e["kind"] for e in scan.events] == ["run_start", "fault_intent"]
    statsd = scan.frame("statsd")
    assert list(statsd["seq"]) == [2, 3, 5]
    assert list(statsd["value"].fillna(-1)) == [1.0, 3.0, -1]
    assert list(statsd["metric"].astype(str)) == ["a", "a", "b"]
    assert scan.max_t() == 4.0


def test_many_batches_keep_journal_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dagstorm.analysis.rundata.journal_scan as module

    monkeypatch.setattr(module, "READ_BYTES", 333)
    lines = [line(seq=1, t=0.0, kind="run_start", scenario="x", time_compression=1)]
    for seq in range(2, 202):
        lines.append(line(seq=seq, t=seq / 10, kind="process_stats",
                          component=f"c{seq % 3}", cpu_pct=float(seq), rss_mb=1.0))  # fmt: skip
    scan = scan_journal(write(tmp_path / "journal.jsonl", lines))
    frame = scan.frame("process_stats")
    assert list(frame["seq"]) == list(range(2, 202))
    assert list(frame["cpu_pct"]) == [float(s) for s in range(2, 202)]
    assert sorted(set(frame["component"].astype(str))) == ["c0", "c1", "c2"]


def test_the_report_is_unchanged_by_batching(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dagstorm.analysis.rundata.journal_scan as module
    from dagstorm.analysis import analyze
    from dagstorm.reports import render_report

    run_dir = tmp_path / RUNS[0].name
    shutil.copytree(RUNS[0], run_dir)
    whole = render_report(run_dir, analyze(run_dir))
    monkeypatch.setattr(module, "READ_BYTES", 4096)
    assert render_report(run_dir, analyze(run_dir)) == whole


def _line_by_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every block go through the line-by-line reader (the fallback)."""
    import dagstorm.analysis.rundata.journal_scan as module

    monkeypatch.setattr(module, "_scan_block", module._scan_lines)


def _assert_same_scan(fast: object, slow: object) -> None:
    import pandas as pd

    from dagstorm.analysis.rundata.journal_scan import BULK_COLUMNS, JournalScan

    assert isinstance(fast, JournalScan) and isinstance(slow, JournalScan)
    assert dict(fast.counts) == dict(slow.counts)
    assert fast.events == slow.events
    for kind in BULK_COLUMNS:
        pd.testing.assert_frame_equal(fast.frame(kind), slow.frame(kind))


@pytest.mark.parametrize("read_bytes", [4096, 64 * 1024 * 1024])
def test_block_reader_gives_the_line_readers_frames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_bytes: int
) -> None:
    import dagstorm.analysis.rundata.journal_scan as module

    monkeypatch.setattr(module, "READ_BYTES", read_bytes)
    journal = RUNS[0] / "journal.jsonl"
    fast = scan_journal(journal)
    _line_by_line(monkeypatch)
    _assert_same_scan(fast, scan_journal(journal))


def test_a_blank_line_sends_its_block_line_by_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [line(seq=1, t=0.0, kind="run_start", scenario="x", time_compression=1)]
    for seq in range(2, 40):
        lines.append(line(seq=seq, t=seq / 10, kind="statsd", metric=f"m{seq % 4}",
                          type="gauge", value=float(seq)))  # fmt: skip
        if seq == 20:
            lines.append(b"\n")  # Arrow skips it: rows no longer line up with lines
            lines.append(line(seq=100, t=2.0, kind="alert", alert_kind="failure"))
    journal = write(tmp_path / "journal.jsonl", lines)
    fast = scan_journal(journal)
    assert [e["kind"] for e in fast.events] == ["run_start", "alert"]
    assert list(fast.frame("statsd")["seq"]) == list(range(2, 40))
    _line_by_line(monkeypatch)
    _assert_same_scan(fast, scan_journal(journal))


def test_an_event_without_kind_is_kept_as_a_dict(tmp_path: Path) -> None:
    journal = write(
        tmp_path / "journal.jsonl",
        [
            line(seq=1, t=0.0, kind="run_start", scenario="x", time_compression=1),
            line(seq=2, t=1.0, note="no kind"),
            line(seq=3, t=2.0, kind="process_stats", component="c", cpu_pct=1.0, rss_mb=2.0),
        ],
    )
    scan = scan_journal(journal)
    assert dict(scan.counts) == {"run_start": 1, "None": 1, "process_stats": 1}
    assert scan.events[1] == {"seq": 2, "t": 1.0, "note": "no kind"}
    assert list(scan.frame("process_stats")["cpu_pct"]) == [1.0]


def test_samples_out_of_seq_order_are_sorted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dagstorm.analysis.rundata.journal_scan as module

    monkeypatch.setattr(module, "READ_BYTES", 300)  # many blocks, many chunks
    seqs = [5, 3, 9, 2, 2, 7, 4, 8, 6]
    lines = [line(seq=1, t=0.0, kind="run_start", scenario="x", time_compression=1)]
    lines += [line(seq=s, t=float(i), kind="kafka_lag", topic="t", group="g", lag=i)
              for i, s in enumerate(seqs)]  # fmt: skip
    frame = scan_journal(write(tmp_path / "journal.jsonl", lines)).frame("kafka_lag")
    assert list(frame["seq"]) == sorted(seqs)
    assert list(frame["lag"]) == [3.0, 4.0, 1.0, 6.0, 0.0, 8.0, 5.0, 7.0, 2.0]  # stable
    assert list(frame.index) == list(range(len(seqs)))
