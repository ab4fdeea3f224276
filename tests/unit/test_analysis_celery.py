"""The Celery measure from synthetic journals: queue depth, workers alive, a lost worker's tries."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from dagstorm.analysis.measures.compute import compute_measures
from dagstorm.analysis.outputs.result import analyze, result_document
from dagstorm.analysis.rundata.load import build_run_data, load_run

ORIGIN = 1_772_400_000.0


def _iso(t: float) -> str:
    return datetime.fromtimestamp(ORIGIN + t, tz=UTC).isoformat()


class Journal:
    """Events with increasing seq, ``t`` given."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.add(0.0, "run_start", scenario="celery", time_compression=1)

    def add(self, t: float, kind: str, **fields: Any) -> None:
        seq = len(self.events) + 1
        self.events.append({"v": 1, "seq": seq, "t": t, "wall": ORIGIN + t, "kind": kind, **fields})

    def attempt(self, t: float, task: str, number: int, state: str, start: float,
                *, end: float | None = None) -> None:  # fmt: skip
        self.add(t, "task_try", dag_id="d", run_id="r1", task_id=task, map_index=-1,
                 try_number=number, state=state, start_date=_iso(start),
                 end_date=_iso(end) if end is not None else None)  # fmt: skip

    def fault(self, fault_id: str, t: float, spec: dict[str, Any], reverted: float) -> None:
        self.add(t, "fault_intent", fault_id=fault_id, fault=fault_id, spec=spec)
        self.add(t, "fault_applied", fault_id=fault_id, fault=fault_id, evidence="", took_s=0)
        self.add(reverted, "fault_reverted", fault_id=fault_id, fault=fault_id, took_s=0)

    def write(self, run_dir: Path) -> Path:
        run_dir.mkdir(parents=True, exist_ok=True)
        text = b"".join(orjson.dumps(e) + b"\n" for e in self.events)
        (run_dir / "journal.jsonl").write_bytes(text)
        return run_dir


def kill_journal() -> Journal:
    """A worker killed at 100: a try running 90–130 (seen) failed at 160, retried at 170."""
    j = Journal()
    for t, depth, alive in ((50, 0, 2), (95, 1, 2), (110, 7, 1), (140, 9, 1), (200, 2, 2)):
        j.add(t, "celery_queue", queue="default", depth=depth)
        j.add(t, "celery_workers", alive=alive, total=2, stopped=0)
    # Cumulative per worker: the last sample of each is the run's.
    for t, w1, w2 in ((50, (1, 0, 0), (0, 0, 0)), (200, (3, 1, 0), (4, 4, 1))):
        for worker, (received, succeeded, raised) in (("w1", w1), ("w2", w2)):
            j.add(t, "celery_worker_tasks", worker=worker, received=received,
                  succeeded=succeeded, raised=raised)  # fmt: skip
    j.attempt(90, "lost", 1, "running", 90)
    j.attempt(130, "lost", 1, "running", 90)
    j.attempt(160, "lost", 1, "up_for_retry", 90, end=160)
    j.attempt(170, "lost", 2, "running", 170)
    j.attempt(190, "lost", 2, "success", 170, end=190)
    # Running at the fault on the other worker: it finishes, it is not lost.
    j.attempt(95, "other", 1, "success", 80, end=120)
    # Started after the fault: not running at it.
    j.attempt(150, "later", 1, "failed", 105, end=150)
    # Ended before the fault.
    j.attempt(60, "before", 1, "success", 40, end=60)
    j.fault("f1", 100, {"kind": "celery", "action": "kill", "worker": 1}, reverted=150)
    j.fault("f2", 180, {"kind": "network", "action": "down", "link": "kafka"}, reverted=210)
    j.add(220, "run_end", status="completed")
    return j


def test_a_killed_worker_is_noticed_then_resumed() -> None:
    j = kill_journal()
    data = build_run_data(j.events, run_dir=Path("run"))
    celery = compute_measures(data).celery
    assert celery is not None
    (fault,) = celery.faults
    assert (fault.fault_id, fault.action, fault.worker, fault.fault_t) == ("f1", "kill", 1, 100)
    assert (fault.running, fault.lost, fault.not_resumed) == (2, 1, 0)
    assert fault.noticed_s.p50 == pytest.approx(60) and fault.noticed_s.max == pytest.approx(60)
    assert fault.resumed_s.p50 == pytest.approx(70) and fault.resumed_s.max == pytest.approx(70)


