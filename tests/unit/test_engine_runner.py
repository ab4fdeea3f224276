"""The runner on a fake clock with fake workloads and faults: order, rollback, exits."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from dagstorm.core.progress import Progress
from dagstorm.engine.runner import Runner
from dagstorm.faults import manager as manager_mod
from dagstorm.faults.base import Fault
from dagstorm.run.clock import FakeClock
from dagstorm.run.journal import read_journal
from dagstorm.scenarios.loader import load_scenario
from dagstorm.stack.config import StackConfig
from dagstorm.stack.embedded.ports import free_port
from dagstorm.workloads.base import Workload

SCENARIO = """\
name: unit
duration: 10m
time_compression: 24
phases:
  - {name: warm-up, duration: 2m}
  - {name: chaos, duration: 8m}
faults:
  - at: 3m
    duration: 1m
    fault: {kind: network, link: airflow-db, effect: latency, latency_ms: 100}
  - at: 5m
    every: 2m
    count: 2
    duration: 30s
    fault: {kind: network, link: kafka, effect: down}
drain: 0
"""

LOG: list[str] = []


class FakeFault(Fault):
    def check_targets(self) -> None:
        LOG.append(f"check {self.spec.kind}")

    def inject(self) -> dict[str, Any]:
        LOG.append(f"inject {self.spec.kind}")
        return {}

    def verify(self) -> str:
        return "fake"

    def revert(self) -> None:
        LOG.append(f"revert {self.spec.kind}")


class FakeWorkload(Workload):
    def start(self) -> None:
        LOG.append("workload start")

    def run(self) -> None:  # never started as a thread here
        raise AssertionError

    def stop(self, timeout: float = 60.0) -> None:
        LOG.append("workload stop")


@pytest.fixture
def runner_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    LOG.clear()
    monkeypatch.setattr(manager_mod, "build_fault", FakeFault)
    monkeypatch.setenv("DAGSTORM_AIRFLOW_USERNAME", "u")
    monkeypatch.setenv("DAGSTORM_AIRFLOW_PASSWORD", "secret-pw")
    monkeypatch.setenv("DAGSTORM_SERVING_DB_DSN", "postgresql://u:p@127.0.0.1:1/x")

    def build(text: str, *, workloads: bool = True) -> Runner:
        path = tmp_path / "s.yaml"
        path.write_text(text)
        config = StackConfig.model_validate(
            {
                "kind": "external",
                "state_dir": str(tmp_path / "state"),
                "ports": {"alert_sink": free_port()},
                "fault_targets": ["kafka"],
                "external": {
                    "airflow_url": "http://127.0.0.1:1",
                    "spark_master_url": "spark://127.0.0.1:1",
                    "kafka_bootstrap": "127.0.0.1:1",
                    "toxiproxy_url": "http://127.0.0.1:1",
                },
            }
        )
        return Runner(
            load_scenario(path, env={}),
            config,
            runs_root=tmp_path / "runs",
            progress=Progress(quiet=True),
            clock=FakeClock(24.0),
            workload_factory=(
                lambda ctx: [FakeWorkload("w", ctx.journal, ctx.clock)] if workloads else []
            ),
            probe_factory=lambda ctx: [],
            reach=lambda stack, part: "answers",  # its endpoints answer nothing
        )

    return build


def _kinds(run_dir: Path) -> list[str]:
    return [e["kind"] for e in read_journal(run_dir / "journal.jsonl")]


def test_the_timeline_runs_in_order_and_every_fault_is_reverted(runner_for: Any) -> None:
    runner = runner_for(SCENARIO, workloads=False)
    outcome = runner.run()
    assert outcome.status == "completed"
    events = read_journal(outcome.run_dir / "journal.jsonl")
    faults = [(e["kind"], e.get("fault_id")) for e in events if e["kind"].startswith("fault_")]
    assert faults == [
        ("fault_intent", "f1"),
        ("fault_applied", "f1"),
        ("fault_reverted", "f1"),
        ("fault_intent", "f2.1"),
        ("fault_applied", "f2.1"),
        ("fault_reverted", "f2.1"),
        ("fault_intent", "f2.2"),
        ("fault_applied", "f2.2"),
        ("fault_reverted", "f2.2"),
    ]
    applied = {e["fault_id"]: e["t"] for e in events if e["kind"] == "fault_applied"}
    assert applied == {"f1": 180.0, "f2.1": 300.0, "f2.2": 420.0}
    first = next(e for e in events if e["kind"] == "fault_applied")
    assert first["sim"] == 180.0 * 24
    phases = [(e["kind"], e.get("phase")) for e in events if e["kind"].startswith("phase")]
    assert phases == [
        ("phase_start", "warm-up"),
        ("phase_end", "warm-up"),
        ("phase_start", "chaos"),
        ("phase_end", "chaos"),
    ]
    assert events[0]["kind"] == "run_start" and events[-1]["kind"] == "run_end"
    assert events[-1]["status"] == "completed"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))


def test_an_interrupt_during_a_fault_reverts_it(runner_for: Any, monkeypatch: Any) -> None:
    runner = runner_for(SCENARIO, workloads=False)
    real_do = runner._do

    def do(action: Any, live: Any) -> None:
        real_do(action, live)
        if action.kind == "fault_inject":
            raise KeyboardInterrupt

    monkeypatch.setattr(runner, "_do", do)
    outcome = runner.run()
    assert outcome.status == "interrupted"
    assert LOG.count("inject network") == 1 and LOG.count("revert network") == 1
    assert "fault_reverted" in _kinds(outcome.run_dir)


def test_an_interrupted_run_exits_130_with_the_verdict_saying_so(
    runner_for: Any, monkeypatch: Any, capsys: Any
) -> None:
    import orjson

    from dagstorm.cli import run_flow
    from dagstorm.core.errors import ExitCode

    runner = runner_for(SCENARIO, workloads=False)  # no SLO declared
    real_do = runner._do

    def do(action: Any, live: Any) -> None:
        real_do(action, live)
        if action.kind == "fault_inject":
            raise KeyboardInterrupt

    monkeypatch.setattr(runner, "_do", do)
    outcome = runner.run()
    code = run_flow.analyse_and_report(outcome.run_dir)
    assert run_flow._outcome_code(outcome, code) == code == ExitCode.INTERRUPTED
    verdict = orjson.loads((outcome.run_dir / "result.json").read_bytes())["verdict"]
    assert verdict["passed"] is False and verdict["exit_code"] == 130
    assert "no SLOs declared; run interrupted;" in capsys.readouterr().out


def test_secrets_never_reach_the_run_directory(runner_for: Any) -> None:
    outcome = runner_for(SCENARIO, workloads=False).run()
    for path in outcome.run_dir.rglob("*"):
        if path.is_file():
            assert "secret-pw" not in path.read_text(errors="replace"), path


def test_an_undeclared_fault_target_stops_before_anything(
    runner_for: Any, monkeypatch: Any
) -> None:
    from dagstorm.core.errors import FaultError

    def refuse(self: Any) -> None:
        raise FaultError("not declared")

    monkeypatch.setattr(FakeFault, "check_targets", refuse)
    runner = runner_for(SCENARIO)
    with pytest.raises(FaultError, match="not declared"):
        runner.run()
    assert not (runner.runs_root).exists()
    assert LOG == []


LATE_SCENARIO = """\
name: late
duration: 10m
time_compression: 24
faults:
  - name: slow
    at: 2m
    duration: 1m
    fault: {kind: network, link: airflow-db, effect: latency, latency_ms: 100}
  - name: quick
    at: 6m
    duration: 1m
    fault: {kind: network, link: kafka, effect: down}
