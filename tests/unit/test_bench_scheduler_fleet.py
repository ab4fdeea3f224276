"""bench/scheduler_fleet.py: options, the scenario, the plan, the fleet restored, the figures."""

from __future__ import annotations

import importlib.util
import itertools
import json
import statistics
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from dagstorm.scenarios.loader import load_scenario
from dagstorm.workloads.specs import TriggerStormWorkload

ROOT = Path(__file__).parents[2]
BEGIN = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


def _load(name: str) -> ModuleType:
    if str(ROOT / "bench") not in sys.path:
        sys.path.insert(0, str(ROOT / "bench"))  # the script imports its helpers by name
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bench = _load("scheduler_fleet")
figures = _load("scheduler_fleet_figures")


# --- options -------------------------------------------------------------------------


def test_defaults() -> None:
    s = bench.parse_args([])
    assert s.rounds == 3 and s.duration_s == 300 and s.rate == 1.0
    assert s.dags == ("scheduler_bench_000", "scheduler_bench_001")
    assert s.max_total == 300  # rate x duration
    assert s.drain_s == 120 and s.settle_s == 420
    assert s.runs_dir == Path("runs") and not s.markdown and s.json_path is None


def test_options_are_read() -> None:
    s = bench.parse_args(
        [
            *("--rounds", "5", "--duration", "240", "--rate", "1.5"),
            *("--dags", "scheduler_bench_003, scheduler_bench_007", "--drain", "60"),
            *("--settle", "0", "--runs-dir", "/tmp/r", "--markdown", "--json", "/tmp/f.json"),
        ]
    )
    assert (s.rounds, s.duration_s, s.rate, s.drain_s, s.settle_s) == (5, 240, 1.5, 60, 0)
    assert s.dags == ("scheduler_bench_003", "scheduler_bench_007")
    assert s.max_total == 360
    assert s.markdown and s.json_path == Path("/tmp/f.json") and s.runs_dir == Path("/tmp/r")
    assert bench.parse_args(["--max-total", "50"]).max_total == 50


