"""Capacity, computed in the analysis, from a hand-built capacity-ramp run with known answers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from dagstorm.analysis.capacity import Capacity, RampCapacity, capacity_of
from dagstorm.analysis.rundata.load import load_run
from dagstorm.analysis.rundata.model import RunData
from dagstorm.analysis.rundata.stages import STAGES, stage_of
from dagstorm.reports.sections.capacity import capacity_section
from dagstorm.reports.sections.ramp import ramp_answer, ramp_section

ORIGIN = 1_800_000_000.0
#: Three steps over 3 sim hours = 360 s wall at ×30: [0,120) [120,240) [240,360).
RAMP_WORKLOAD = """\
- kind: ad_logs
  rate: 2TB/day
  scale: 1/20000
  shape: {kind: ramp, start: 1, end: 4, begin: 0, until: 10800, steps: 3}
"""
FLAT_WORKLOAD = """\
- kind: ad_logs
  rate: 2TB/day
"""


def scenario_yaml(workloads: str) -> str:
    """A valid resolved scenario around ``workloads`` (a YAML list)."""
    return (
        "name: ramp\nduration: 12m\ntime_compression: 30\nworkloads:\n"
        + workloads
        + "slos:\n- sla: {dag: ad_logs_hourly, within: 2h, compliance: '>= 95%'}\n"
    )


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


def loaded(
    tmp_path: Path, events: list[dict[str, Any]], workloads: str | None = RAMP_WORKLOAD
) -> RunData:
    """The events written as a journal (and the scenario, unless None), read back."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "journal.jsonl").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    if workloads is not None:
        (tmp_path / "scenario.yaml").write_text(scenario_yaml(workloads), encoding="utf-8")
    return load_run(tmp_path)


def ramp_of(data: RunData) -> RampCapacity | None:
    return capacity_of(data).ramp


def test_known_answers(tmp_path: Path) -> None:
    ramp = ramp_of(loaded(tmp_path, journal()))
    assert ramp is not None
    assert (ramp.workload, ramp.dag_id, ramp.target_text) == ("ad-logs", "ad_logs_hourly", ">= 95%")
    assert [s.factor for s in ramp.steps] == [1.0, 2.0, 3.0]
    assert [s.runs for s in ramp.steps] == [2, 2, 2]
    assert [s.compliance for s in ramp.steps] == [1.0, 1.0, 0.5]
    assert [s.holds for s in ramp.steps] == [True, True, False]
    assert [s.wall_bytes_per_s for s in ramp.steps] == [1e6, 2e6, 3e6]
    assert (ramp.sustained, ramp.broke) == (1, 2)
    # Stage medians in sim seconds (wall × 30): sensor 10 s → 300, Spark 20 s → 600,
    # load 5 s → 150; queueing = 3 tasks × wait. The stage map is the reference
    # profile's (the run directory has no pipeline.json: it tested the default one).
    assert ramp.steps[0].stages == {
        "wait": 300.0,
        "queueing": 90.0,
        "transform": 600.0,
        "load": 150.0,
        "check": None,
    }
    assert ramp.steps[1].stages["queueing"] == 450.0
    # Queueing grew first (+360 s sim at step 2); the other stages stayed flat.
    assert ramp.bottleneck is not None
    assert (ramp.bottleneck.stage, ramp.bottleneck.step) == ("queueing", 1)
    assert ramp.bottleneck.rise_sim_s == 360.0
    # Sustained 2 MB/s wall = 66.7 kB/s sim = 1.33 GB/s at full scale (×20000), against
    # 2 TB/day = 23.1 MB/s: 57.6 × the target.
    assert ramp.sustained_sim_bytes_per_s == pytest.approx(2e6 / 30)
    assert ramp.full_scale_bytes_per_s == pytest.approx(2e6 / 30 * 20000)
    assert ramp.headroom == pytest.approx(2e6 / 30 * 20000 / (2e12 / 86400))
    answer = ramp_answer(ramp)
    assert answer[0].startswith("Measured: the highest sustained rate within the SLA")
    assert "step 2 (×2), 2 MB/s wall, 2/2 runs met, 34–100% (95% CI)" in answer[0]
    assert answer[1] == (
        "Measured: it broke at step 3 (×3), SLA 50.0%, 1/2 runs met, 9–91% (95% CI)."
    )
    assert [(s.met, s.counted) for s in ramp.steps] == [(2, 2), (2, 2), (1, 2)]
    assert ramp.steps[2].interval is not None
    assert ramp.steps[2].interval.low == pytest.approx(0.0945, abs=1e-4)
    assert "was queueing (+6m sim per run at step 2)" in answer[2]
    assert answer[3].startswith("Extrapolated (linear in volume")
    assert "57.60× the target 2TB/day" in answer[3]
    html = str(ramp_section(ramp))
    assert html.count("<tr>") == 4 and "breaks" in html
    assert "compliance interval (Wilson)" in html and "1/2" in html


