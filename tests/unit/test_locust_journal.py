"""What the Locust workload journals from the stats file (no Locust process involved)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from dagstorm.analysis.load import load_run
from dagstorm.engine.clock import FakeClock
from dagstorm.engine.journal import RunJournal
from dagstorm.workloads.locust_swarm.stats_journal import StatsJournaler
from dagstorm.workloads.locust_swarm.stats_lines import (
    EndLine,
    StatsTail,
    TriggeredLine,
    WindowLine,
)


def _events(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_stats_lines_become_workload_stats_and_dag_triggered_events(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "journal.jsonl"
    lines = [
        WindowLine(worker=0, second=50, requests=1, records=1, acked=1, latency_ms={80: 1}),
        WindowLine(worker=1, second=50, requests=1, records=1, failed=1, latency_ms={300: 1}),
        TriggeredLine(worker=0, dag_id="d", run_id="manual__1", ok=True, status=200, conf={"x": 1}),
        TriggeredLine(worker=1, dag_id="d", ok=False, status=409, error="already exists"),
        EndLine(complete=True, reason="max_requests", requests=2),
    ]
    (tmp_path / "stats.jsonl").write_text("".join(x.model_dump_json() + "\n" for x in lines))
    with RunJournal(path, clock) as journal:
        journaler = StatsJournaler(journal, "people", "trigger")
        journaler.consume(StatsTail(tmp_path / "stats.jsonl").read())
        assert not [e for e in _events(path) if e["kind"] == "workload_stats"]  # held
        journaler.flush_all()
    events = _events(path)
    triggered = [e for e in events if e["kind"] == "dag_triggered"]
    assert [(e["run_id"], e["ok"], e["status"]) for e in triggered] == [
        ("manual__1", True, 200),
        (None, False, 409),
    ]
    assert triggered[0]["workload"] == "people" and triggered[0]["conf"] == {"x": 1}
    assert triggered[1]["error"] == "already exists"
    (stats,) = [e for e in events if e["kind"] == "workload_stats"]
    assert stats["workload_kind"] == "locust" and stats["user"] == "trigger"
    assert (stats["records"], stats["acked"], stats["failed"], stats["workers"]) == (2, 1, 1, 2)
    assert (stats["p50_ms"], stats["p99_ms"], stats["second"]) == (80.0, 300.0, 50)
    assert journaler.end == EndLine(complete=True, reason="max_requests", requests=2)
    assert journaler.totals == {"requests": 2, "records": 2, "acked": 1, "failed": 1}


def test_the_analysis_counts_runs_the_locust_users_triggered(tmp_path: Path) -> None:
    clock = FakeClock()
    run_dir = tmp_path / "run-dir"
    run_dir.mkdir()
    (tmp_path / "stats.jsonl").write_text(
        TriggeredLine(worker=0, dag_id="d", run_id="r1", ok=True, status=200).model_dump_json()
        + "\n"
    )
    with RunJournal(run_dir / "journal.jsonl", clock) as journal:
        journal.emit("run_start", scenario="s", seed=0, time_compression=1.0, duration_s=10.0)
        StatsJournaler(journal, "people", "trigger").consume(
            StatsTail(tmp_path / "stats.jsonl").read()
        )
        for run_id in ("r1", "scheduled__x"):
            journal.emit("dag_run", dag_id="d", run_id=run_id, state="success")
        journal.emit("run_end", status="completed")
    runs = load_run(run_dir).dag_runs.set_index("run_id")
    assert bool(runs.loc["r1", "triggered"]) is True
    assert bool(runs.loc["scheduled__x", "triggered"]) is False
