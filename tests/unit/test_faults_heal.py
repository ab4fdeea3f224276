"""`recover`'s healing of the embedded stack, with a fake stack: down, wedged, whole."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from dagstorm.core.errors import ComponentStartError
from dagstorm.engine import recover as recover_mod
from dagstorm.engine.recover import RecoverReport, _heal_embedded


@dataclass
class Health:
    ok: bool


class FakeComponent:
    def __init__(self, *, up: bool = True, wedged: bool = False) -> None:
        self.up = up
        self.wedged = wedged  # alive but never healthy until restarted
        self.starts = 0

    def running(self) -> object | None:
        return object() if self.up else None

    def health(self) -> Health:
        return Health(self.up and not self.wedged)


class FakeStack:
    """``up()`` starts what is down and fails if anything running stays unhealthy."""

    def __init__(self, **components: FakeComponent) -> None:
        self.components = components
        self.ups = 0

    def up(self) -> None:
        self.ups += 1
        for comp in self.components.values():
            if not comp.up:
                comp.up, comp.wedged, comp.starts = True, False, comp.starts + 1
        if any(not c.health().ok for c in self.components.values()):
            raise ComponentStartError("scheduler", "running but unhealthy after 90 s")

    def stop_unhealthy(self) -> list[str]:
        wedged = [n for n, c in self.components.items() if c.up and not c.health().ok]
        for name in wedged:
            self.components[name].up = False
        return wedged


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recover_mod, "SETTLE_SECONDS", 0.0)
    monkeypatch.setattr(recover_mod, "resume_all", lambda embedded: [])


def _heal(stack: FakeStack) -> RecoverReport:
    report = RecoverReport()
    _heal_embedded(stack, report)  # type: ignore[arg-type]
    return report


def test_a_wedged_process_is_restarted_after_one_failed_wait_not_waited_for_again() -> None:
    scheduler = FakeComponent(wedged=True)
    stack = FakeStack(postgres=FakeComponent(), scheduler=scheduler)
    report = _heal(stack)
    assert report.errors == []
    assert report.wedged == ["scheduler"] and report.restarted
    assert scheduler.starts == 1 and stack.ups == 2


def test_a_component_that_is_down_is_started_and_nothing_is_called_wedged() -> None:
    triggerer = FakeComponent(up=False)
    report = _heal(FakeStack(postgres=FakeComponent(), triggerer=triggerer))
    assert report.errors == [] and report.wedged == [] and report.restarted
    assert triggerer.starts == 1


def test_a_whole_stack_is_left_alone() -> None:
    stack = FakeStack(postgres=FakeComponent(), kafka=FakeComponent())
    report = _heal(stack)
    assert report.errors == [] and report.wedged == [] and not report.restarted
    assert stack.ups == 1


def test_a_stopped_stack_stays_stopped() -> None:
    stack = FakeStack(postgres=FakeComponent(up=False), kafka=FakeComponent(up=False))
    assert _heal(stack).errors == [] and stack.ups == 0


class NeverHealthy(FakeStack):
    def up(self) -> Any:
        self.ups += 1
        raise ComponentStartError("kafka", "not healthy after 90 s")

    def stop_unhealthy(self) -> list[str]:
        return []


def test_a_stack_that_never_comes_up_is_reported_after_the_last_pass() -> None:
    stack = NeverHealthy(kafka=FakeComponent())
    report = _heal(stack)
    assert stack.ups == recover_mod.HEAL_PASSES
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

    class Stoppable(FakeStack):
        def stop_components(self, names: list[str]) -> None:
            for name in names:
                self.components[name].up = False

    scheduler = FakeComponent()
    stack = Stoppable(**{"airflow-scheduler": scheduler, "postgres": FakeComponent()})
    assert _restart_after_db_outage(stack) == ["airflow-scheduler"]  # type: ignore[arg-type]
    assert scheduler.running() is None
    report = _heal(stack)
    assert report.errors == [] and scheduler.starts == 1