def test_not_a_ramp(tmp_path: Path) -> None:
    capacity = capacity_of(loaded(tmp_path, journal(), FLAT_WORKLOAD))
    assert capacity.ramp is None
    assert "not measured" in str(ramp_section(capacity.ramp))
    # The generated traffic is still measured; no scale declared: nothing extrapolated.
    (row,) = capacity.workloads
    assert (row.workload, row.target_text, row.scale) == ("ad-logs", "2TB/day", None)
    assert row.full_scale_bytes_per_s is None and capacity.generated_vs_target is None


def test_a_ramp_that_never_breaks_and_never_holds(tmp_path: Path) -> None:
    events = [e for e in journal() if e.get("run_id") not in {"r2b"}]
    ramp = ramp_of(loaded(tmp_path / "a", events))
    assert ramp is not None and (ramp.sustained, ramp.broke) == (2, None)
    assert "never broke" in ramp_answer(ramp)[1]
    strict = {"sla": {"dag": "ad_logs_hourly", "within": "20m", "compliance": ">= 95%"}}
    events[0] = {**events[0], "slos": [strict]}
    ramp = ramp_of(loaded(tmp_path / "b", events))
    assert ramp is not None and (ramp.sustained, ramp.broke) == (None, 0)
    assert ramp.headroom is None
    assert ramp_answer(ramp)[0].startswith(
        "Measured: the first measured step (step 1, ×1) already missed the SLA"
    )


def test_a_step_without_runs_is_not_measured_never_a_failure(tmp_path: Path) -> None:
    # Issue 16: step 1 had no run; the ramp held everywhere else. It must not say
    # "not even the first step met the SLA" beside "the SLA never broke".
    events = [e for e in journal() if e.get("run_id") not in {"r0a", "r0b", "r2b"}]
    ramp = ramp_of(loaded(tmp_path, events))
    assert ramp is not None
    assert [s.holds for s in ramp.steps] == [None, True, True]
    assert [s.measured for s in ramp.steps] == [False, True, True]
    assert ramp.steps[0].interval is None and ramp.steps[0].counted == 0
    assert (ramp.sustained, ramp.broke) == (2, None)
    answer = ramp_answer(ramp)
    assert answer[0].startswith("Not measured: step(s) 1 had no counted run")
    assert "step 3 (×3)" in answer[1]
    assert "never broke" in answer[2]
    assert not any("not even" in line or "already missed" in line for line in answer)
    html = str(ramp_section(ramp))
    assert "not measured" in html
    # An unmeasured step in the middle is skipped, not a break.
    events = [e for e in journal() if e.get("run_id") not in {"r1a", "r1b"}]
    ramp = ramp_of(loaded(tmp_path / "mid", events))
    assert ramp is not None
    assert [s.holds for s in ramp.steps] == [True, None, False]
    assert (ramp.sustained, ramp.broke) == (0, 2)


