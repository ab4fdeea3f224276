"""The host fault without namespaces: its spec, its refusals, recover's summary line.

The machine is never touched here: where a check would look at a namespace, the
fault module's own look-ups are replaced (tests/unit/test_faults_host_real.py
does the real thing).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from dagstorm.core.errors import FaultError, UsageError
from dagstorm.core.progress import Progress
from dagstorm.faults import host as host_mod
from dagstorm.faults.base import FaultContext
from dagstorm.faults.host import WorkerHostFault, proxy_names
from dagstorm.faults.journal import FaultJournal
from dagstorm.faults.kinds import FAULT_KINDS, build_fault, parse_fault_spec
from dagstorm.faults.specs import HostFault
from dagstorm.scenarios.loader import ScenarioInvalid, load_scenario
from dagstorm.stack.config import StackConfig
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.hosts.lifecycle import HostsRestored
from dagstorm.stack.embedded.hosts.plan import plan_host
from dagstorm.stack.embedded.hosts.registry import register
from dagstorm.stack.endpoints import Stack
from tests.unit.stacks import airflow_stack

# -- spec ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "latency"}, "action latency needs latency_ms > 0"),
        ({"action": "latency", "latency_ms": 0}, "action latency needs latency_ms > 0"),
        ({"action": "loss"}, r"action loss needs loss_pct in \(0, 100\]"),
        ({"action": "loss", "loss_pct": 0}, r"loss_pct in \(0, 100\]"),
        ({"action": "loss", "loss_pct": 101}, r"loss_pct in \(0, 100\]"),
        ({"action": "partition", "latency_ms": 100}, "action partition takes no `latency_ms`"),
        ({"action": "partition", "loss_pct": 5}, "action partition takes no `loss_pct`"),
        ({"action": "latency", "latency_ms": 50, "loss_pct": 5}, "takes no `loss_pct`"),
        ({"action": "loss", "loss_pct": 5, "jitter_ms": 3}, "takes no `jitter_ms`"),
        ({"action": "partition", "worker": 0}, "worker"),
        ({"action": "partition", "worker": 17}, "worker"),
        ({"action": "partition", "colour": "red"}, "colour"),
        ({"action": "unplug"}, "action"),
    ],
)
def test_bad_host_specs_are_refused_with_the_field_named(
    data: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_fault_spec({"kind": "host", **data})


def test_good_specs_describe_themselves_and_survive_the_journal() -> None:
    cases = {
        "worker host 1 partitioned": HostFault(action="partition"),
        "worker host 2 latency 200 ±20 ms": HostFault(
            action="latency", worker=2, latency_ms=200, jitter_ms=20
        ),
        "worker host 3 loss 2.5 %": HostFault(action="loss", worker=3, loss_pct=2.5),
    }
    for text, spec in cases.items():
        assert spec.describe() == text
        assert parse_fault_spec(spec.model_dump(mode="json")) == spec
        assert spec.needs() == frozenset({"airflow", "processes"})
    assert "host" in FAULT_KINDS.names()


SCENARIO = """\
name: host
description: a worker host slowed
duration: 10m
seed: 7
phases:
  - {name: all, duration: 10m}
faults:
  - at: 2m
    duration: 1m
    fault: {kind: host, action: latency, worker: 1}
slos:
  - lost_events: 0
