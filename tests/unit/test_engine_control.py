"""The control inbox on the engine's fake clock: commands executed, rejected, acknowledged."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dagstorm.control.client import ControlClient
from dagstorm.control.inbox import ControlInbox
from dagstorm.control.protocol import inbox_dir
from dagstorm.core.errors import ControlError, FaultError
from dagstorm.engine.runner import Runner
from dagstorm.run.clock import FakeClock
from dagstorm.run.journal import RunJournal, read_journal
from dagstorm.workloads.base import Workload
from dagstorm.workloads.pause import PauseGate
from tests.unit.test_engine_runner import (  # noqa: F401 - the fixture is used by name
    LOG,
    SCENARIO,
    FakeFault,
    FakeWorkload,
    runner_for,
)

#: A scripted client: at wall second t, send (command, fields).
Script = list[tuple[float, str, dict[str, Any]]]


class ScriptedClock(FakeClock):
    """A fake clock that sends the script's commands once their time has come."""

    def __init__(self, script: Script) -> None:
        super().__init__(24.0)
        self.script = sorted(script, key=lambda item: item[0])
        self.runner: Runner | None = None
        self.sent: list[str] = []

    def wait(self, event: threading.Event, seconds: float) -> bool:
        fired = super().wait(event, seconds)
        journal = self.runner.journal if self.runner is not None else None
        while journal is not None and self.script and self.script[0][0] <= self.elapsed():
            _, command, fields = self.script.pop(0)
            client = ControlClient(journal.path.parent, client="test")
            self.sent.append(client.send(command, **fields).id)
        return fired


class PausableWorkload(FakeWorkload):
    """Records pause and resume calls."""

    pausable = True

    def pause(self) -> None:
        LOG.append("workload pause")
        super().pause()

    def resume(self) -> None:
        LOG.append("workload resume")
        super().resume()


@pytest.fixture
def scripted(runner_for: Any) -> Callable[..., tuple[Runner, ScriptedClock]]:  # noqa: F811
    def build(script: Script, text: str = SCENARIO) -> tuple[Runner, ScriptedClock]:
        runner = runner_for(text)
        clock = ScriptedClock(script)
        clock.runner = runner
        runner.clock = clock
        runner._workload_factory = lambda ctx: [
            PausableWorkload("w", ctx.journal, ctx.clock),
            # a loop that does not honour pauses
            FakeWorkload("unpausable", ctx.journal, ctx.clock),
        ]
        return runner, clock

    return build


def events_of(run_dir: Path) -> list[dict[str, Any]]:
    return read_journal(run_dir / "journal.jsonl")


