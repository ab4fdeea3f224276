from __future__ import annotations

from pathlib import Path

from dagstorm.run.follow import JournalFollower
from dagstorm.tui.series import MinuteCounts, SecondBins
from dagstorm.tui.state import LOG_LINES, SERIES_WINDOW, RunState, describe


def fed(run_dir: Path) -> RunState:
    state = RunState()
    state.feed_all(JournalFollower(run_dir / "journal.jsonl").read())
    return state


def test_recorded_smoke_run(smoke_run: Path) -> None:
    state = fed(smoke_run)
    assert state.scenario == "smoke" and state.compression == 40.0
    assert state.status == "completed" and state.ended
    assert [p.name for p in state.phases] == ["warm-up", "chaos", "recovery"]
    fault = state.faults["slow-serving-db"]
    assert fault.applied_t is not None and fault.reverted_t is not None and not fault.active
    assert state.total_records == 24567
    assert len(state.dag_runs) == 4
    assert {r.state for r in state.dag_runs.values()} == {"running", "failed"}
    assert state.alerts_by_kind["task_retry"] == 6
    assert "airflow-scheduler" in state.processes
    assert state.statsd["executor.open_slots"] == 8.0
    assert all(line.kind not in ("statsd", "process_stats") for line in state.log)


def test_memory_is_bounded_at_any_rate() -> None:
    state = RunState()
    state.feed({"kind": "run_start", "t": 0.0, "wall": 1000.0, "time_compression": 10})
    for i in range(200_000):
        t = i / 1000
        state.feed({"kind": "workload_stats", "t": t, "records": 1, "bytes": 100})
        if i % 10 == 0:
            state.feed({"kind": "log", "t": t, "level": "info", "message": f"note {i}"})
    assert len(state.records) <= SERIES_WINDOW
    assert len(state.log) == LOG_LINES
    assert state.records.last(state.now_t) == 1000.0
    assert state.total_records == 200_000


def test_dag_run_duration_against_sla() -> None:
    state = RunState()
    state.feed(
        {
            "kind": "run_start",
            "t": 0.0,
            "wall": 1_800_000_000.0,
            "time_compression": 60,
            "slos": [{"type": "sla", "dag": "d", "within": 3600.0}],
        }
    )
    state.feed(
        {
            "kind": "dag_run",
            "t": 70.0,
            "dag_id": "d",
            "run_id": "r1",
            "state": "success",
            "queued_at": "2027-01-15T08:00:10+00:00",
            "end_date": "2027-01-15T08:01:10+00:00",
        }
    )
    row = state.dag_runs[("d", "r1")]
    assert state.run_elapsed_sim(row) == 3600.0
    assert state.sla_within_s == {"d": 3600.0}


def test_task_tries_per_minute_count_each_try_once() -> None:
    state = RunState()
    state.feed({"kind": "run_start", "t": 0.0, "wall": 1_800_000_000.0, "time_compression": 1})
    base = {"dag_id": "d", "run_id": "r", "task_id": "t", "map_index": -1, "try_number": 2}
    running = {**base, "kind": "task_try", "t": 5.0, "state": "running"}
    running["start_date"] = "2027-01-15T08:00:05+00:00"
    state.feed(running)
    state.feed(running)
    state.feed({**running, "t": 70.0, "state": "success", "end_date": "2027-01-15T08:01:05+00:00"})
    assert state.tries_started.get(0) == 1
    assert state.tries_finished.get(1) == 1
    assert state.retries == 1


def test_series_helpers() -> None:
    bins = SecondBins(window=5)
    for t in (0.1, 0.5, 1.2, 9.0):
        bins.add(t, 1)
    assert bins.values(9.5) == [0, 0, 0, 0, 1]
    assert len(bins) == 1
    minutes = MinuteCounts(window=2)
    for t in (-1, 0, 61, 125):
        minutes.add(t)
    assert minutes.series(125, 3) == [0, 1, 1]


def test_describe_unknown_kind_lists_fields() -> None:
    assert describe({"kind": "new_kind", "v": 1, "t": 1.0, "x": 2}) == "x=2"


def test_an_adhoc_fault_is_planned_from_its_intent() -> None:
    state = RunState()
    state.feed_all(
        [
            {
                "kind": "fault_intent",
                "t": 30.0,
                "fault_id": "adhoc1",
                "fault": "x",
                "adhoc": True,
                "duration_s": 60,
            },
            {"kind": "fault_applied", "t": 30.5, "fault_id": "adhoc1", "fault": "x", "took_s": 0.5},
            {"kind": "control_ack", "t": 30.5, "command": "pause", "outcome": "done"},
        ]
    )
    span = state.faults["adhoc1"]
    assert (span.planned_start_s, span.planned_end_s, span.active) == (30.0, 90.0, True)
    assert state.paused
    state.feed({"kind": "control_ack", "t": 31.0, "command": "resume", "outcome": "rejected"})
    assert state.paused
    state.feed({"kind": "control_ack", "t": 32.0, "command": "resume", "outcome": "done"})
    assert not state.paused