def test_a_verdict_on_one_run_says_so(tmp_path: Path) -> None:
    events = [e for e in journal() if e.get("run_id") not in {"r0b", "r1b", "r2b"}]
    ramp = ramp_of(loaded(tmp_path, events))
    assert ramp is not None and [s.counted for s in ramp.steps] == [1, 1, 1]
    assert "a verdict on one run only" in ramp_answer(ramp)[0]


def test_no_step_measured(tmp_path: Path) -> None:
    events = [e for e in journal() if "run_id" not in e]
    ramp = ramp_of(loaded(tmp_path, events))
    assert ramp is not None and (ramp.sustained, ramp.broke) == (None, None)
    answer = ramp_answer(ramp)
    assert any(line.startswith("Not measured: no step had a run") for line in answer)
    assert not any("never broke" in line for line in answer)


def test_generated_traffic_against_the_declared_target(tmp_path: Path) -> None:
    capacity = capacity_of(loaded(tmp_path, journal()))
    (row,) = capacity.workloads
    # 3 samples of 60 s: (1 + 2 + 3) MB/s × 60 s = 360 MB over 180 s wall.
    assert (row.records, row.bytes, row.active_wall_s) == (3000, 360_000_000, 180.0)
    assert row.wall_bytes_per_s == 2e6
    assert row.sim_bytes_per_s == pytest.approx(2e6 / 30)
    assert row.scale == pytest.approx(1 / 20000)
    assert row.full_scale_bytes_per_s == pytest.approx(2e6 / 30 * 20000)
    assert row.target_ratio == pytest.approx(2e6 / 30 * 20000 / (2e12 / 86400))
    assert capacity.generated_vs_target == row.target_ratio
    assert capacity.scenario_absent is None
    html = str(capacity_section(capacity))
    assert "<code>ad-logs</code>" in html and "5760%" in html


def test_without_a_readable_scenario_targets_are_unknown(tmp_path: Path) -> None:
    absent = capacity_of(loaded(tmp_path / "absent", journal(), None))
    assert absent.scenario_absent == "no scenario.yaml in the run directory"
    broken = loaded(tmp_path / "broken", journal(), None)
    (broken.run_dir / "scenario.yaml").write_text("name: ramp\nduration: -1\n")
    invalid = capacity_of(load_run(broken.run_dir))
    assert invalid.scenario_absent is not None
    assert invalid.scenario_absent.startswith("scenario.yaml unreadable")
    for capacity in (absent, invalid):
        # Measured figures stay; nothing is declared, so no ramp and no extrapolation.
        assert isinstance(capacity, Capacity) and capacity.ramp is None
        (row,) = capacity.workloads
        assert row.wall_bytes_per_s == 2e6 and row.target_text is None


def test_no_workload_stats_is_not_measured(tmp_path: Path) -> None:
    events = [e for e in journal() if e["kind"] != "workload_stats"]
    capacity = capacity_of(loaded(tmp_path, events))
    assert capacity.workloads == () and capacity.generated_vs_target is None
    assert "not measured" in str(capacity_section(capacity))
    # The ramp is still judged (SLA per step); the rate of each step is unknown.
    assert capacity.ramp is not None
    assert [s.wall_bytes_per_s for s in capacity.ramp.steps] == [None, None, None]
    assert capacity.ramp.headroom is None


def test_stages_come_from_the_stage_map() -> None:
    assert STAGES == ("wait", "queueing", "transform", "load", "check")
    stages = {"wait": ("sensor",), "transform": ("aggregate*",), "load": ("load_x",)}
    assert stage_of("sensor", stages) == "wait"
    assert stage_of("aggregate_small", stages) == "transform"
    assert stage_of("aggregate", stages) == "transform"
    assert stage_of("load_x", stages) == "load"
    assert stage_of("load_x_y", stages) is None and stage_of("report", stages) is None
    assert stage_of("sensor", {}) is None
