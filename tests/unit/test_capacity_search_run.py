"""The breakpoint search end to end with a fake step runner and the real analysis.

Each "sub-run" is a run directory written by hand (journal + scenario.yaml) for a
pipeline whose limit is known: below ×LIMIT every run of ad_logs_hourly takes 60 s
wall (30 min sim at ×30: met), at or above it 300 s (150 min: missed against 2 h).
The Spark stage's time grows with the rate and the spark-worker's CPU too, so the
limiting stage and resource are known; ``validate``, in no stage of the reference
profile, grows twice as much: the limiting task. The search, its outputs (search.json,
junit.xml, capacity.html, the history line) and the CLI's refusal are checked.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from click.testing import CliRunner

from dagstorm.analysis.outputs.history import read_history
from dagstorm.cli import cli
from dagstorm.core.errors import ExitCode, StackNotRunningError
from dagstorm.harness.capacity import CapacitySearchRun, run_capacity_search, step_scenario
from dagstorm.harness.flow import RunReport, analyse_and_report
from dagstorm.scenarios.loader import LoadedScenario, ScenarioInvalid, load_scenario
from dagstorm.workloads.specs import AdLogsWorkload

ORIGIN = 1_767_225_600.0  # 2026-01-01T00:00:00Z
SCALE = 1 / 20000
SCENARIO = """\
name: cap
duration: 10m
time_compression: 30
workloads:
  - {kind: ad_logs, rate: 2TB/day, scale: 1/20000}
slos:
  - sla: {dag: ad_logs_hourly, within: 2h, compliance: ">= 95%"}
  - lost_events: 0
drain: 1m
capacity:
  search: {start: 1, growth: 2, ceiling: 8, min_runs: 5, max_sub_runs: 2,
           tolerance: 30%, budget: BUDGET, target: 1TB/day}
  verify: {below: 0.9, above: 1.1}