"""


def test_a_latency_without_latency_ms_is_refused_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    with pytest.raises(ScenarioInvalid) as info:
        load_scenario(path, env={}, pipeline=False)
    problems = info.value.problems
    assert len(problems) == 1
    assert problems[0].what.endswith("action latency needs latency_ms > 0")
    assert problems[0].where.startswith(f"{path}:10:")


def test_the_shell_builds_a_host_spec_from_key_values() -> None:
    from dagstorm.cli.stack.fault_args import spec_from_args

    spec = spec_from_args("host", ("action=partition", "worker=1"))
    assert spec == HostFault(action="partition", worker=1)
    with pytest.raises(UsageError, match="loss_pct"):
        spec_from_args("host", ("action=loss",))


# -- check_targets refusals ---------------------------------------------------------------


def _stack(kind: str = "embedded") -> Stack:
    return airflow_stack(
        kind=kind, components=("airflow-celery-worker-1", "airflow-celery-worker-2")
    )


def _ctx(tmp_path: Path, *, celery: bool = True, hosts: bool = True) -> FaultContext:
    config = StackConfig.model_validate(
        {
            "state_dir": str(tmp_path),
            "airflow": {"executor": "celery" if celery else "local"},
            "celery": {"worker_hosts": hosts},
        }
    )
    embedded = StackContext(config=config, progress=Progress(quiet=True))
    journal = FaultJournal(tmp_path / "journal.jsonl")
    return FaultContext(stack=_stack(), journal=journal, embedded=embedded)


def _fault(ctx: FaultContext, **fields: Any) -> WorkerHostFault:
    fault = build_fault(HostFault(**fields), "f1", ctx)
    assert isinstance(fault, WorkerHostFault)
    return fault


def test_an_external_stack_is_refused(tmp_path: Path) -> None:
    ctx = FaultContext(stack=_stack("external"), journal=FaultJournal(tmp_path / "j.jsonl"))
    with pytest.raises(FaultError, match="needs the embedded stack"):
        _fault(ctx, action="partition").check_targets()


@pytest.mark.parametrize(("celery", "hosts"), [(False, False), (True, False), (False, True)])
def test_a_stack_without_worker_hosts_is_told_what_to_set(
    tmp_path: Path, celery: bool, hosts: bool
) -> None:
    with pytest.raises(FaultError) as info:
        _fault(_ctx(tmp_path, celery=celery, hosts=hosts), action="partition").check_targets()
    text = info.value.render()
    assert "worker 1 has no host of its own" in text
    assert "`celery.worker_hosts: true`" in text


def test_a_machine_that_cannot_make_namespaces_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    why = "worker hosts need root (network namespaces); workers run as plain processes"
    monkeypatch.setattr(host_mod, "can_make_namespaces", lambda state_dir: why)
    with pytest.raises(FaultError) as info:
        _fault(_ctx(tmp_path), action="partition", worker=2).check_targets()
    assert "worker 2 has no host of its own" in info.value.what
    assert why in info.value.what


def test_a_worker_whose_host_is_not_up_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(host_mod, "can_make_namespaces", lambda state_dir: None)
    register(plan_host(tmp_path, 1))  # registered, but its namespace is gone
    monkeypatch.setattr(host_mod, "host_exists", lambda plan: False)
    with pytest.raises(FaultError, match="worker host w1 is not up"):
        _fault(_ctx(tmp_path), action="partition").check_targets()


@pytest.fixture
def one_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FaultContext:
    """A stack whose worker 1 has a registered host the checks believe exists."""
    register(plan_host(tmp_path, 1))
    monkeypatch.setattr(host_mod, "host_exists", lambda plan: True)
    return _ctx(tmp_path)


def test_a_worker_that_is_not_a_fault_target_is_refused(
    one_host: FaultContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = dataclasses.replace(one_host.stack, components=("airflow-celery-worker-2",))
    ctx = dataclasses.replace(one_host, stack=stack)
    with pytest.raises(FaultError, match="`airflow-celery-worker-1` is not a declared fault"):
        _fault(ctx, action="partition").check_targets()


def test_loss_is_refused_where_there_is_no_netem(
    one_host: FaultContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    why = "this kernel has no netem (Error: Specified qdisc kind is unknown.): …"
    monkeypatch.setattr(host_mod, "netem_unavailable", lambda plan: why)
    with pytest.raises(FaultError) as info:
        _fault(one_host, action="loss", loss_pct=5).check_targets()
    assert "packet loss on worker host 1 needs netem" in info.value.what
    assert "Specified qdisc kind is unknown" in info.value.what
    _fault(one_host, action="partition").check_targets()  # a partition needs no netem


def test_latency_without_netem_needs_the_stacks_toxiproxy(
    one_host: FaultContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(host_mod, "netem_unavailable", lambda plan: "no netem")
    with pytest.raises(FaultError, match="declares no Toxiproxy"):
        _fault(one_host, action="latency", latency_ms=100).check_targets()


def test_a_second_netem_fault_on_one_host_is_refused(
    one_host: FaultContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(host_mod, "netem_unavailable", lambda plan: None)
    monkeypatch.setattr(host_mod, "shaping", lambda plan: "limit 1000 delay 200ms")
    with pytest.raises(FaultError, match="already has netem"):
        _fault(one_host, action="loss", loss_pct=1).check_targets()


def test_the_per_host_proxies_are_the_workers_own() -> None:
    assert proxy_names(3) == ["celery-broker@w3", "airflow-db@w3", "airflow-api@w3"]


def test_reverting_a_partition_whose_host_is_gone_is_harmless(tmp_path: Path) -> None:
    # Nothing registered (the stack went down since): nothing to heal, no error.
    _fault(_ctx(tmp_path), action="partition").revert()
    _fault(_ctx(tmp_path), action="loss", loss_pct=3).revert()


# -- recover's summary line ---------------------------------------------------------------


def test_what_recover_did_on_hosts_is_one_phrase() -> None:
    assert HostsRestored().summary() == "none" and not HostsRestored()
    done = HostsRestored(
        healed=["dagstorm-abc123-w1"],
        netem_cleared=["dagstorm-abc123-w2"],
        toxics_removed=["celery-broker@w1/a", "airflow-db@w1/b"],
        proxies_enabled=["airflow-db@w1"],
    )
    assert done
    assert done.summary() == (
        "partition healed: dagstorm-abc123-w1; netem cleared: dagstorm-abc123-w2; "
        "proxies re-enabled: airflow-db@w1; 2 host toxic(s) removed"
    )


def test_the_cli_summary_line_says_what_was_restored_on_hosts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from dagstorm.cli import cli
    from dagstorm.engine import recover as recover_mod
    from dagstorm.engine.recover import RecoverReport

    report = RecoverReport(hosts=HostsRestored(healed=["dagstorm-abc123-w1"]))
    monkeypatch.setattr(recover_mod, "recover", lambda ctx, force: report)
    result = CliRunner().invoke(
        cli, ["--state-dir", str(tmp_path / "st"), "recover"], env={"DAGSTORM_STACK_FILE": ""}
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "recover: 0 fault(s) reverted, 0 stray toxic(s) removed, proxies re-enabled: none, "
        "worker hosts restored: partition healed: dagstorm-abc123-w1, stack restarted: no"
    )


# -- the netem path (this development VM's kernel has no netem: its calls are recorded) ----


class FakeNetem:
    """``netem``/``shaping``/``clear_netem`` of one host, as the kernel would answer them."""

    def __init__(self) -> None:
        self.qdisc: str | None = None
        self.calls: list[tuple[str, dict[str, float]]] = []

    def netem(self, plan: object, **settings: float) -> None:
        self.calls.append(("netem", settings))
        delay = f" delay {settings['latency_ms']:g}ms" if settings["latency_ms"] else ""
        loss = f" loss {settings['loss_pct']:g}%" if settings["loss_pct"] else ""
        self.qdisc = f"limit 1000{delay}{loss}"

    def shaping(self, plan: object) -> str | None:
        return self.qdisc

    def clear(self, plan: object) -> bool:
        self.calls.append(("clear", {}))
        had, self.qdisc = self.qdisc is not None, None
        return had


@pytest.fixture
def kernel(one_host: FaultContext, monkeypatch: pytest.MonkeyPatch) -> FakeNetem:
    fake = FakeNetem()
    monkeypatch.setattr(host_mod, "netem_unavailable", lambda plan: None)
    monkeypatch.setattr(host_mod, "netem", fake.netem)
    monkeypatch.setattr(host_mod, "shaping", fake.shaping)
    monkeypatch.setattr(host_mod, "clear_netem", fake.clear)
    return fake


def test_with_netem_loss_and_latency_are_a_qdisc_verified_and_cleared(
    one_host: FaultContext, kernel: FakeNetem
) -> None:
    from dagstorm.faults.manager import FaultManager

    manager = FaultManager(one_host)
    active = manager.inject(HostFault(action="loss", loss_pct=2.5))
    assert active.fault.applied["via"] == "netem"
    assert active.fault.applied["netem"] == "limit 1000 loss 2.5%"
    assert kernel.calls == [("netem", {"latency_ms": 0, "jitter_ms": 0, "loss_pct": 2.5})]
    assert active.evidence.endswith("limit 1000 loss 2.5%")
    with pytest.raises(FaultError, match="already has netem"):
        manager.check(HostFault(action="latency", latency_ms=100))
    manager.revert(active)
    assert kernel.qdisc is None and kernel.calls[-1] == ("clear", {})

    active = manager.inject(HostFault(action="latency", latency_ms=100, jitter_ms=10))
    assert kernel.calls[-1] == ("netem", {"latency_ms": 100, "jitter_ms": 10, "loss_pct": 0})
    manager.revert(active)
    active.fault.revert()  # twice: harmless
    assert kernel.qdisc is None


def test_a_qdisc_that_does_not_show_the_fault_fails_verify_and_is_reverted(
    one_host: FaultContext, kernel: FakeNetem, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagstorm.faults.manager import FaultManager

    monkeypatch.setattr(kernel, "qdisc", None)
    monkeypatch.setattr(host_mod, "netem", lambda plan, **settings: None)  # silently ignored
    with pytest.raises(FaultError, match="no netem loss"):
        FaultManager(one_host).inject(HostFault(action="loss", loss_pct=5))
    events = [e["event"] for e in one_host.journal.entries()]
    assert events == ["intent", "applied", "inject_failed", "reverted"]
