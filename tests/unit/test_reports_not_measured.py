"""A run without DAG runs, tries, serving data or faults still gets a report that says so."""

from __future__ import annotations

from pathlib import Path

import orjson

from dagstorm.analysis import analyze
from dagstorm.reports import render_report


def _journal(run_dir: Path, events: list[dict[str, object]]) -> None:
    run_dir.mkdir(parents=True)
    base = 1_790_000_000.0
    lines = []
    for seq, event in enumerate(events, start=1):
        t = float(event.pop("t"))  # type: ignore[arg-type]
        lines.append(
            orjson.dumps({"v": 1, "seq": seq, "t": t, "wall": base + t, "sim": t * 10, **event})
        )
    (run_dir / "journal.jsonl").write_bytes(b"\n".join(lines) + b"\n")


def test_empty_run_says_not_measured(tmp_path: Path) -> None:
    run_dir = tmp_path / "20260101T000000Z-empty"
    _journal(
        run_dir,
        [
            {
                "t": 0.0,
                "kind": "run_start",
                "scenario": "empty",
                "description": "",
                "seed": 1,
                "time_compression": 10,
                "duration_s": 60,
                "phases": [],
                "slos": [
                    {"type": "sla", "dag": "d", "within": 3600, "compliance": ">= 95%"},
                    {"type": "lost_events", "max": 0},
                ],
            },
            {"t": 60.0, "kind": "run_end", "status": "completed", "reason": ""},
        ],
    )
    html = render_report(run_dir, analyze(run_dir))
    assert "not measured: no run of DAG d in the journal" in html
    assert "not measured: no ledger/ in the run directory" in html
    assert "not measured: no fault was applied in this run" in html
    assert "not measured: no workload_stats events in the journal" in html
    assert "not measured: no process_stats events in the journal" in html
    assert "not recorded: no scenario.yaml in the run directory" in html
    assert "<svg" not in html  # no chart has data: no empty axes either
    assert "NOT MEASURED" in html


def test_no_slo_at_all(tmp_path: Path) -> None:
    run_dir = tmp_path / "20260101T000000Z-bare"
    _journal(
        run_dir,
        [
            {"t": 0.0, "kind": "run_start", "scenario": "bare", "time_compression": 1},
            {
                "t": 5.0,
                "kind": "process_stats",
                "component": "kafka",
                "cpu_pct": 50.0,
                "rss_mb": 400.0,
            },
        ],
    )
    html = render_report(run_dir, analyze(run_dir))
    assert "The scenario declares no SLO" in html
    assert "n/a (no SLO)" in html
    assert html.count("<svg") == 2  # CPU and RSS