def test_a_mid_task_kill_counts_from_when_it_acted_not_from_when_it_began_waiting() -> None:
    """It waited 2.3 s for a try to run on its worker: that try started after it began."""
    j = Journal()
    j.attempt(62.3, "hit", 1, "running", 62.2)
    j.attempt(105.6, "hit", 1, "up_for_retry", 62.2, end=105.6)
    j.attempt(110.8, "hit", 2, "success", 110.8, end=111.0)
    spec = {"kind": "celery", "action": "kill", "worker": 1, "mid_task": True}
    j.add(60.0, "fault_intent", fault_id="k", fault="kill mid-task", spec=spec)
    j.add(62.3, "fault_applied", fault_id="k", fault="kill mid-task", evidence="", took_s=2.3)
    j.add(150.0, "fault_reverted", fault_id="k", fault="kill mid-task", took_s=0)
    j.add(160.0, "run_end", status="completed")
    celery = compute_measures(build_run_data(j.events, run_dir=Path("run"))).celery
    assert celery is not None
    (fault,) = celery.faults
    assert fault.fault_t == pytest.approx(62.3)
    assert (fault.running, fault.lost, fault.not_resumed) == (1, 1, 0)
    assert fault.noticed_s.max == pytest.approx(43.3)
    assert fault.resumed_s.max == pytest.approx(48.5)


def test_queue_depth_and_workers_over_the_run_and_per_window(tmp_path: Path) -> None:
    # Read from a file: the periodic samples go through the journal scan's frames.
    data = load_run(kill_journal().write(tmp_path / "run"))
    assert len(data.celery_queue) == 5 and len(data.celery_workers) == 5
    celery = compute_measures(data).celery
    assert celery is not None
    assert celery.queues == ("default",)
    assert (celery.samples, celery.depth_max, celery.depth_p95) == (5, 9, 9)
    assert (celery.workers_total, celery.workers_alive_min, celery.workers_stopped_max) == (
        2,
        1,
        0,
    )
    assert [(w.worker, w.received, w.succeeded, w.raised) for w in celery.tasks] == [
        ("w1", 3, 1, 0),
        ("w2", 4, 4, 1),
    ]
    kill, net = celery.windows
    assert (kill.fault_id, kill.samples, kill.depth_max, kill.workers_alive_min) == ("f1", 2, 9, 1)
    assert (net.fault_id, net.samples, net.depth_max, net.workers_alive_min) == ("f2", 1, 2, 2)


def test_a_lost_try_never_retried_counts_as_not_resumed() -> None:
    j = Journal()
    j.attempt(90, "t", 1, "running", 90)
    j.attempt(400, "t", 1, "failed", 90, end=400)
    j.fault("f1", 100, {"kind": "celery", "action": "pause", "worker": 2}, reverted=300)
    data = build_run_data(j.events, run_dir=Path("run"))
    celery = compute_measures(data).celery
    assert celery is not None and celery.samples == 0 and celery.depth_max is None
    (fault,) = celery.faults
    assert (fault.action, fault.running, fault.lost, fault.not_resumed) == ("pause", 1, 1, 1)
    assert fault.noticed_s.max == pytest.approx(300)
    assert fault.resumed_s.count == 0 and fault.resumed_s.p50 is None


def test_a_run_without_celery_has_no_measure() -> None:
    j = Journal()
    j.attempt(90, "t", 1, "success", 10, end=90)
    j.fault("f1", 100, {"kind": "network", "action": "down", "link": "kafka"}, reverted=150)
    assert compute_measures(build_run_data(j.events, run_dir=Path("run"))).celery is None


def test_result_json_has_the_celery_keys(tmp_path: Path) -> None:
    doc = result_document(analyze(kill_journal().write(tmp_path / "run")))
    celery = doc["measures"]["celery"]
    assert set(celery) == {
        "queues",
        "samples",
        "depth_max",
        "depth_p95",
        "workers_total",
        "workers_alive_min",
        "workers_stopped_max",
        "windows",
        "faults",
        "tasks",
    }
    assert celery["tasks"][1] == {"worker": "w2", "received": 4, "succeeded": 4, "raised": 1}
    (fault,) = celery["faults"]
    assert fault["noticed_s"]["p50"] == pytest.approx(60)
    assert fault["resumed_s"]["max"] == pytest.approx(70)
    assert set(fault) >= {"fault_id", "action", "worker", "fault_t", "running", "lost"}
    assert set(celery["windows"][0]) >= {"depth_max", "depth_p95", "workers_alive_min"}
