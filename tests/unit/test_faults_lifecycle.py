"""The fault lifecycle with fakes: journaling order, rollback on every path, recover."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from dagstorm.core.errors import FaultError
from dagstorm.faults import manager as manager_mod
from dagstorm.faults.base import Fault, FaultContext
from dagstorm.faults.journal import FaultJournal
from dagstorm.faults.kinds import parse_fault_spec
from dagstorm.faults.manager import FaultManager
from dagstorm.faults.specs import BrokerFault, NetworkFault
from dagstorm.stack.endpoints import Stack

STACK = Stack(
    kind="external",
    airflow_url="http://127.0.0.1:1",
    airflow_username="u",
    airflow_password="p",
    spark_master_url="spark://127.0.0.1:7077",
    spark_ui_url=None,
    spark_history_url=None,
    kafka_bootstrap="127.0.0.1:9092",
    toxiproxy_url=None,
    serving_db_dsn="postgresql://x",
    links=("kafka",),
    components=("kafka",),
)


class FakeFault(Fault):
    log: list[str] = []
    fail_at: str | None = None

    def _step(self, name: str) -> None:
        FakeFault.log.append(f"{name}:{self.fault_id}")
        if FakeFault.fail_at == name:
            raise FaultError(f"{name} broke")

    def check_targets(self) -> None:
        self._step("check")

    def inject(self) -> dict[str, Any]:
        self._step("inject")
        return {"pid": 42}

    def verify(self) -> str:
        self._step("verify")
        return "in effect"

    def revert(self) -> None:
        self._step("revert")


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FaultContext:
    FakeFault.log = []
    FakeFault.fail_at = None
    monkeypatch.setattr(manager_mod, "build_fault", FakeFault)
    return FaultContext(stack=STACK, journal=FaultJournal(tmp_path / "journal.jsonl"))


def _events(ctx: FaultContext) -> list[str]:
    return [e["event"] for e in ctx.journal.entries()]


def test_intent_is_journaled_before_inject_and_revert_after(ctx: FaultContext) -> None:
    mgr = FaultManager(ctx)
    active = mgr.inject(BrokerFault(action="pause"), fault_id="a")
    assert _events(ctx) == ["intent", "applied", "verified"]
    assert ctx.journal.open_faults()[0].applied == {"pid": 42}
    mgr.revert(active)
    mgr.revert(active)  # twice is harmless
    assert _events(ctx) == ["intent", "applied", "verified", "reverted"]
    assert ctx.journal.open_faults() == []


def test_a_refused_target_leaves_no_trace(ctx: FaultContext) -> None:
    FakeFault.fail_at = "check"
    with pytest.raises(FaultError):
        FaultManager(ctx).inject(BrokerFault(action="kill"))
    assert ctx.journal.entries() == []
    assert not any(step.startswith("inject") for step in FakeFault.log)


@pytest.mark.parametrize("step", ["inject", "verify"])
def test_a_failed_inject_or_verify_is_reverted(ctx: FaultContext, step: str) -> None:
    FakeFault.fail_at = step
    with pytest.raises(FaultError, match="could not be applied"):
        FaultManager(ctx).inject(BrokerFault(action="kill"), fault_id="b")
    assert "revert:b" in FakeFault.log
    assert _events(ctx)[-2:] == ["inject_failed", "reverted"]
    assert ctx.journal.open_faults() == []


def test_exit_reverts_everything_in_reverse_order_even_on_interrupt(ctx: FaultContext) -> None:
    with pytest.raises(KeyboardInterrupt), FaultManager(ctx) as mgr:
        mgr.inject(BrokerFault(action="pause"), fault_id="first")
        mgr.inject(NetworkFault(link="kafka", effect="down"), fault_id="second")
        raise KeyboardInterrupt
    reverts = [s for s in FakeFault.log if s.startswith("revert")]
    assert reverts == ["revert:second", "revert:first"]
    assert ctx.journal.open_faults() == []


def test_a_failing_revert_is_journaled_and_the_rest_still_reverted(ctx: FaultContext) -> None:
    mgr = FaultManager(ctx)
    mgr.inject(BrokerFault(action="pause"), fault_id="x")
    mgr.inject(BrokerFault(action="pause"), fault_id="y")
    FakeFault.fail_at = "revert"
    errors = mgr.revert_all()
    assert len(errors) == 2
    assert [f.fault_id for f in ctx.journal.open_faults()] == ["x", "y"]
    assert "revert_failed" in _events(ctx)


def test_journal_survives_a_torn_last_line(tmp_path: Path) -> None:
    journal = FaultJournal(tmp_path / "j.jsonl")
    journal.record("a", "intent", spec={"kind": "broker", "action": "kill"})
    with journal.path.open("a") as handle:
        handle.write('{"id": "b", "event": "inte')  # SIGKILL mid-write
    assert [f.fault_id for f in journal.open_faults()] == ["a"]
    assert oct(journal.path.stat().st_mode & 0o777) == "0o600"


def test_journal_entries_carry_schema_version_and_owner(tmp_path: Path) -> None:
    journal = FaultJournal(tmp_path / "j.jsonl")
    journal.record("a", "intent", spec={})
    entry = json.loads(journal.path.read_text())
    assert entry["v"] == 1 and entry["pid"] == os.getpid()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "network", "link": "kafka", "effect": "latency"}, "latency_ms"),
        ({"kind": "network", "link": "nowhere", "effect": "down"}, "link"),
        ({"kind": "network", "link": "kafka", "effect": "flap"}, "period_s"),
        ({"kind": "network", "link": "kafka", "effect": "down", "toxicity": 2}, "toxicity"),
        ({"kind": "broker", "action": "explode"}, "action"),
        ({"kind": "airflow", "action": "kill"}, "component"),
        ({"kind": "airflow", "action": "kill_task", "component": "scheduler"}, "kill_task"),
        ({"kind": "spark", "action": "executor_oom", "colour": "red"}, "colour"),
        ({"kind": "meteor"}, "kind"),
    ],
)
def test_bad_specs_are_refused_with_the_field_named(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_fault_spec(data)


def test_specs_describe_themselves() -> None:
    spec = parse_fault_spec(
        {"kind": "network", "link": "kafka", "effect": "latency", "latency_ms": 300}
    )
    assert spec.describe() == "network latency 300 ms on kafka (both)"