"""


def iso(t: float) -> str:
    return datetime.fromtimestamp(ORIGIN + t, UTC).isoformat()


class FakePipeline:
    """Writes a run directory per sub-run, as a pipeline with a limit at ×``limit`` would."""

    def __init__(
        self, root: Path, limit: float, runs: int = 3, first_ending: dict[str, Any] | None = None
    ) -> None:
        self.root, self.limit, self.runs = root, limit, runs
        #: How the first sub-run ends (run_end's status and reason; ``left_applied``: a
        #: fault applied and never reverted), when not as every other.
        self.first_ending = first_ending
        self.clock = 0.0
        self.count = 0
        self.multipliers: list[float] = []

    def monotonic(self) -> float:
        return self.clock

    def __call__(self, step: LoadedScenario) -> RunReport:
        (spec,) = step.scenario.workloads
        assert isinstance(spec, AdLogsWorkload)
        multiplier = round(spec.scale / SCALE, 6)
        self.multipliers.append(multiplier)
        self.count += 1
        self.clock += 1020.0  # a 17-minute sub-run
        run_dir = self.root / f"{self.count:02d}-{step.scenario.name}"
        run_dir.mkdir(parents=True)
        (run_dir / "scenario.yaml").write_text(yaml.safe_dump(step.resolved), encoding="utf-8")
        events = self.journal(step, multiplier)
        (run_dir / "journal.jsonl").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
        return analyse_and_report(run_dir)

    def journal(self, step: LoadedScenario, m: float) -> list[dict[str, Any]]:
        seq = [0]
        events: list[dict[str, Any]] = []

        def emit(t: float, kind: str, **fields: Any) -> None:
            seq[0] += 1
            events.append({"seq": seq[0], "t": t, "kind": kind, **fields})

        emit(
            0.0,
            "run_start",
            wall=ORIGIN,
            scenario=step.scenario.name,
            time_compression=30,
            slos=[
                {"sla": {"dag": "ad_logs_hourly", "within": "2h", "compliance": ">= 95%"}},
                {"lost_events": 0},
            ],
        )
        elapsed = 60.0 if m < self.limit else 300.0
        if m >= 2:  # from ×2, one run of the DAG this run did not start waits throughout
            emit(1.0, "dag_run", dag_id="ad_logs_hourly", run_id="scheduled__x", state="running",
                 run_type="scheduled", queued_at=iso(0.5), start_date=iso(0.5), end_date=None,
                 logical_date=iso(0.0), conf={})  # fmt: skip
        for k in range(self.runs):
            queued = 10.0 + 120.0 * k
            run_id = f"s{self.count}-r{k}"
            emit(queued, "dag_triggered", dag_id="ad_logs_hourly", run_id=run_id, ok=True)
            t = queued + 1
            for task, took in (
                ("wait_for_partition", 5.0),
                ("validate", 20.0 * m),  # in no stage of the profile, grows the most
                ("aggregate_small", 10.0 * m),
                ("load_serving", 5.0),
            ):
                emit(
                    t + took,
                    "task_try",
                    dag_id="ad_logs_hourly",
                    run_id=run_id,
                    task_id=task,
                    map_index=-1,
                    try_number=1,
                    state="success",
                    queued_when=iso(t),
                    start_date=iso(t),
                    end_date=iso(t + took),
                )
                t += took
            # Above the limit the last run is still running when the sub-run ends: the
            # backlog the next sub-run must not inherit.
            left = m >= self.limit and k == self.runs - 1
            emit(
                queued + elapsed,
                "dag_run",
                dag_id="ad_logs_hourly",
                run_id=run_id,
                state="running" if left else "success",
                run_type="manual",
                queued_at=iso(queued),
                start_date=iso(queued + 1),
                end_date=None if left else iso(queued + elapsed),
                logical_date=iso(queued),
                conf={},
            )
        for t in range(0, 600, 10):
            emit(float(t), "process_stats", component="spark-worker",
                 cpu_pct=min(100.0, 20.0 * m), rss_mb=500.0, processes=2)  # fmt: skip
            emit(float(t), "process_stats", component="airflow-scheduler",
                 cpu_pct=30.0, rss_mb=300.0, processes=1)  # fmt: skip
        for t in range(0, 600, 10):  # Spark's 1 core in use in 2m tenths of the samples
            emit(float(t), "spark_cluster", status="ALIVE", workers_alive=1, cores=1,
                 cores_used=int((t // 10) % 10 < round(2 * m)), active_apps=1)  # fmt: skip
        for t in range(0, 600, 30):
            emit(float(t), "statsd", metric="scheduler.scheduler_loop_duration", type="timer",
                 count=10, p50_ms=100.0 * m, p95_ms=150.0 * m, max_ms=200.0 * m)  # fmt: skip
            # The 1-slot spark_pool has no open slot in 1.5 m tenths of the samples.
            full = (t // 30) % 10 < round(1.5 * m)
            for gauge, value in (
                ("open_slots", 0 if full else 1),
                ("running_slots", int(full)),
                ("queued_slots", 0),
            ):
                emit(float(t), "statsd", metric=f"pool.{gauge}.spark_pool", type="gauge",
                     value=float(value))  # fmt: skip
            emit(float(t), "kafka_lag", topic="ad_events", group="g", lag=1000.0 * m)
        emit(
            60.0,
            "workload_stats",
            workload="ad-logs",
            workload_kind="ad_logs",
            records=1000,
            bytes=1e6 * m * 60,
            interval_s=60.0,
        )
        ending = dict(self.first_ending or {}) if self.count == 1 else {}
        if ending.pop("late_run", False):  # queued 50 s (25 min sim) before the end, going
            emit(950.0, "dag_triggered", dag_id="ad_logs_hourly", run_id="late", ok=True)
            emit(951.0, "dag_run", dag_id="ad_logs_hourly", run_id="late", state="running",
                 run_type="manual", queued_at=iso(950.0), start_date=iso(951.0), end_date=None,
                 logical_date=iso(950.0), conf={})  # fmt: skip
        if ending.pop("left_applied", False):
            emit(400.0, "fault_intent", fault_id="f1", fault="broker kill", spec={})
            emit(401.0, "fault_applied", fault_id="f1", fault="broker kill", evidence="gone",
                 took_s=1.0, journal_id="j1")  # fmt: skip
        emit(1000.0, "run_end", **{"status": "completed", **ending})
        events.sort(key=lambda e: e["t"])
        for number, event in enumerate(events, start=1):
            event["seq"] = number
        return events


class Settler:
    """Stands in for ending leftover runs: records (sub-runs done, DAG, run ids) per call."""

    def __init__(self, pipeline: FakePipeline) -> None:
        self.pipeline = pipeline
        self.calls: list[tuple[int, str, set[str]]] = []

    def __call__(self, dag: str, run_ids: set[str]) -> list[str]:
        self.calls.append((self.pipeline.count, dag, set(run_ids)))
        return sorted(run_ids)


def on_clock(pipeline: FakePipeline, loaded: LoadedScenario) -> CapacitySearchRun:
    """The search of ``loaded`` over ``pipeline`` (its run directories, its clock)."""
    return run_capacity_search(
        loaded, run_step=pipeline, runs_dir=pipeline.root, monotonic=pipeline.monotonic
    )


def scenario(tmp_path: Path, budget: str = "2h") -> LoadedScenario:
    path = tmp_path / "cap.yaml"
    path.write_text(SCENARIO.replace("BUDGET", budget), encoding="utf-8")
    return load_scenario(path)


def test_step_scenario_multiplies_the_scale_and_drops_the_block(tmp_path: Path) -> None:
    loaded = scenario(tmp_path)
    step = step_scenario(loaded, 2.5)
    (spec,) = step.scenario.workloads
    assert isinstance(spec, AdLogsWorkload) and spec.scale == pytest.approx(2.5 * SCALE)
    assert step.scenario.capacity is None and step.scenario.name == "cap-x2_5"
    assert step.scenario.slos == loaded.scenario.slos
    # Overrides the scenario was loaded with (a suite's, a test's) stay in every step.
    shorter = load_scenario(loaded.path, overrides={"duration": "2m", "time_compression": 72})
    step = step_scenario(shorter, 2.0)
    assert (step.scenario.duration, step.scenario.time_compression) == (120.0, 72.0)


def test_the_search_finds_the_known_limit(tmp_path: Path) -> None:
    pipeline = FakePipeline(tmp_path / "runs", limit=3.0)
    history = tmp_path / "history.jsonl"
    settle = Settler(pipeline)
    done = run_capacity_search(
        scenario(tmp_path, budget="4h"),
        run_step=pipeline,
        runs_dir=tmp_path / "runs",
        history=history,
        monotonic=pipeline.monotonic,
        now=lambda: datetime(2026, 12, 6, 23, 0, tzinfo=UTC),
        settle=settle,
    )
    s = done.summary
    # The breaking sub-runs (5th: ×4, 8th: ×3.36, 10th: verify above ×3.70) each left
    # their last run running; it was ended before the next sub-run, and only it.
    assert settle.calls == [
        (5, "ad_logs_hourly", {"s5-r2"}),
        (8, "ad_logs_hourly", {"s8-r2"}),
    ]
    # ×1, ×2 hold (3 runs a sub-run: two sub-runs for 5 runs); ×4 breaks on its first;
    # bisection: ×2.83 holds, ×3.36 breaks; 3.36 / 2.83 = 1.19 is within 30%.
    assert [round(r.multiplier, 2) for r in s.steps] == [1, 2, 4, 2.83, 3.36]
    assert [r.verdict for r in s.steps] == ["holds", "holds", "breaks", "holds", "breaks"]
    assert [len(r.run_dirs) for r in s.steps] == [2, 2, 1, 2, 1]
    assert [(r.met, r.counted) for r in s.steps] == [(6, 6), (6, 6), (0, 3), (6, 6), (0, 3)]
    assert s.steps[2].early and "exceed the 0 that 5 runs may have" in s.steps[2].reason
    assert s.ended == "converged" and not s.bounded_by_wall
    assert s.sustained == pytest.approx(2**1.5) and s.breaking == pytest.approx(2 ** (1.75))
    assert s.sustained is not None and s.breaking is not None
    assert s.sustained < 3.0 <= s.breaking
    interval = s.steps[0].interval
    assert (
        interval is not None
        and interval.high == 1.0
        and interval.low == pytest.approx(0.6097, abs=1e-3)
    )
    # Extrapolated: 2 TB/day × 2.83 at full scale, against the 1 TB/day target.
    rate = 2e12 / 86400
    assert s.sustained_full_scale_bytes_per_s == pytest.approx(rate * 2**1.5)
    assert s.headroom == pytest.approx(2 * 2**1.5)
    # The Spark stage (transform) grew first: 10 s × m wall → +300 s sim at ×2.
    assert s.limiting_stage is not None and s.limiting_stage.stage == "transform"
    assert s.limiting_stage_multiplier == 2
    assert s.limiting_task is not None
    assert (s.limiting_task.task, s.limiting_task.stage) == ("validate", None)
    assert s.limiting_task.multiplier == 2
    assert s.limiting_task.rise_sim_s == pytest.approx(20.0 * 30)  # ×1 → ×2: +20 s wall
    assert s.limiting_cpu is not None and s.limiting_cpu.component == "spark-worker"
    assert s.limiting_memory is None
    check_saturation(s)
    first = s.steps[0].profile
    assert first is not None
    (pool,) = first.pools
    assert (pool.slots, pool.samples) == (1, 40) and pool.full_share == pytest.approx(0.2)
    assert (first.loop_p50_ms, first.kafka_lag_max) == (100.0, 1000.0)
    assert first.spark is not None and first.spark.samples == 120  # two sub-runs of 60
    assert first.spark.saturated_share == pytest.approx(0.2) == first.spark.used_mean
    assert s.steps[2].profile is not None and s.steps[2].profile.kafka_lag_max == 4000.0
    # Verify: 0.9 × 2.83 = 2.55 holds; 1.1 × 3.36 = 3.70 breaks.
    assert [(c.name, c.step.verdict, c.passed) for c in s.verify] == [
        ("below", "holds", True),
        ("above", "breaks", True),
    ]
    assert done.exit_code == ExitCode.OK
    # Every sub-run is a normal run directory whose own result agrees with the step.
    for row in s.steps:
        met = counted = 0
        for run_dir in row.run_dirs:
            result = orjson.loads((Path(run_dir) / "result.json").read_bytes())
            (sla,) = result["measures"]["sla"]
            met, counted = met + sla["met"], counted + sla["met"] + sla["missed"]
        assert (met, counted) == (row.met, row.counted)
    check_outputs(done, history)
    # Had none saturated, the page says how close Spark came up to the break: 70% at
    # ×3.36, not the 80% of ×4, above the breaking step.
    from dataclasses import replace

    from dagstorm.reports.capacity_search import render_search_page

    page = render_search_page(replace(s, saturated_first=None))
    assert "never all in use most of the time up to ×3.364 (at most 70%" in page


def check_saturation(s: Any) -> None:
    """What saturated first in the known search: Spark's core, then spark_pool."""
    # Spark's core all in use: 20% of the samples at ×1, 40% at ×2, 60% at ×2.83 (the
    # first over half, up to the break); ×4, above the breaking step, is not looked at.
    assert s.saturated_first is not None
    assert s.saturated_first.multiplier == pytest.approx(2**1.5)
    assert s.saturated_first.cores == 1
    assert s.saturated_first.share == pytest.approx(0.6)
    # spark_pool full in 20% of the samples at ×1, 30% at ×2, 40% at ×2.83, 50% at ×3.36
    # (the breaking step, the first at half); ×4 is above it.
    assert s.pool_saturated_first is not None
    assert s.pool_saturated_first.multiplier == pytest.approx(2**1.75)
    assert (s.pool_saturated_first.pool, s.pool_saturated_first.slots) == ("spark_pool", 1)


