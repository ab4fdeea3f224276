"""Live SLO checks: only abort: true SLOs, and only on what has certainly failed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from dagstorm.analysis.verdict.live import live_check

ORIGIN = datetime(2026, 3, 1, 22, 0, tzinfo=UTC).timestamp()


def iso(t: float) -> str:
    return datetime.fromtimestamp(ORIGIN + t, UTC).isoformat()


def journal(tmp_path: Path, slos: list[dict[str, Any]], body: list[dict[str, Any]]) -> Path:
    events = [{"seq": 1, "t": 0, "wall": ORIGIN, "kind": "run_start", "time_compression": 1,
               "slos": slos}]  # fmt: skip
    for n, event in enumerate(body, start=2):
        events.append({"seq": n, "wall": ORIGIN + event["t"], **event})
    path = tmp_path / "journal.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    return path


def run(run_id: str, queued: float, end: float | None, state: str) -> dict[str, Any]:
    return {
        "t": end or queued,
        "kind": "dag_run",
        "dag_id": "d",
        "run_id": run_id,
        "state": state,
        "queued_at": iso(queued),
        "end_date": iso(end) if end is not None else None,
    }


SLA = {"type": "sla", "dag": "d", "within": 60, "compliance": ">= 90%", "abort": True}


def test_a_missed_sla_aborts_only_when_marked(tmp_path: Path) -> None:
    body = [run("a", 0, 30, "success"), run("b", 10, 100, "success")]
    assert live_check(journal(tmp_path, [SLA], body)) == ["sla:d"]
    assert live_check(journal(tmp_path, [{**SLA, "abort": False}], body)) == []


def test_a_run_still_within_its_deadline_does_not_abort(tmp_path: Path) -> None:
    body = [run("a", 0, 30, "success"), run("b", 40, None, "running"), {"t": 90, "kind": "log"}]
    assert live_check(journal(tmp_path, [SLA], body)) == []


def test_recovery_aborts_once_waiting_already_fails_the_target(tmp_path: Path) -> None:
    slo = {"type": "recovery_time", "max": "<= 1m", "abort": True}
    fault = [
        {"t": 10, "kind": "fault_applied", "fault_id": "f", "fault": "x", "took_s": 0},
        {"t": 20, "kind": "fault_reverted", "fault_id": "f", "fault": "x"},
    ]
    waiting = [*fault, {"t": 70, "kind": "log"}]
    assert live_check(journal(tmp_path, [slo], waiting)) == []
    too_long = [*fault, {"t": 81, "kind": "log"}]
    assert live_check(journal(tmp_path, [slo], too_long)) == ["recovery_time:max"]
    still_in_effect = [fault[0], {"t": 500, "kind": "log"}]
    assert live_check(journal(tmp_path, [slo], still_in_effect)) == []


def test_counts_are_never_judged_live(tmp_path: Path) -> None:
    slo = {"type": "lost_events", "max": 0, "abort": True}
    assert live_check(journal(tmp_path, [slo], [{"t": 5, "kind": "log"}])) == []


def test_a_runs_checks_read_on_from_where_they_stopped_and_keep_no_samples(
    tmp_path: Path,
) -> None:
    from dagstorm.analysis.verdict.live import LiveChecks

    path = journal(tmp_path, [SLA], [run("a", 0, 30, "success"), run("b", 40, None, "running")])
    checks = LiveChecks()
    assert checks(path) == []  # b is still within its minute
    kept = len(checks._events)
    samples = [
        {"seq": 10 + i, "t": 50 + i, "wall": ORIGIN + 50 + i, "kind": "statsd",
         "metric": "scheduler.heartbeat", "type": "counter", "value": 1.0}
        for i in range(60)
    ]  # fmt: skip
    with path.open("ab") as handle:
        handle.write(b"".join(orjson.dumps(e) + b"\n" for e in samples))
    # Nothing but samples came: b, unfinished at t = 109, is past its 60 s deadline — the
    # latest sample says what time it is — so it missed it for good: 1 of 2 met.
    assert checks(path) == ["sla:d"]
    assert len(checks._events) == kept  # the samples were not kept
    assert checks._follower is not None and checks._follower.offset == path.stat().st_size
