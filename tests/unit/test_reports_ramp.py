"""Capacity from a hand-built capacity-ramp journal with known answers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from dagstorm.analysis.load import RunData, load_run
from dagstorm.reports.capacity import ramp_answer, ramp_section
from dagstorm.reports.ramp import has_ramp, ramp_capacity

ORIGIN = 1_800_000_000.0
SCENARIO: dict[str, Any] = {
    "workloads": [
        {
            "kind": "ad_logs",
            "rate": "2TB/day",
            "scale": "1/20000",
            # Three steps over 3 sim hours = 360 s wall at ×30: [0,120) [120,240) [240,360).
            "shape": {"kind": "ramp", "start": 1, "end": 4, "begin": 0, "until": 10800, "steps": 3},
        }
    ]
}


def iso(t: float) -> str:
    return datetime.fromtimestamp(ORIGIN + t, UTC).isoformat()


def run(
    seq: list[int], run_id: str, queued: float, elapsed: float, wait: float
) -> list[dict[str, Any]]:
    """A run of ad_logs_hourly: three tasks of 10 s (sensor), 20 s (Spark), 5 s (load) wall,
    each queued ``wait`` seconds before it starts."""
    events: list[dict[str, Any]] = []

    def emit(t: float, kind: str, **fields: Any) -> None:
        seq[0] += 1
        events.append({"seq": seq[0], "t": t, "kind": kind, **fields})

    t = queued + 1
    for task, took in (
        ("wait_for_partition", 10.0),
        ("aggregate_small", 20.0),
        ("load_serving", 5.0),
    ):
        start = t + wait
        emit(
            start + took,
            "task_try",
            dag_id="ad_logs_hourly",
            run_id=run_id,
            task_id=task,
            map_index=-1,
            try_number=1,
            state="success",
            queued_when=iso(t),
            start_date=iso(start),
            end_date=iso(start + took),
        )
        t = start + took
    emit(
        queued + elapsed,
        "dag_run",
        dag_id="ad_logs_hourly",
        run_id=run_id,
        state="success",
        run_type="manual",
        queued_at=iso(queued),
        start_date=iso(queued + 1),
        end_date=iso(queued + elapsed),
        logical_date=iso(queued),
        conf={},
    )
    emit(queued, "dag_triggered", dag_id="ad_logs_hourly", run_id=run_id, ok=True)
    return events


def journal() -> list[dict[str, Any]]:
    seq = [1]
    events: list[dict[str, Any]] = [
        {
            "seq": 1,
            "t": 0.0,
            "wall": ORIGIN,
            "kind": "run_start",
            "scenario": "ramp",
            "time_compression": 30,
            "slos": [{"sla": {"dag": "ad_logs_hourly", "within": "2h", "compliance": ">= 95%"}}],
        },
    ]
    for step, (rate, elapsed, wait) in enumerate([(1e6, 60, 1), (2e6, 120, 5), (3e6, 200, 9)]):
        lo = step * 120.0
        events.append(
            {
                "seq": 100 + step,
                "t": lo + 60,
                "kind": "workload_stats",
                "workload": "ad-logs",
                "workload_kind": "ad_logs",
                "records": 1000,
                "bytes": rate * 60,
                "interval_s": 60.0,
            }
        )
        events += run(seq, f"r{step}a", lo + 10, elapsed, wait)
        # The third step's second run is 300 s wall = 150 min sim: over the 2 h deadline.
        events += run(seq, f"r{step}b", lo + 50, 300 if step == 2 else elapsed, wait)
    events.append({"seq": 999, "t": 700.0, "kind": "run_end", "status": "completed"})
    return events


def loaded(tmp_path: Path, events: list[dict[str, Any]]) -> RunData:
    """The events written as a journal and read back as the report reads a run."""
    (tmp_path / "journal.jsonl").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    return load_run(tmp_path)


def capacity(data: RunData, scenario: dict[str, Any]) -> Any:
    assert data.journal is not None
    return ramp_capacity(data, data.journal.frame("workload_stats"), scenario)


def test_known_answers(tmp_path: Path) -> None:
    ramp = capacity(loaded(tmp_path, journal()), SCENARIO)
    assert ramp is not None
    assert [s.factor for s in ramp.steps] == [1.0, 2.0, 3.0]
    assert [s.runs for s in ramp.steps] == [2, 2, 2]
    assert [s.compliance for s in ramp.steps] == [1.0, 1.0, 0.5]
    assert [s.holds for s in ramp.steps] == [True, True, False]
    assert [s.wall_bytes_per_s for s in ramp.steps] == [1e6, 2e6, 3e6]
    assert (ramp.sustained, ramp.broke) == (1, 2)
    # Stage medians in sim seconds (wall × 30): sensor 10 s → 300, Spark 20 s → 600,
    # load 5 s → 150; queueing = 3 tasks × wait.
    assert ramp.steps[0].stages == {
        "sensor wait": 300.0,
        "queueing": 90.0,
        "Spark": 600.0,
        "load": 150.0,
    }
    assert ramp.steps[1].stages["queueing"] == 450.0
    # Queueing grew first (+360 s sim at step 2); the other stages stayed flat.
    assert ramp.bottleneck == ("queueing", 1, 360.0)
    # Sustained 2 MB/s wall = 66.7 kB/s sim = 1.33 GB/s at full scale (×20000), against
    # 2 TB/day = 23.1 MB/s: 57.6 × the target.
    assert ramp.sustained_sim_bytes_per_s == pytest.approx(2e6 / 30)
    assert ramp.full_scale_bytes_per_s == pytest.approx(2e6 / 30 * 20000)
    assert ramp.headroom == pytest.approx(2e6 / 30 * 20000 / (2e12 / 86400))
    answer = ramp_answer(ramp)
    assert answer[0].startswith("Measured: the highest sustained rate within the SLA")
    assert "step 2 (×2), 2 MB/s wall" in answer[0]
    assert answer[1] == "Measured: it broke at step 3 (×3), SLA 50.0%."
    assert "was queueing (+6m sim per run at step 2)" in answer[2]
    assert answer[3].startswith("Extrapolated (linear in volume")
    assert "57.60× the target 2TB/day" in answer[3]
    html = str(ramp_section(ramp))
    assert html.count("<tr>") == 4 and "breaks" in html


def test_not_a_ramp(tmp_path: Path) -> None:
    data = loaded(tmp_path, journal())
    flat = {"workloads": [{"kind": "ad_logs", "rate": "2TB/day"}]}
    assert not has_ramp(flat) and has_ramp(SCENARIO)
    assert capacity(data, flat) is None
    assert "not measured" in str(ramp_section(None))


def test_a_ramp_that_never_breaks_and_never_holds(tmp_path: Path) -> None:
    events = [e for e in journal() if e.get("run_id") not in {"r2b"}]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ramp = capacity(loaded(tmp_path / "a", events), SCENARIO)
    assert ramp is not None and (ramp.sustained, ramp.broke) == (2, None)
    assert "never broke" in ramp_answer(ramp)[1]
    strict = {"sla": {"dag": "ad_logs_hourly", "within": "20m", "compliance": ">= 95%"}}
    events[0] = {**events[0], "slos": [strict]}
    ramp = capacity(loaded(tmp_path / "b", events), SCENARIO)
    assert ramp is not None and (ramp.sustained, ramp.broke) == (None, 0)
    assert ramp.headroom is None
    assert ramp_answer(ramp)[0].startswith("Measured: not even the first step met the SLA")