def check_outputs(done: CapacitySearchRun, history: Path) -> None:
    """search.json, junit.xml, the history line and capacity.html of the known search."""
    document = orjson.loads((done.search_dir / "search.json").read_bytes())
    assert document["kind"] == "dagstorm.capacity_search" and document["exit_code"] == 0
    assert document["sustained"] == pytest.approx(2**1.5, abs=1e-6)
    assert document["steps"][0]["interval"]["low"] == pytest.approx(0.6097, abs=1e-3)
    assert [c["passed"] for c in document["verify"]] == [True, True]
    suite = ET.parse(done.search_dir / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["capacity.search.ended"] == "converged"
    assert props["capacity.search.limiting_stage"] == "transform"
    assert props["capacity.search.limiting_task"] == "validate"
    assert (props["capacity.search.pool_saturated_first"] or "").startswith(
        "pool spark_pool at its 1 slot (none open in 50% of the scheduler's samples) from ×3.36"
    )
    assert props["capacity.search.limiting_cpu"] == "spark-worker"
    assert props["capacity.search.saturated_first"] == (
        "Spark at its 1 core (all in use in 60% of the master's samples) from ×2.828"
    )
    assert float(props["capacity.search.headroom"] or 0) == pytest.approx(2 * 2**1.5, rel=1e-5)
    (entry,) = read_history(history)
    assert entry.scenario == "cap" and entry.passed and entry.status == "converged"
    assert entry.measures["capacity_headroom"] == pytest.approx(2 * 2**1.5)
    assert entry.slos == {"verify below": True, "verify above": True}
    page = done.page.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in page and "compliance interval (Wilson)" in page
    assert "the stage whose time grew first was transform" in page
    assert (
        "the task whose time grew first was validate (in no stage) +10.0 min sim per run,"
        " first at ×2" in page
    )
    assert "task validate (median, sim)" in page  # its column in the steps table
    assert document["limiting_task"] == {
        "task": "validate", "stage": None, "multiplier": 2.0, "rise_sim_s": 600.0
    }  # fmt: skip
    assert "Kafka lag (max)" in page and "spark-worker 40%" in page and "100 ms" in page
    # Up to the breaking step (×3.36): 20% × 3.36 = 67%.
    assert "spark-worker CPU 20% → 67% of a core from ×1 to ×3.36" in page
    assert "saturated first: Spark at its 1 core (all in use in 60%" in page
    assert "Spark cores all in use (share of samples)" in page and "20% of 1" in page
    assert "pool saturated first: pool spark_pool at its 1 slot" in page
    assert "in 4 of 5 steps, runs of the SLA&#39;s DAG that the search did not start" in page
    assert props["capacity.search.foreign_runs_most"] == "1"
    assert "spark_pool 20% of 1" in page  # the steps table's fullest pool at ×1


def test_the_wall_budget_ends_the_search_and_says_so(tmp_path: Path) -> None:
    # 17 min a sub-run against a 1 h budget: 3 sub-runs (×1 twice, ×2 once).
    pipeline = FakePipeline(tmp_path / "runs", limit=3.0)
    done = on_clock(pipeline, scenario(tmp_path, budget="1h"))
    s = done.summary
    assert pipeline.multipliers == [1, 1, 2]
    assert s.ended == "budget" and s.bounded_by_wall
    assert [r.verdict for r in s.steps] == ["holds", "undecided"]
    assert (s.sustained, s.breaking) == (1, None)
    # A search the budget ended has no answer to verify (and would overrun it).
    assert s.verify == ()
    assert done.exit_code == ExitCode.SLO_FAILED
    assert "The wall budget ended the search" in done.page.read_text(encoding="utf-8")
    # The next sub-run is expected to take as long as the longest so far (17 min), not
    # the planned 11 min: at 51 min spent, a 65 min budget has no room for another.
    pipeline = FakePipeline(tmp_path / "runs-b", limit=3.0)
    done = on_clock(pipeline, scenario(tmp_path, budget="65m"))
    assert pipeline.multipliers == [1, 1, 2]
    assert done.summary.ended == "budget"


def test_the_budget_bounds_the_verify_runs_too(tmp_path: Path) -> None:
    # The search converges after 8 sub-runs (136 min); a 140 min budget has no room for
    # a 17 min verify run: neither is run, and the search says the budget ended it.
    pipeline = FakePipeline(tmp_path / "runs", limit=3.0)
    done = on_clock(pipeline, scenario(tmp_path, budget="2h20m"))
    s = done.summary
    assert pipeline.count == 8 and s.ended == "converged" and s.bounded_by_wall
    assert [(c.name, c.step.verdict, c.passed) for c in s.verify] == [
        ("below", "undecided", False),
        ("above", "undecided", False),
    ]
    assert {c.step.reason for c in s.verify} == {"not run: it would overrun the budget"}
    assert done.exit_code == ExitCode.SLO_FAILED
    page = done.page.read_text(encoding="utf-8")
    assert (
        "Verify below: ×2.546 must hold, it was not decided (not run: it would overrun the"
        " budget) — NOT as expected." in page
    )


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (KeyboardInterrupt(), ExitCode.INTERRUPTED),
        (StackNotRunningError("down"), ExitCode.INFRASTRUCTURE),
    ],
)
def test_a_verify_run_that_cannot_run_ends_the_search_with_its_code(
    tmp_path: Path, error: BaseException, code: ExitCode
) -> None:
    pipeline = FakePipeline(tmp_path / "runs", limit=3.0)

    def run_step(step: LoadedScenario) -> RunReport:
        if pipeline.count == 8:  # the search took 8 sub-runs: this is verify below's first
            pipeline.count += 1
            raise error
        return pipeline(step)

    done = run_capacity_search(
        scenario(tmp_path, budget="4h"),
        run_step=run_step,
        runs_dir=tmp_path / "runs",
        monotonic=pipeline.monotonic,
    )
    s = done.summary
    assert s.ended == "converged"
    # Verify above is not started after verify below could not run (Ctrl-C, say).
    assert pipeline.count == 9 and [c.name for c in s.verify] == ["below"]
    assert s.verify[0].step.error is not None
    assert s.verify[0].step.reason.startswith("could not run: ")
    assert done.exit_code == code
    document = orjson.loads((done.search_dir / "search.json").read_bytes())
    assert document["exit_code"] == int(code) and not document["passed"]