def acks(events: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [
        (e["command"], e["outcome"], e.get("reason", ""))
        for e in events
        if e["kind"] == "control_ack"
    ]


def test_pause_and_resume_reach_every_workload_and_are_acknowledged(scripted: Any) -> None:
    runner, clock = scripted(
        [(20, "pause", {}), (25, "pause", {}), (40, "resume", {}), (41, "resume", {})]
    )
    outcome = runner.run()
    assert outcome.status == "completed"
    assert LOG.count("workload pause") == 1 and LOG.count("workload resume") == 1
    events = events_of(outcome.run_dir)
    assert acks(events) == [
        ("pause", "done", ""),
        ("pause", "rejected", "the workloads are already paused"),
        ("resume", "done", ""),
        ("resume", "rejected", "the workloads are not paused"),
    ]
    taken = [e for e in events if e["kind"] == "control"]
    assert [e["command_id"] for e in taken] == clock.sent
    assert all(e["by"].startswith("test ") for e in taken)
    first_ack = next(e for e in events if e["kind"] == "control_ack")
    assert first_ack["workloads"] == ["w"] and 20 <= first_ack["t"] <= 20.5
    assert first_ack["not_pausable"] == ["unpausable"]


def test_abort_reverts_every_fault_and_ends_as_interrupted(scripted: Any) -> None:
    runner, _ = scripted([(200, "abort", {})])  # f1 (airflow-db latency) is applied 180–240 s
    outcome = runner.run()
    assert outcome.status == "interrupted"
    assert outcome.reason.startswith("aborted by test ")
    assert LOG.count("inject network") == 1 and LOG.count("revert network") == 1
    events = events_of(outcome.run_dir)
    assert "f2.1" not in {e.get("fault_id") for e in events}  # the timeline stopped before it
    kinds = [e["kind"] for e in events]
    assert kinds.index("control_ack") < kinds.index("fault_reverted") < kinds.index("run_end")
    assert events[-1]["status"] == "interrupted" and "aborted by test" in events[-1]["reason"]
    assert events[-1]["t"] < 201


def test_an_adhoc_fault_is_journalled_and_reverted_after_its_duration(scripted: Any) -> None:
    spec = {"kind": "network", "link": "kafka", "effect": "latency", "latency_ms": 300}
    runner, _ = scripted(
        [(30, "inject", {"fault": spec, "duration_s": 60}), (50, "inject", {"fault": spec})]
    )
    outcome = runner.run()
    assert outcome.status == "completed"
    events = events_of(outcome.run_dir)
    adhoc = [(e["kind"], e["fault_id"]) for e in events if e.get("fault_id", "").startswith("ad")]
    assert ("fault_intent", "adhoc1") in adhoc and ("fault_applied", "adhoc2") in adhoc
    by_id = {(e["kind"], e["fault_id"]): e for e in events if e["kind"].startswith("fault_")}
    assert by_id[("fault_intent", "adhoc1")]["adhoc"] is True
    assert by_id[("fault_intent", "adhoc1")]["by"].startswith("test ")
    assert by_id[("fault_intent", "adhoc1")]["duration_s"] == 60
    assert 30 <= by_id[("fault_applied", "adhoc1")]["t"] <= 30.5
    assert 90 <= by_id[("fault_reverted", "adhoc1")]["t"] <= 90.5
    # Without a duration it stays until the end of the timeline, then is reverted.
    assert by_id[("fault_reverted", "adhoc2")]["t"] >= 600
    ack = [e for e in events if e["kind"] == "control_ack"]
    assert [(a["outcome"], a["fault_id"]) for a in ack] == [("done", "adhoc1"), ("done", "adhoc2")]
    assert LOG.count("inject network") == LOG.count("revert network") == 5  # 3 planned + 2


def test_revert_ends_a_scheduled_fault_early_and_only_once(scripted: Any) -> None:
    runner, _ = scripted([(200, "revert", {"fault_id": "f1"})])
    outcome = runner.run()
    events = events_of(outcome.run_dir)
    reverted = [e for e in events if e["kind"] == "fault_reverted" and e["fault_id"] == "f1"]
    assert len(reverted) == 1 and 200 <= reverted[0]["t"] <= 200.5
    assert reverted[0]["by"].startswith("test ")
    assert LOG.count("revert network") == 3  # f1 once, then f2.1 and f2.2
    assert acks(events) == [("revert", "done", "")]


def test_bad_commands_are_rejected_with_a_reason_and_the_run_goes_on(
    scripted: Any, monkeypatch: Any
) -> None:
    def refuse_airflow(self: Any) -> None:
        if self.spec.kind == "airflow":
            raise FaultError("component `airflow-scheduler` is not a declared fault target")

    monkeypatch.setattr(FakeFault, "check_targets", refuse_airflow)
    runner, _ = scripted(
        [
            (10, "revert", {"fault_id": "nope"}),
            (
                11,
                "inject",
                {"fault": {"kind": "airflow", "action": "kill", "component": "scheduler"}},
            ),
            (11.5, "inject", {"fault": {"kind": "volcano", "action": "erupt"}}),
        ]
    )
    original_wait: Callable[[threading.Event, float], bool] = runner.clock.wait

    def wait_and_litter(event: threading.Event, seconds: float) -> bool:
        fired = original_wait(event, seconds)
        if runner.journal is not None and 12 <= runner.clock.elapsed() < 12.5:
            inbox = inbox_dir(runner.journal.path.parent)
            (inbox / "1-garbage.json").write_text("{not json")
            (inbox / "2-unknown.json").write_text('{"id": "x", "by": "me", "command": "explode"}')
            (inbox / "3-extra.json").write_text(
                '{"id": "y", "by": "me", "command": "pause", "please": true}'
            )
        return fired

    monkeypatch.setattr(runner.clock, "wait", wait_and_litter)
    outcome = runner.run()
    assert outcome.status == "completed"
    outcomes = acks(events_of(outcome.run_dir))
    assert [o[:2] for o in outcomes] == [
        ("revert", "rejected"),
        ("inject", "rejected"),
        ("inject", "rejected"),
        (None, "rejected"),
        ("explode", "rejected"),
        ("pause", "rejected"),
    ]
    reasons = [o[2] for o in outcomes]
    assert "no applied fault nope (applied: none)" in reasons[0]
    assert "not a declared fault target" in reasons[1]
    assert reasons[2].startswith("invalid fault:") and "volcano" in reasons[2]
    assert reasons[3] == "not JSON"
    assert "command" in reasons[4] and "please" in reasons[5]
    assert LOG.count("workload pause") == 0
    processed = sorted(p.name for p in (outcome.run_dir / "control" / "processed").iterdir())
    assert len(processed) == 6 and not list(inbox_dir(outcome.run_dir).iterdir())


def test_commands_that_arrive_as_the_run_ends_are_rejected(scripted: Any) -> None:
    runner, _ = scripted([])

    class LateWorkload(PausableWorkload):
        def stop(self, timeout: float = 60.0) -> None:
            assert runner.journal is not None
            ControlClient(runner.journal.path.parent, client="late").send("pause")

    runner._workload_factory = lambda ctx: [LateWorkload("w", ctx.journal, ctx.clock)]
    outcome = runner.run()
    assert acks(events_of(outcome.run_dir))[0] == ("pause", "rejected", "the run is ending")
    assert LOG.count("workload pause") == 0


def test_the_client_validates_before_writing_and_needs_an_inbox(tmp_path: Path) -> None:
    client = ControlClient(tmp_path, client="test")
    with pytest.raises(ControlError, match="takes no commands"):
        client.send("pause")
    ControlInbox(tmp_path).open()
    with pytest.raises(ControlError, match="kind"):
        client.send("inject", fault={"link": "moon", "effect": "down"})
    with pytest.raises(ControlError):
        client.send("inject", fault={"kind": "broker", "action": "pause"}, duration_s=-1)
    assert list(inbox_dir(tmp_path).iterdir()) == []
    sent = client.send("revert", fault_id="f1")
    (path,) = inbox_dir(tmp_path).iterdir()
    assert path.name == f"{sent.id}.json"
    (received,) = ControlInbox(tmp_path).poll()
    assert received.command == sent


def test_a_paused_gate_blocks_until_resumed_and_counts_the_pause() -> None:
    clock = FakeClock()
    gate = PauseGate(clock)
    stop = threading.Event()
    held: list[float] = []
    gate.pause()
    thread = threading.Thread(target=lambda: held.append(gate.wait(stop)))
    thread.start()
    for _ in range(2000):
        if gate.blocked:
            break
        threading.Event().wait(0.005)
    assert gate.blocked == 1
    clock.advance(7.0)
    gate.resume()
    thread.join(10)
    assert held == [7.0] and gate.paused_seconds == 7.0 and not gate.paused


def test_stop_releases_a_paused_workload(tmp_path: Path) -> None:
    class Loop(Workload):
        def run(self) -> None:
            self.wait_if_paused()

    clock = FakeClock()
    with RunJournal(tmp_path / "journal.jsonl", clock) as journal:
        workload = Loop("w", journal, clock)
        workload.pause()
        workload.start()
        workload.stop(timeout=10)
        assert workload._thread is not None and not workload._thread.is_alive()


def test_the_generator_leaves_paused_time_out_and_writes_the_same_data(tmp_path: Path) -> None:
    from dagstorm.workloads.sinks.generator import AdLogGenerator
    from tests.unit.test_workloads_generator import config, digest, produce

    direct = produce(tmp_path / "a", [1800.0])
    generator = AdLogGenerator(config(tmp_path / "b"), ledger_dir=tmp_path / "b" / "ledger")
    clock = FakeClock(compression=24)
    gate = PauseGate(clock)
    gate.paused_seconds = 100.0  # as if paused for 100 wall seconds already
    generator.run(clock, duration_s=1800.0, poll_wall_seconds=0.5, gate=gate)
    generator.close()
    assert clock.elapsed() >= 100.0 + 1800.0 / 24
    assert digest(tmp_path / "b") == direct