drain: 0
"""


def test_a_fault_that_takes_effect_late_is_held_its_whole_duration_from_then(
    runner_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Applied 100 s after its planned start, a 1m fault is reverted 60 s later, not at once."""
    runner = runner_for(LATE_SCENARIO, workloads=False)
    clock = runner.clock

    def inject(self: FakeFault) -> dict[str, Any]:
        if self.spec.kind == "network" and getattr(self.spec, "link", "") == "airflow-db":
            clock.advance(100.0)  # it waited for its target, as a JVM fault waits for the job
        return {}

    monkeypatch.setattr(FakeFault, "inject", inject)
    outcome = runner.run()
    events = read_journal(outcome.run_dir / "journal.jsonl")
    at = {(e["kind"], e["fault_id"]): e["t"] for e in events if e["kind"].startswith("fault_")}
    assert at[("fault_intent", "slow")] == 120.0
    assert at[("fault_applied", "slow")] == 220.0
    # Held 60 s from when it took effect (planned end 180 s: it would have held 0 s).
    assert 280.0 <= at[("fault_reverted", "slow")] <= 281.0
    # A fault that takes effect on time keeps its planned window.
    assert (at[("fault_applied", "quick")], at[("fault_reverted", "quick")]) == (360.0, 420.0)


LIVE = """\
name: live
duration: 10m
time_compression: 24
slos:
  - sla: {dag: d, within: 1h, compliance: ">= 90%", abort: true}
abort: {slo_check_interval: 10s}
drain: 0
"""


class CpuMeter:
    """Stands in for ``time`` in the runner: each live check "costs" ``cost`` CPU s."""

    def __init__(self, cost: float) -> None:
        self.cost, self.calls, self.now = cost, 0, 0.0

    def thread_time(self) -> float:
        self.calls += 1
        if self.calls % 2 == 0:  # the second reading of a check: after it
            self.now += self.cost
        return self.now


@pytest.mark.parametrize(("cost", "spacing"), [(0.01, 10.0), (1.5, 30.0)])
def test_live_checks_keep_their_interval_and_slow_down_when_costly(
    runner_for: Any, monkeypatch: Any, cost: float, spacing: float
) -> None:
    from dagstorm.engine import runner as runner_mod

    runner = runner_for(LIVE, workloads=False)
    at: list[float] = []

    def check(journal: Path) -> list[str]:
        at.append(runner.clock.elapsed())
        return []

    runner.live_check = check
    monkeypatch.setattr(runner_mod, "time", CpuMeter(cost))
    outcome = runner.run()
    assert outcome.status == "completed"
    assert at[0] == pytest.approx(10.0)
    gaps = {round(b - a, 6) for a, b in itertools.pairwise(at)}
    assert gaps == {spacing}  # 1.5 CPU s a check: every 30 s (5% of a core)
    assert len(at) == int((600 - 10) // spacing) + 1


def test_a_failed_live_check_aborts_the_run_and_says_which_slo(runner_for: Any) -> None:
    runner = runner_for(LIVE, workloads=False)
    calls: list[float] = []

    def check(journal: Path) -> list[str]:
        calls.append(runner.clock.elapsed())
        return ["sla:d"] if len(calls) == 3 else []

    runner.live_check = check
    outcome = runner.run()
    assert outcome.status == "aborted"
    assert outcome.reason == "SLO failed live: sla:d"
    assert calls == pytest.approx([10.0, 20.0, 30.0])
    events = read_journal(outcome.run_dir / "journal.jsonl")
    assert any(e["kind"] == "log" and e.get("message") == outcome.reason for e in events)
    (end,) = [e for e in events if e["kind"] == "run_end"]
    assert end["status"] == "aborted"