@pytest.mark.parametrize(
    ("ending", "verdict"),
    [
        # The probes failed: the stack was not observable, the run says nothing.
        (
            {
                "status": "aborted",
                "reason": "300 probe errors (limit 100): the stack is not observable",
            },
            "error",
        ),
        # A fault left applied: the next step would run on a stack still under it.
        ({"status": "completed", "left_applied": True}, "error"),
        # An SLO with `abort: true` failed live: the step broke (k6's abort on a threshold).
        ({"status": "aborted", "reason": "SLO failed live: lost_events"}, "breaks"),
        # A run still going within its deadline: the run leaves it out, the search ends
        # it before the next step, so the step counts it as a miss.
        ({"status": "completed", "late_run": True}, "breaks"),
    ],
)
def test_a_sub_run_that_did_not_complete_never_holds_its_step(
    tmp_path: Path, ending: dict[str, Any], verdict: str
) -> None:
    pipeline = FakePipeline(tmp_path / "runs", limit=3.0, first_ending=ending)
    done = on_clock(pipeline, scenario(tmp_path))
    s = done.summary
    assert len(s.steps) == 1  # the first sub-run (×1) decided the search
    if verdict == "error":
        assert pipeline.count == 1
        assert s.ended == "error" and done.exit_code == ExitCode.INFRASTRUCTURE
        assert [r.verdict for r in s.steps] == ["undecided"]
        assert s.verify == ()
    else:
        assert s.ended == "first step broke" and [r.verdict for r in s.steps] == ["breaks"]
        assert pipeline.multipliers[0] == 1 and set(pipeline.multipliers[1:]) == {1.1}
        if "late_run" in ending:
            assert (s.steps[0].met, s.steps[0].counted) == (3, 4)
            (run_dir,) = s.steps[0].run_dirs
            result = orjson.loads((Path(run_dir) / "result.json").read_bytes())
            (sla,) = result["measures"]["sla"]
            assert (sla["met"], sla["missed"], sla["excluded"]) == (3, 0, 1)
        else:
            assert "aborted live (lost_events)" in s.steps[0].reason