@pytest.mark.parametrize(
    "argv",
    [
        ["--rounds", "0"],
        ["--rounds", "11"],
        ["--duration", "30"],
        ["--duration", "901"],
        ["--rate", "0"],
        ["--rate", "21"],
        ["--dags", ","],
        ["--dags", "a,a"],
        ["--max-total", "2001"],
        ["--rate", "10", "--duration", "300"],  # 3000 triggers a DAG: over the bound
        ["--drain", "601"],
        ["--settle", "-1"],
    ],
)
def test_out_of_bounds_options_are_usage_errors(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        bench.parse_args(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


# --- the scenario and the plan ----------------------------------------------------------


def test_the_scenario_is_valid_bounded_and_faultless(tmp_path: Path) -> None:
    s = bench.parse_args(["--duration", "240", "--rate", "0.5", "--drain", "90"])
    path = tmp_path / "s.yaml"
    path.write_text(bench.scenario_text(s))
    scenario = load_scenario(path, env={}, pipeline=False).scenario
    assert scenario.duration == 240 and scenario.drain == 90 and scenario.faults == []
    assert len(scenario.workloads) == 2
    storms = [
        (w.kind, w.dag, w.rate, w.max_total, w.duration)
        for w in scenario.workloads
        if isinstance(w, TriggerStormWorkload)
    ]
    assert storms == [
        ("trigger_storm", "scheduler_bench_000", 0.5, 120, 240),
        ("trigger_storm", "scheduler_bench_001", 0.5, 120, 240),
    ]
    assert scenario.probes.airflow_dags == list(s.dags)


@pytest.mark.parametrize(
    ("rounds", "fleet_first", "expected"),
    [
        (1, False, [(1, "A"), (1, "B")]),
        (3, False, [(1, "A"), (1, "B"), (2, "B"), (2, "A"), (3, "A"), (3, "B")]),
        (2, True, [(1, "B"), (1, "A"), (2, "A"), (2, "B")]),
    ],
)
def test_rounds_alternate_with_one_switch_per_round(
    rounds: int, fleet_first: bool, expected: list[tuple[int, str]]
) -> None:
    steps = bench.plan(rounds, fleet_first=fleet_first)
    assert steps == expected
    switches = sum(1 for a, b in itertools.pairwise(steps) if a[1] != b[1])
    assert switches == rounds  # one inside each round, none between


def test_expected_wall_time_of_the_defaults() -> None:
    typical, bound = bench.expected_wall_s(bench.parse_args([]))
    assert 6 * 300 < typical < bound  # six runs of a 300 s storm, then the waits
    assert 40 * 60 <= typical <= 55 * 60  # what docs/benchmarks.md tells the lead
    assert bound <= 2 * 3600
    one, one_bound = bench.expected_wall_s(bench.parse_args(["--rounds", "1"]))
    assert one < typical and one_bound < bound


class FakeFleet:
    """The fleet switch, recording what was asked; ``fail_at`` makes a run raise."""

    def __init__(self, deployed: bool) -> None:
        self.is_deployed = deployed
        self.calls: list[str] = []

    def deployed(self) -> bool:
        return self.is_deployed

    def deploy(self, *, settle: bool) -> None:
        self.calls.append(f"deploy settle={settle}")
        self.is_deployed = True

    def undeploy(self, *, settle: bool) -> None:
        self.calls.append(f"undeploy settle={settle}")
        self.is_deployed = False

    def check_deployed(self) -> None:
        self.calls.append("check")


def runner(fleet: FakeFleet, fail_at: int | None = None) -> Any:
    seen: list[tuple[int, str, bool]] = []

    def run_one(round_no: int, condition: str) -> Any:
        seen.append((round_no, condition, fleet.is_deployed))
        if fail_at is not None and len(seen) == fail_at:
            raise KeyboardInterrupt
        return (round_no, condition)

    return run_one, seen


@pytest.mark.parametrize("was", [False, True])
def test_each_run_sees_its_condition_and_the_fleet_ends_as_it_began(was: bool) -> None:
    fleet = FakeFleet(was)
    run_one, seen = runner(fleet)
    steps = bench.plan(3, fleet_first=was)
    done = bench.run_rounds(steps, fleet, run_one, lambda _: None, [])
    assert done == steps
    assert all(deployed == (condition == "B") for _, condition, deployed in seen)
    assert fleet.is_deployed is was
    switches = [c for c in fleet.calls if c.endswith("settle=True")]
    assert len(switches) == 3
    if was:  # deployed before: checked once, not redeployed for the first B
        assert fleet.calls[0] == "check"
        assert fleet.calls[-1] == "deploy settle=False"  # the last round ends on A
    else:
        assert "check" not in fleet.calls
        assert fleet.calls[-1] == "undeploy settle=False"  # the last round ends on B


@pytest.mark.parametrize("was", [False, True])
def test_an_interrupted_bench_restores_the_fleet(was: bool) -> None:
    fleet = FakeFleet(was)
    run_one, seen = runner(fleet, fail_at=2)  # the second run: the fleet was switched
    said: list[str] = []
    done: list[Any] = []
    with pytest.raises(KeyboardInterrupt):
        bench.run_rounds(bench.plan(2, fleet_first=was), fleet, run_one, said.append, done)
    assert len(seen) == 2 and seen[1][2] is not was
    assert done == [(1, "B" if was else "A")]  # the run that finished is kept
    assert fleet.is_deployed is was
    assert fleet.calls[-1] == ("deploy" if was else "undeploy") + " settle=False"
    assert said[-1].startswith("restoring")


def test_nothing_to_restore_when_the_fleet_is_as_it_began() -> None:
    fleet = FakeFleet(False)
    run_one, _ = runner(fleet, fail_at=1)
    with pytest.raises(KeyboardInterrupt):
        bench.run_rounds(bench.plan(1, fleet_first=False), fleet, run_one, lambda _: None, [])
    assert fleet.calls == []


# --- the figures ---------------------------------------------------------------------


def at(seconds: float) -> datetime:
    return BEGIN + timedelta(seconds=seconds)


def row(
    dag: str, state: str | None, queued: float | None, start: float | None, end: float | None
) -> Any:
    return figures.TryRow(
        dag,
        state,
        None if queued is None else at(queued),
        None if start is None else at(start),
        None if end is None else at(end),
    )


BENCH_DAG = "scheduler_bench_000"
ROWS = [
    # bench: 4 finished in the window (success, failed, up_for_retry, success at 299 s)
    row(BENCH_DAG, "success", 0, 1, 3),
    row(BENCH_DAG, "failed", 10, 14, 20),
    row(BENCH_DAG, "up_for_retry", 20, 22, 30),
    row(BENCH_DAG, "success", 290, 298, 299),
    # bench, not counted as finished: ended at the window's end, still running,
    # never started (a restarted scheduler failed it), skipped
    row(BENCH_DAG, "success", 295, 296, 300),
    row(BENCH_DAG, "running", 100, 102, None),
    row(BENCH_DAG, "failed", 50, None, 60),
    row(BENCH_DAG, "skipped", None, None, 70),
    # started before the window, ended in it: finished, but no delay counted
    row(BENCH_DAG, "success", -20, -10, 5),
    # the fleet: 2 finished
    row("fleet_report_01", "success", 40, 50, 60),
    row("ingest_raw_events", "success", 41, 45, 49),
    row("fleet_features_02", "up_for_reschedule", 60, 61, 62),  # a sensor's poke: not finished
    # another DAG (the reference pipeline)
    row("ad_logs_hourly", "success", 100, 101, 130),
]
WINDOW = figures.Window(BEGIN, at(300))


def is_fleet(dag_id: str) -> bool:
    return dag_id.startswith(("fleet_", "ingest_"))


def test_tries_figures_count_finished_tries_and_delays_in_the_window() -> None:
    b = figures.tries_figures(ROWS, WINDOW, lambda d: d.startswith("scheduler_bench_"))
    assert b.finished == 5  # 4 + the one started before the window
    assert b.per_min == pytest.approx(5 / 5.0)
    # delays of the tries started in [0, 300): 1, 4, 2, 8, 1, 2 s
    assert (b.queued_p50_s, b.queued_p95_s) == (2.0, 8.0)
    f = figures.tries_figures(ROWS, WINDOW, is_fleet)
    assert (f.finished, f.per_min) == (2, pytest.approx(0.4))
    everything = figures.tries_figures(ROWS, WINDOW, lambda _: True)
    assert everything.finished == 8
    empty = figures.tries_figures([], WINDOW, lambda _: True)
    assert (empty.finished, empty.per_min, empty.queued_p50_s) == (0, 0.0, None)


def statsd(t: float, metric: str, p50: float, p95: float, kind: str = "timer") -> dict[str, Any]:
    return {"seq": 1, "t": t, "kind": "statsd", "metric": metric, "type": kind,
            "count": 10, "p50_ms": p50, "p95_ms": p95, "max_ms": p95 * 2}  # fmt: skip


LOOP = "scheduler.scheduler_loop_duration"


def test_loop_figures_are_medians_of_the_intervals_in_the_window() -> None:
    events = [
        statsd(5, LOOP, 100, 300),
        statsd(10, LOOP, 120, 500),
        statsd(15, LOOP, 140, 400),
        statsd(20, LOOP, 160, 350),
        statsd(305, LOOP, 9000, 9000),  # the drain: out of the window
        statsd(10, "scheduler.executor_heartbeat_duration", 7, 7),
        {"seq": 2, "t": 10, "kind": "task_try", "metric": LOOP},
    ]
    assert figures.loop_figures(events, 300.0) == (130.0, 375.0, 4)
    assert figures.loop_figures([], 300.0) == (None, None, 0)


def write_run(
    path: Path,
    *,
    loop: list[tuple[float, float]],
    dagstorm_per_min: float,
    inherited: float | None = 0.25,
) -> Path:
    path.mkdir(parents=True)
    result = {
        "run": {"started_at": "2026-12-07T03:00:00.000Z", "status": "completed"},
        "scenario": {"duration_s": 300.0},
        "measures": {
            "throughput": {
                "median_finished_per_min": dagstorm_per_min,
                "task_queue_delay_s": {"count": 6, "p50": 2.0, "p95": 8.0},
            },
            "inherited": {"runs": 3, "tries": 1, "all_tries": 4, "share": inherited},
        },
    }
    (path / "result.json").write_text(json.dumps(result))
    events = [statsd(5.0 * (i + 1), LOOP, p50, p95) for i, (p50, p95) in enumerate(loop)]
    (path / "journal.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def run_of(tmp_path: Path, name: str, round_no: int, condition: str, **kw: Any) -> Any:
    run_dir = write_run(tmp_path / name, **kw)
    return figures.run_figures(
        run_dir, ROWS, round_no=round_no, condition=condition, is_fleet=is_fleet
    )


def test_run_figures_from_result_json_journal_and_sql(tmp_path: Path) -> None:
    f = run_of(tmp_path, "r1", 1, "B", loop=[(100, 200), (300, 400)], dagstorm_per_min=4.5)
    assert (f.round, f.condition, f.run_dir, f.status) == (1, "B", "r1", "completed")
    assert f.bench.finished == 5 and f.fleet.finished == 2 and f.all.finished == 8
    assert f.dagstorm_bench_per_min == 4.5
    assert (f.dagstorm_queued_p50_s, f.dagstorm_queued_p95_s) == (2.0, 8.0)
    assert (f.loop_p50_ms, f.loop_p95_ms, f.loop_intervals) == (200.0, 300.0, 2)
    assert f.inherited_share == 0.25  # a quarter of its tries came from runs queued before it
    assert figures.window_of(json.loads((tmp_path / "r1" / "result.json").read_text())) == WINDOW


def fake(round_no: int, condition: str, *, bench_rate: float, loop: float | None) -> Any:
    tries = figures.TriesFigures(int(bench_rate * 5), bench_rate, 1.0, 3.0)
    fleet = figures.TriesFigures(0, 0.0 if condition == "A" else 40.0, None, None)
    return figures.RunFigures(
        round=round_no, condition=condition, run_dir=f"{round_no}{condition}", status="completed",
        bench=tries, all=tries, fleet=fleet, dagstorm_bench_per_min=bench_rate - 1,
        dagstorm_queued_p50_s=None, dagstorm_queued_p95_s=None,
        loop_p50_ms=loop, loop_p95_ms=None if loop is None else loop * 3, loop_intervals=60,
    )  # fmt: skip


RUNS = [
    fake(1, "A", bench_rate=400, loop=100),
    fake(1, "B", bench_rate=300, loop=200),
    fake(2, "B", bench_rate=320, loop=None),  # no StatsD in that run: left out of the median
    fake(2, "A", bench_rate=380, loop=120),
    fake(3, "A", bench_rate=420, loop=110),
    fake(3, "B", bench_rate=360, loop=260),
]


def test_summary_medians_per_condition_and_ratios() -> None:
    rows = {r.label: r for r in figures.summary(RUNS)}
    tries = rows["bench DAGs: tries finished / min (SQL)"]
    assert (tries.a, tries.b) == (400.0, 320.0)
    assert tries.ratio == pytest.approx(0.8)
    loop = rows["scheduler loop p50 (StatsD)"]
    assert (loop.a, loop.b) == (110.0, statistics.median([200, 260]))
    assert loop.ratio == pytest.approx(230 / 110)
    fleet = rows["fleet DAGs: tries finished / min (SQL)"]
    assert (fleet.a, fleet.b, fleet.ratio) == (0.0, 40.0, None)  # A is 0: no ratio
    missing = rows["bench DAGs: queued → running p50 (dagstorm)"]
    assert (missing.a, missing.b, missing.ratio) == (None, None, None)
    assert len(rows) == len(figures.FIGURES)


def test_paired_ratios_per_round() -> None:
    ratios = figures.paired_ratios([*RUNS, fake(4, "A", bench_rate=1, loop=1)])
    assert set(ratios) == {1, 2, 3}  # round 4 has no B
    assert ratios[1] == (pytest.approx(0.75), pytest.approx(2.0))
    assert ratios[2] == (pytest.approx(320 / 380), None)


def test_markdown_tables() -> None:
    table = figures.summary_table(figures.summary(RUNS), 3)
    text = figures.render(table, markdown=True).splitlines()
    assert text[0] == (
        "| figure | A: bench DAGs alone (median of 3) | B: fleet deployed (median of 3) | B ÷ A |"
    )
    assert text[1] == "|---|---:|---:|---:|"
    assert "| bench DAGs: tries finished / min (SQL) | 400.0/min | 320.0/min | × 0.80 |" in text
    assert "| scheduler loop p50 (StatsD) | 110 ms | 230 ms | × 2.09 |" in text
    assert "| fleet DAGs: tries finished / min (SQL) | 0.0/min | 40.0/min | n/a |" in text
    assert len(text) == 2 + len(figures.FIGURES)
    per_run = figures.render(figures.rounds_table(RUNS), markdown=True).splitlines()
    assert len(per_run) == 2 + len(RUNS) and per_run[2].startswith("| 1 | A | 1A | completed |")
    assert per_run[0].endswith("| inherited |") and per_run[2].endswith("| n/a |")
    plain = figures.render(figures.rounds_table(RUNS)).splitlines()
    assert len({len(line) for line in plain}) == 1  # fixed width


def test_report_and_json(tmp_path: Path) -> None:
    settings = bench.parse_args(["--markdown"])
    text = bench.report(RUNS, settings)
    assert "round 1: B ÷ A bench tries/min × 0.75, loop p50 × 2.00" in text
    assert "round 2: B ÷ A bench tries/min × 0.84, loop p50 n/a" in text
    assert "| B ÷ A |" in text
    body = json.loads(figures.as_json(RUNS))
    assert len(body["runs"]) == 6 and body["runs"][0]["bench"]["per_min"] == 400
    tries = next(r for r in body["summary"] if r["label"].startswith("bench DAGs: tries"))
    assert tries["ratio"] == pytest.approx(0.8)


def test_a_result_without_the_inherited_measure_reads_as_not_measured(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "old", loop=[], dagstorm_per_min=1.0)
    result = json.loads((run_dir / "result.json").read_text())
    del result["measures"]["inherited"]  # written before dagstorm measured it
    (run_dir / "result.json").write_text(json.dumps(result))
    f = figures.run_figures(run_dir, ROWS, round_no=1, condition="A", is_fleet=is_fleet)
    assert f.inherited_share is None
    assert figures.percent(f.inherited_share) == "n/a"
    assert figures.percent(0.918) == "91.8%"
