from __future__ import annotations

from dagstorm.workloads.dag_trigger import Triggered


def test_a_trigger_outcome_becomes_a_journal_event() -> None:
    ok = Triggered("d", "manual__1", True, 200, 12.345)
    assert ok.event("w", {"partition_hour": "2026-01-05T00"}) == {
        "dag_id": "d",
        "run_id": "manual__1",
        "ok": True,
        "status": 200,
        "latency_ms": 12.3,
        "error": None,
        "workload": "w",
        "conf": {"partition_hour": "2026-01-05T00"},
    }
    failed = Triggered("d", None, False, 0, 3.0, "ConnectError")
    assert failed.event("w")["error"] == "ConnectError"
    assert "conf" not in failed.event("w")