def test_the_block_is_validated_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        SCENARIO.replace("BUDGET", "2h")
        .replace("ceiling: 8", "ceiling: 0.5")
        .replace('- sla: {dag: ad_logs_hourly, within: 2h, compliance: ">= 95%"}\n', ""),
        encoding="utf-8",
    )
    with pytest.raises(ScenarioInvalid) as caught:
        load_scenario(path)
    text = caught.value.render()
    assert f"{path}:10:" in text and "ceiling (0.5) must be >= start (1)" in text
    path.write_text(SCENARIO.replace("BUDGET", "soon"), encoding="utf-8")
    with pytest.raises(ScenarioInvalid) as caught:
        load_scenario(path)
    assert "capacity.search.budget" in caught.value.render()
    path.write_text(
        SCENARIO.replace("BUDGET", "2h").replace(
            '  - sla: {dag: ad_logs_hourly, within: 2h, compliance: ">= 95%"}\n', ""
        ),
        encoding="utf-8",
    )
    with pytest.raises(ScenarioInvalid, match="judges each step by an `sla` SLO"):
        load_scenario(path)


def test_the_cli_refuses_a_scenario_without_a_block_and_prints_a_dry_run(
    tmp_path: Path,
) -> None:
    runner = CliRunner()
    plain = tmp_path / "plain.yaml"
    plain.write_text(
        SCENARIO.split("capacity:", maxsplit=1)[0].replace("BUDGET", "2h"), encoding="utf-8"
    )
    refused = runner.invoke(cli, ["capacity", str(plain)])
    assert refused.exit_code == 2 and "has no capacity: block" in refused.output
    scenario(tmp_path)
    dry = runner.invoke(cli, ["capacity", str(tmp_path / "cap.yaml"), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "×1 growing ×2 to ×8, >= 5 runs a step" in dry.output


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (StackNotRunningError("the stack is down"), ExitCode.INFRASTRUCTURE),
        (KeyboardInterrupt(), ExitCode.INTERRUPTED),
    ],
)
def test_a_step_that_cannot_run_ends_the_search(
    tmp_path: Path, error: BaseException, code: ExitCode
) -> None:
    pipeline = FakePipeline(tmp_path / "runs", limit=3.0)

    def run_step(step: LoadedScenario) -> RunReport:
        if pipeline.count == 2:  # the third sub-run: ×2's first
            raise error
        return pipeline(step)

    done = run_capacity_search(scenario(tmp_path), run_step=run_step, runs_dir=tmp_path / "runs")
    s = done.summary
    assert s.ended == "error" and done.exit_code == code
    assert [r.verdict for r in s.steps] == ["holds", "undecided"]
    assert s.verify == ()  # nothing is verified after an error
    document = orjson.loads((done.search_dir / "search.json").read_bytes())
    assert document["exit_code"] == int(code) and not document["passed"]
    suite = ET.parse(done.search_dir / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("errors") == "1"


def test_the_cli_wires_each_step_to_a_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The command's step runner is `execute_loaded` (the one `dagstorm run` uses); here
    # it writes the fake pipeline's run directories instead of running the engine.
    from dagstorm.cli import run_flow

    pipeline = FakePipeline(tmp_path / "runs", limit=3.0)
    seen: list[tuple[str, Any]] = []

    def execute_loaded(
        settings: Any, loaded: LoadedScenario, runs_dir: Path, *, options: Any
    ) -> RunReport:
        seen.append((loaded.scenario.name, options.history))
        return pipeline(loaded)

    monkeypatch.setattr(run_flow, "execute_loaded", execute_loaded)
    scenario(tmp_path, budget="4h")
    history = tmp_path / "h.jsonl"
    outcome = CliRunner().invoke(
        cli,
        ["capacity", str(tmp_path / "cap.yaml"), "--runs-dir", str(tmp_path / "runs"),
         "--history", str(history)],
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    assert "The search ended: converged" in outcome.output and "search: " in outcome.output
    # Each sub-run is its own scenario, never recorded in the history; the search is.
    assert seen[0] == ("cap-x1", None) and len(seen) == pipeline.count
    assert [e.scenario for e in read_history(history)] == ["cap"]


def test_a_target_in_events_is_kept_and_no_headroom_is_invented(tmp_path: Path) -> None:
    # The workload's rate is in bytes: a target in events cannot be compared with it.
    # The headroom is not measured, and the target is not replaced by the workload's rate.
    path = tmp_path / "cap.yaml"
    path.write_text(
        SCENARIO.replace("BUDGET", "2h").replace("target: 1TB/day", "target: 5k events/s"),
        encoding="utf-8",
    )
    pipeline = FakePipeline(tmp_path / "runs", limit=3.0)
    done = on_clock(pipeline, load_scenario(path))
    s = done.summary
    assert s.target_text == "5k events/s"
    assert s.headroom is None and s.target_bytes_per_s is None
    page = done.page.read_text(encoding="utf-8")
    assert f"headroom not measured: the target {s.target_text} is not a byte rate" in page
