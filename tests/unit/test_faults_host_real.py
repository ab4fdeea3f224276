"""The host fault on real namespaces: partition, latency through the host's proxies, recover.

Needs root and iproute2 (skipped with the probe's reason otherwise). Each test has
its own temporary state directory (so its own namespace names and /30s) and, where
Toxiproxy is needed, a Toxiproxy server of its own on a free loopback port; every
port the per-host proxies listen on is a free one too. Everything is swept after.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from dagstorm.clients.toxiproxy import ToxiproxyClient, latency
from dagstorm.core.errors import FaultError
from dagstorm.core.progress import Progress
from dagstorm.engine import recover as recover_mod
from dagstorm.engine.recover import recover
from dagstorm.faults import host as host_mod
from dagstorm.faults.base import FaultContext
from dagstorm.faults.journal import FaultJournal
from dagstorm.faults.kinds import build_fault
from dagstorm.faults.manager import FaultManager
from dagstorm.faults.specs import HostFault
from dagstorm.stack.config import Ports, StackConfig
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.hosts.faults import is_partitioned, netem_unavailable, partition
from dagstorm.stack.embedded.hosts.lifecycle import bring_up, tear_down
from dagstorm.stack.embedded.hosts.namespaces import can_make_namespaces, make_host, sweep
from dagstorm.stack.embedded.hosts.plan import HostPlan, plan_host
from tests.unit.stacks import airflow_stack
from tests.unit.test_stack_worker_hosts_real import (
    Listener,
    assert_nothing_left,
    own_toxiproxy,
    round_trip,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    """A state dir whose worker hosts are all swept afterwards."""
    reason = can_make_namespaces(tmp_path)
    if reason is not None:
        # CI runs as root with iproute2: there a machine that cannot is a failure.
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield tmp_path
    finally:
        sweep(tmp_path)
        assert_nothing_left(tmp_path)


def free_ports(**upstreams: int) -> Ports:
    """Ports whose per-host proxies and their upstreams are all free ones (none of the stack's).

    Distinct: each free port is asked for while the earlier ones are still held, since
    the kernel may hand the same free port out twice in a row (``airflow_db`` and
    ``postgres`` both 42769 once).
    """
    names = [
        "celery_broker", "redis", "airflow_db", "postgres", "airflow_api",
        "airflow_api_server", "toxiproxy_api",
    ]  # fmt: skip
    with contextlib.ExitStack() as held:
        numbers: dict[str, int] = {}
        for name in names:
            sock = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            numbers[name] = sock.getsockname()[1]
    return Ports(**{**numbers, **upstreams})


def fault_context(state_dir: Path, ports: Ports, toxiproxy_url: str | None = None) -> FaultContext:
    """An embedded CeleryExecutor stack with worker hosts, in ``state_dir``."""
    config = StackConfig.model_validate(
        {
            "state_dir": str(state_dir),
            "airflow": {"executor": "celery"},
            "celery": {"worker_hosts": True, "workers": 3},
            "ports": ports.model_dump(),
        }
    )
    stack = airflow_stack(
        kind="embedded",
        toxiproxy_url=toxiproxy_url,
        components=tuple(f"airflow-celery-worker-{n}" for n in (1, 2, 3)),
    )
    embedded = StackContext(config=config, progress=Progress(quiet=True))
    journal = FaultJournal(state_dir / "faults" / "journal.jsonl")
    return FaultContext(stack=stack, journal=journal, embedded=embedded)


def _url(client: ToxiproxyClient) -> str:
    return client.base_url


def _events(ctx: FaultContext, fault_id: str) -> list[str]:
    return [e["event"] for e in ctx.journal.entries() if e["id"] == fault_id]


def test_a_partition_cuts_the_host_off_and_its_revert_lets_it_back(state_dir: Path) -> None:
    plan = plan_host(state_dir, 1)
    make_host(plan)
    listener = Listener(plan.host_ip)
    ctx = fault_context(state_dir, free_ports())
    try:
        assert round_trip(plan, listener.port)[0] == "ok"
        manager = FaultManager(ctx)
        active = manager.inject(HostFault(action="partition", worker=1))
        assert active.evidence == f"{plan.host_if} down: {plan.namespace} cut off"
        assert active.fault.applied["host"] == plan.namespace
        assert is_partitioned(plan)
        assert round_trip(plan, listener.port, timeout=1.0)[0] == "fail"

        manager.revert(active)
        assert not is_partitioned(plan)
        assert round_trip(plan, listener.port)[0] == "ok"
        assert _events(ctx, active.fault_id) == ["intent", "applied", "verified", "reverted"]

        active.fault.revert()  # twice: harmless, still reachable
        manager.revert(active)  # already reverted: nothing journaled again
        assert round_trip(plan, listener.port)[0] == "ok"
        assert _events(ctx, active.fault_id)[-1] == "reverted"
        assert len(_events(ctx, active.fault_id)) == 4
    finally:
        listener.close()


def _fallback(plan: HostPlan, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the fault take the no-netem path even on a kernel with netem."""
    if netem_unavailable(plan) is None:
        monkeypatch.setattr(host_mod, "netem_unavailable", lambda plan: "no netem (forced)")


def test_latency_without_netem_is_toxics_on_the_hosts_proxies(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = plan_host(state_dir, 2)
    service = Listener("127.0.0.1")  # like Redis: loopback only, reached through the proxy
    ports = free_ports(redis=service.port)
    port = ports.celery_broker
    try:
        with own_toxiproxy() as toxiproxy:
            bring_up(plan, toxiproxy, ports)
            _fallback(plan, monkeypatch)
            ctx = fault_context(state_dir, ports, _url(toxiproxy))
            manager = FaultManager(ctx)
            with pytest.raises(FaultError, match="needs netem"):
                manager.check(HostFault(action="loss", worker=2, loss_pct=10))

            base = min(round_trip(plan, port)[1] for _ in range(3))
            active = manager.inject(HostFault(action="latency", worker=2, latency_ms=200))
            applied = active.fault.applied
            assert applied["via"] == "toxiproxy" and "no netem" in applied["why"]
            name = f"dagstorm-{active.fault_id}-upstream"
            assert applied["toxics"] == [
                f"celery-broker@w2/{name}",
                f"airflow-db@w2/{name}",
                f"airflow-api@w2/{name}",
            ]
            assert active.evidence.startswith("latency toxic on celery-broker@w2")
            delayed = min(round_trip(plan, port, timeout=5)[1] for _ in range(3))
            print(f"host latency 200 ms via toxics: round trip {base:.1f} → {delayed:.1f} ms")
            # Once per request (upstream only, as netem on the host's egress): not twice.
            assert 150 <= delayed - base < 350

            manager.revert(active)
            for proxy in ("celery-broker@w2", "airflow-db@w2", "airflow-api@w2"):
                assert toxiproxy.list_toxics(proxy) == []
            after = min(round_trip(plan, port)[1] for _ in range(3))
            assert after < base + 100
            active.fault.revert()  # twice: harmless
    finally:
        service.close()


def test_latency_without_netem_and_without_the_hosts_proxies_is_refused(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = plan_host(state_dir, 3)
    make_host(plan)  # the host, but no proxies of its own
    _fallback(plan, monkeypatch)
    with own_toxiproxy() as toxiproxy:
        ctx = fault_context(state_dir, free_ports(), _url(toxiproxy))
        with pytest.raises(FaultError, match="no Toxiproxy proxy celery-broker@w3"):
            FaultManager(ctx).check(HostFault(action="latency", worker=3, latency_ms=50))
    assert ctx.journal.entries() == []


@pytest.fixture
def no_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    """``recover`` with no components to heal (its host work is what is under test)."""
    monkeypatch.setattr(recover_mod, "EmbeddedStack", lambda ctx: SimpleNamespace(components={}))
    monkeypatch.setattr(recover_mod, "stop_orphan_swarms", lambda run_dir: [])


@pytest.mark.usefixtures("no_stack")
def test_recover_restores_a_partition_and_a_host_toxic_left_behind(state_dir: Path) -> None:
    plan = plan_host(state_dir, 1)
    service = Listener("127.0.0.1")
    ports = free_ports(redis=service.port)
    try:
        with own_toxiproxy() as toxiproxy:
            bring_up(plan, toxiproxy, ports)
            # As a killed dagstorm whose journal was lost would leave them.
            partition(plan)
            toxiproxy.add_toxic("celery-broker@w1", latency(300, name="dagstorm-gone-upstream"))
            ctx = fault_context(state_dir, ports, _url(toxiproxy))
            report = recover(ctx, sleep=lambda s: None)
            assert report.errors == []
            assert report.hosts.healed == [plan.namespace]
            assert report.hosts.toxics_removed == ["celery-broker@w1/dagstorm-gone-upstream"]
            assert not is_partitioned(plan)
            assert round_trip(plan, ports.celery_broker)[0] == "ok"
            again = recover(ctx, sleep=lambda s: None)
            assert not again.hosts and again.errors == []
            assert tear_down(state_dir, toxiproxy) == [plan.namespace]
    finally:
        service.close()


def _stack_file(state_dir: Path, ports: Ports) -> Path:
    path = state_dir / "stack.yaml"
    body = {
        "kind": "embedded",
        "state_dir": str(state_dir),
        "airflow": {"executor": "celery"},
        "celery": {"worker_hosts": True, "workers": 1},
        "ports": ports.model_dump(),
    }
    path.write_text(json.dumps(body))  # JSON is YAML
    return path


def _dagstorm(stack_file: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DAGSTORM_STACK_FILE": ""}
    return subprocess.Popen(
        [sys.executable, "-m", "dagstorm", "--stack-file", str(stack_file), *args],
        env=env,
        cwd=str(ROOT),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait(what: str, check: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_the_shell_holds_a_partition_for_its_duration(state_dir: Path) -> None:
    plan = plan_host(state_dir, 1)
    make_host(plan)
    proc = _dagstorm(
        _stack_file(state_dir, free_ports()),
        *("fault", "inject", "host", "action=partition", "worker=1", "--duration", "2s"),
    )
    try:
        _wait("the partition", lambda: is_partitioned(plan) or proc.poll() is not None)
        assert is_partitioned(plan)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == 0, err
    assert "worker host 1 partitioned" in out and f"{plan.host_if} down" in out
    assert "reverted" in out.splitlines()[-1]
    assert not is_partitioned(plan)


@pytest.mark.usefixtures("no_stack")
def test_recover_after_a_sigkill_of_dagstorm_heals_the_journaled_partition(
    state_dir: Path,
) -> None:
    plan = plan_host(state_dir, 1)
    make_host(plan)
    listener = Listener(plan.host_ip)
    ports = free_ports()
    ctx = fault_context(state_dir, ports)
    proc = _dagstorm(
        _stack_file(state_dir, ports),
        *("fault", "inject", "host", "action=partition", "worker=1", "--duration", "10m"),
    )
    try:
        _wait(
            "the verified partition",
            lambda: (
                "verified" in [e["event"] for e in ctx.journal.entries()] or proc.poll() is not None
            ),
        )
        assert proc.poll() is None, proc.communicate()[1]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert is_partitioned(plan), "the killed dagstorm left no partition behind"
        [left] = ctx.journal.open_faults()

        report = recover(ctx, sleep=lambda s: None)
        assert report.errors == [] and report.reverted == [left.fault_id]
        assert not is_partitioned(plan)
        assert round_trip(plan, listener.port)[0] == "ok"
        assert ctx.journal.open_faults() == []
        # Reverted through the journal; the restore pass found nothing more to do.
        assert not report.hosts
        reverted = build_fault(HostFault(action="partition"), left.fault_id, ctx)
        reverted.revert()  # a third time: still harmless
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        listener.close()
