"""`recover`'s healing of the embedded stack, with a fake stack and a fake settle clock.

What is asserted is what recover *did* (sleeps asked for, components started,
deploys), never how long it took.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from dagstorm.core.errors import ComponentStartError
from dagstorm.engine import recover as recover_mod
from dagstorm.engine.recover import RecoverReport, _heal_embedded, recover
from dagstorm.faults.base import FaultContext
from dagstorm.faults.journal import FaultJournal
from dagstorm.stack.endpoints import Stack

_pids = itertools.count(1000)


@dataclass(frozen=True)
class Record:
    pid: int
    create_time: float = 0.0


@dataclass
class Health:
    ok: bool


class FakeComponent:
    """A process that can be down, wedged, unhealthy at given probes, or exit at one."""

    def __init__(
        self,
        *,
        up: bool = True,
        wedged: bool = False,
        bad_probes: tuple[int, ...] = (),
        exits_at_probe: int | None = None,
    ) -> None:
        self.record = Record(next(_pids)) if up else None
        self.wedged = wedged  # alive, never healthy until started anew
        self.bad_probes = set(bad_probes)  # probe numbers (from 1) that fail while it runs
        self.exits_at_probe = exits_at_probe  # the process exits at this probe, once
        self.probes = 0
        self.starts = 0

    def running(self) -> Record | None:
        return self.record

    def health(self) -> Health:
        if self.record is None:
            return Health(False)
        self.probes += 1
        if self.probes == self.exits_at_probe:
            self.record, self.exits_at_probe = None, None
            return Health(False)
        return Health(not self.wedged and self.probes not in self.bad_probes)

    def start(self) -> None:
        self.record = Record(next(_pids))
        self.wedged, self.bad_probes, self.probes = False, set(), 0
        self.starts += 1


class FakeStack:
    """Like EmbeddedStack: ``up`` starts what is down, then waits (a few probes) for health."""

    def __init__(self, **components: FakeComponent) -> None:
        self.components = components
        self.started: list[str] = []
        self.ups: list[bool] = []  # the deploy argument of each up()
        self.deploys = 0

    def up(self, *, deploy: bool = True, roll_back: bool = True) -> None:
        self.ups.append(deploy)
        now: list[str] = []
        for name, comp in self.components.items():
            if comp.running() is None:
                comp.start()
                self.started.append(name)
                now.append(name)
        for name, comp in self.components.items():
            if not any(comp.health().ok for _ in range(3)):
                if roll_back:
                    self.stop_components(now)
                raise ComponentStartError(name, "running but unhealthy after 90 s")
        if deploy:
            self.deploy()

    def deploy(self) -> list[str]:
        self.deploys += 1
        return ["orders_etl"]

    def stop_unhealthy(self) -> list[str]:
        wedged = [n for n, c in self.components.items() if c.record and not c.health().ok]
        self.stop_components(wedged)
        return wedged

    def stop_components(self, names: list[str]) -> None:
        for name in names:
            self.components[name].record = None


@pytest.fixture(autouse=True)
def _no_paused_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recover_mod, "resume_all", lambda embedded: [])


def _heal(stack: FakeStack, *, changed: bool = False) -> tuple[RecoverReport, list[float]]:
    report = RecoverReport()
    sleeps: list[float] = []
    _heal_embedded(stack, report, changed=changed, sleep=sleeps.append)  # type: ignore[arg-type]
    return report, sleeps


SETTLE = [recover_mod.SETTLE_SECONDS] * recover_mod.CHECKS


def test_nothing_to_do_is_one_look_with_no_settle_wait_no_start_and_no_deploy() -> None:
    stack = FakeStack(postgres=FakeComponent(), kafka=FakeComponent())
    report, sleeps = _heal(stack)
    assert sleeps == []
    assert stack.ups == [] and stack.deploys == 0
    assert report.errors == [] and report.started == [] and not report.restarted
    assert all(c.probes == 1 for c in stack.components.values())


def test_after_a_change_the_stack_is_watched_through_the_settle_wait() -> None:
    stack = FakeStack(postgres=FakeComponent(), kafka=FakeComponent())
    report, sleeps = _heal(stack, changed=True)
    assert sleeps == SETTLE
    assert stack.ups == [False] and stack.deploys == 0 and not report.restarted


def test_a_resumed_process_counts_as_a_change(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recover_mod, "resume_all", lambda embedded: ["kafka"])
    report, sleeps = _heal(FakeStack(kafka=FakeComponent()))
    assert sleeps == SETTLE and report.resumed == ["kafka"] and not report.restarted


def test_a_dead_component_is_started_once_reported_and_the_pipeline_deployed_once() -> None:
    triggerer = FakeComponent(up=False)
    stack = FakeStack(postgres=FakeComponent(), **{"airflow-triggerer": triggerer})
    report, sleeps = _heal(stack)
    assert report.errors == [] and report.wedged == []
    assert triggerer.starts == 1 and report.started == ["airflow-triggerer"] and report.restarted
    assert stack.deploys == 1 and report.deployed and stack.ups == [False]
    assert report.profiles_deployed == ["orders_etl"]
    assert sleeps == SETTLE


def test_a_component_that_exits_during_the_settle_wait_is_started_once() -> None:
    # Airflow's triggerer exits ~10 s after an airflow-db outage is reverted.
    triggerer = FakeComponent(exits_at_probe=2)
    stack = FakeStack(postgres=FakeComponent(), **{"airflow-triggerer": triggerer})
    report, sleeps = _heal(stack, changed=True)
    assert report.errors == [] and report.wedged == []
    assert triggerer.starts == 1 and report.started == ["airflow-triggerer"]
    assert stack.deploys == 1 and len(stack.ups) == 2
    assert sleeps == [recover_mod.SETTLE_SECONDS, *SETTLE]


def test_a_wedged_process_is_restarted_after_one_failed_wait_not_waited_for_again() -> None:
    scheduler = FakeComponent(wedged=True)
    stack = FakeStack(postgres=FakeComponent(), scheduler=scheduler)
    report, _ = _heal(stack)
    assert report.errors == []
    assert report.wedged == ["scheduler"] and report.started == ["scheduler"]
    assert scheduler.starts == 1 and len(stack.ups) == 2 and stack.deploys == 1


def test_a_hiccup_at_a_settle_check_is_waited_for_not_restarted_as_wedged() -> None:
    # Healthy at the start-up wait, unhealthy at the first settle check and the probe
    # after it (an api-server busy for a few seconds), then healthy again.
    api = FakeComponent(bad_probes=(2, 3))
    stack = FakeStack(postgres=FakeComponent(), api=api)
    report, _ = _heal(stack, changed=True)
    assert report.errors == [] and report.wedged == [] and report.started == []
    assert api.starts == 0 and stack.deploys == 0


def test_a_failed_wait_keeps_what_came_up_and_restarts_only_the_wedged_one() -> None:
    # The triggerer was down and comes up; the scheduler is wedged, so the first
    # start-up wait fails. The triggerer is not stopped and started again with it.
    triggerer = FakeComponent(up=False)
    scheduler = FakeComponent(wedged=True)
    stack = FakeStack(triggerer=triggerer, scheduler=scheduler)
    report, _ = _heal(stack)
    assert report.errors == []
    assert triggerer.starts == 1 and scheduler.starts == 1
    assert report.started == ["triggerer", "scheduler"] and report.wedged == ["scheduler"]
    assert report.died == []


def test_a_component_that_dies_after_recover_started_it_is_reported_when_started_again() -> None:
    # Down, started by the first pass, then its process exits at the first settle check.
    dag_processor = FakeComponent(up=False)
    stack = FakeStack(postgres=FakeComponent(), **{"dag-processor": dag_processor})
    original_start = dag_processor.start

    def start_then_die_once() -> None:
        original_start()
        if dag_processor.starts == 1:
            dag_processor.exits_at_probe = 2

    dag_processor.start = start_then_die_once  # type: ignore[method-assign]
    report, _ = _heal(stack)
    assert report.errors == [] and report.wedged == []
    assert dag_processor.starts == 2 and report.started == ["dag-processor", "dag-processor"]
    assert report.died == ["dag-processor"] and stack.deploys == 1


def test_a_stopped_stack_stays_stopped() -> None:
    stack = FakeStack(postgres=FakeComponent(up=False), kafka=FakeComponent(up=False))
    report, sleeps = _heal(stack, changed=True)
    assert report.errors == [] and stack.ups == [] and sleeps == []


class NeverHealthy(FakeStack):
    def up(self, *, deploy: bool = True, roll_back: bool = True) -> Any:
        self.ups.append(deploy)
        raise ComponentStartError("kafka", "not healthy after 90 s")

    def stop_unhealthy(self) -> list[str]:
        return []


def test_a_stack_that_never_comes_up_is_reported_after_the_last_pass() -> None:
    stack = NeverHealthy(kafka=FakeComponent(bad_probes=(1,)))
    report, _ = _heal(stack)
    assert len(stack.ups) == recover_mod.HEAL_PASSES and stack.deploys == 0
    assert len(report.errors) == 1 and "kafka failed to start" in report.errors[0]


def test_only_outages_of_the_airflow_db_link_restart_the_scheduler() -> None:
    from dagstorm.engine.recover import _cuts_airflow_db

    assert _cuts_airflow_db({"kind": "network", "link": "airflow-db", "effect": "down"})
    assert _cuts_airflow_db({"kind": "network", "link": "airflow-db", "effect": "flap"})
    assert not _cuts_airflow_db({"kind": "network", "link": "airflow-db", "effect": "latency"})
    assert not _cuts_airflow_db({"kind": "network", "link": "kafka", "effect": "down"})
    assert not _cuts_airflow_db({"kind": "broker", "action": "kill"})


def test_after_a_db_outage_the_running_scheduler_is_stopped_for_the_heal_to_restart() -> None:
    from dagstorm.engine.recover import _restart_after_db_outage

    scheduler = FakeComponent()
    stack = FakeStack(**{"airflow-scheduler": scheduler, "postgres": FakeComponent()})
    assert _restart_after_db_outage(stack, fresh=["kafka"]) == ["airflow-scheduler"]  # type: ignore[arg-type]
    assert scheduler.running() is None
    report, _ = _heal(stack, changed=True)
    assert report.errors == [] and scheduler.starts == 1 and stack.deploys == 1


def test_a_scheduler_started_after_the_db_outage_was_reverted_is_not_restarted() -> None:
    from dagstorm.engine.recover import _restart_after_db_outage

    stack = FakeStack(**{"airflow-scheduler": FakeComponent()})
    assert _restart_after_db_outage(stack, fresh=["airflow-scheduler"]) == []  # type: ignore[arg-type]
    assert stack.components["airflow-scheduler"].running() is not None


# -- recover() as a whole: the journal, the reverts and the heal --------------------------

STACK = Stack(
    kind="embedded",
    airflow_url="http://127.0.0.1:1",
    airflow_username="u",
    airflow_password="p",
    spark_master_url="spark://127.0.0.1:7077",
    spark_ui_url=None,
    spark_history_url=None,
    kafka_bootstrap="127.0.0.1:9092",
    toxiproxy_url=None,
    serving_db_dsn="postgresql://x",
    components=("airflow-scheduler",),
)
KILL = {"kind": "airflow", "action": "kill", "component": "scheduler"}


class RestartOnRevert:
    """A process kill: its revert starts the component through an EmbeddedStack of its own."""

    def __init__(self, stack: FakeStack) -> None:
        self.stack = stack
        self.applied: dict[str, Any] = {}

    def revert(self) -> None:
        self.stack.components["airflow-scheduler"].start()


@pytest.fixture
def wired(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[FaultContext, FakeStack]:
    stack = FakeStack(postgres=FakeComponent(), **{"airflow-scheduler": FakeComponent()})
    monkeypatch.setattr(recover_mod, "EmbeddedStack", lambda ctx: stack)
    monkeypatch.setattr(recover_mod, "stop_orphan_swarms", lambda run_dir: [])
    monkeypatch.setattr(recover_mod, "build_fault", lambda spec, fid, ctx: RestartOnRevert(stack))
    embedded = SimpleNamespace(layout=SimpleNamespace(run_dir=tmp_path, root=tmp_path))
    journal = FaultJournal(tmp_path / "journal.jsonl")
    ctx = FaultContext(stack=STACK, journal=journal, embedded=embedded)  # type: ignore[arg-type]
    return ctx, stack


def _orphaned_kill(journal: FaultJournal) -> None:
    """What a dagstorm killed right after it killed the scheduler leaves in the journal."""
    lines = [
        {"v": 1, "id": "k1", "event": "intent", "wall": 1.0, "pid": None, "spec": KILL},
        {"v": 1, "id": "k1", "event": "applied", "wall": 2.0, "pid": None, "detail": {}},
    ]
    journal.path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_recover_with_a_clean_journal_and_a_whole_stack_does_nothing_and_never_sleeps(
    wired: tuple[FaultContext, FakeStack],
) -> None:
    ctx, stack = wired
    sleeps: list[float] = []
    report = recover(ctx, sleep=sleeps.append)
    assert sleeps == [] and stack.ups == [] and stack.deploys == 0
    assert report.errors == [] and report.reverted == [] and not report.restarted


def test_recover_after_a_scheduler_kill_starts_it_once_says_so_and_deploys_once(
    wired: tuple[FaultContext, FakeStack],
) -> None:
    ctx, stack = wired
    scheduler = stack.components["airflow-scheduler"]
    scheduler.record = None  # the fault's SIGKILL
    _orphaned_kill(ctx.journal)
    sleeps: list[float] = []
    report = recover(ctx, sleep=sleeps.append)
    assert report.errors == [] and report.reverted == ["k1"]
    assert scheduler.starts == 1
    assert report.started == ["airflow-scheduler"] and report.restarted
    assert stack.deploys == 1 and stack.ups == [False]
    assert sleeps == SETTLE
    assert ctx.journal.open_faults() == []


def test_the_cli_names_every_start_on_one_unwrapped_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from dagstorm.cli import cli

    report = RecoverReport(
        reverted=["k1"],
        proxies_enabled=["airflow-db", "kafka", "serving-db", "airflow-api"],
        started=["airflow-scheduler", "airflow-triggerer", "airflow-triggerer", "kafka"],
        wedged=["airflow-scheduler"],
        deployed=True,
        profiles_deployed=["ad_logs", "orders_etl"],
    )
    # The CLI imports recover when the command runs (start-up time): patch it at the source.
    monkeypatch.setattr(recover_mod, "recover", lambda ctx, force: report)
    result = CliRunner().invoke(
        cli, ["--state-dir", str(tmp_path / "st"), "recover"], env={"DAGSTORM_STACK_FILE": ""}
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith(
        "stack restarted: yes (airflow-scheduler, airflow-triggerer ×2, kafka)"
    )
    assert "restarted as wedged (running but not working): airflow-scheduler" in lines
    # The stack's profiles by name: the reference pipeline is one profile among others.
    assert "pipeline profile(s) deployed again: ad_logs, orders_etl" in lines


def test_the_cli_says_when_the_deploy_put_back_no_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from dagstorm.cli import cli

    report = RecoverReport(started=["airflow-scheduler"], deployed=True)
    monkeypatch.setattr(recover_mod, "recover", lambda ctx, force: report)
    result = CliRunner().invoke(
        cli, ["--state-dir", str(tmp_path / "st"), "recover"], env={"DAGSTORM_STACK_FILE": ""}
    )
    assert result.exit_code == 0, result.output
    assert (
        "stack setup deployed again (no pipeline profile: the stack reads its own DAGs folder)"
        in result.output.splitlines()
    )


def test_the_cli_says_no_when_nothing_was_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from dagstorm.cli import cli

    monkeypatch.setattr(recover_mod, "recover", lambda ctx, force: RecoverReport())
    result = CliRunner().invoke(
        cli, ["--state-dir", str(tmp_path / "st"), "recover"], env={"DAGSTORM_STACK_FILE": ""}
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "recover: 0 fault(s) reverted, 0 stray toxic(s) removed, proxies re-enabled: none, "
        "worker hosts restored: none, stack restarted: no"
    ]
