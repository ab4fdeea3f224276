"""Worker hosts on the machine: real namespaces, veth links, TCP, partition, netem, sweep.

Needs root and iproute2 (skipped with the probe's reason otherwise). Every test
works in its own temporary state directory, so its names are its own, and
sweeps them in ``finally``; none touches a namespace or link it did not make.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from dagstorm.clients.toxiproxy import ToxiproxyClient, latency
from dagstorm.core.errors import ToxiproxyError, WorkerHostError
from dagstorm.stack.config import Ports
from dagstorm.stack.embedded.hosts import namespaces as hosts
from dagstorm.stack.embedded.hosts.faults import (
    clear_netem,
    heal,
    is_partitioned,
    netem,
    netem_unavailable,
    partition,
    restore,
    shaping,
)
from dagstorm.stack.embedded.hosts.lifecycle import bring_up, restore_all, tear_down
from dagstorm.stack.embedded.hosts.links import host_proxies
from dagstorm.stack.embedded.hosts.namespaces import (
    can_make_namespaces,
    exec_prefix,
    link,
    make_host,
    namespace_pids,
    namespaces,
    remove_host,
    root_links,
    sweep,
)
from dagstorm.stack.embedded.hosts.plan import HostPlan, plan_host
from dagstorm.stack.embedded.hosts.registry import read_registry, registry_path
from dagstorm.stack.embedded.layout import project_root
from dagstorm.stack.embedded.ports import free_port
from dagstorm.stack.embedded.processes import MARKER_ENV


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


def assert_nothing_left(state_dir: Path) -> None:
    """No namespace, no link of this stack remains, and the registry is empty."""
    prefix = plan_host(state_dir, 1).namespace.rsplit("-", 1)[0]
    assert not [n for n in namespaces() if n.startswith(prefix)]
    owner = plan_host(state_dir, 1).owner
    assert not [x["ifname"] for x in root_links() if x.get("ifalias") == owner]
    assert not [x["ifname"] for x in root_links() if x["ifname"].startswith(prefix[-6:])]
    assert read_registry(state_dir) == []


class Listener:
    """A TCP server bound to one address only that answers each byte with ``ok``."""

    def __init__(self, address: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((address, 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(5)
                with contextlib.suppress(OSError):
                    if conn.recv(1):
                        conn.sendall(b"ok")

    def close(self) -> None:
        """Stop serving (bounded: the accept loop wakes every 0.2 s)."""
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


_CLIENT = """
import socket, sys, time
t0 = time.monotonic()
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
    s.sendall(b"x")
    s.settimeout(float(sys.argv[3]))
    answer = s.recv(2)
    print("ok" if answer == b"ok" else "bad", round((time.monotonic() - t0) * 1000, 1))
except OSError as exc:
    print("fail", type(exc).__name__)
"""


def round_trip(
    plan: HostPlan, port: int, timeout: float = 1.5, address: str | None = None
) -> tuple[str, float]:
    """Connect from inside the namespace (to the host side); (outcome, connect+echo ms)."""
    target = address or plan.host_ip
    argv = [*exec_prefix(plan), sys.executable, "-c", _CLIENT, target, str(port)]
    done = subprocess.run(
        [*argv, str(timeout)], check=True, capture_output=True, text=True, timeout=30
    )
    outcome, value = done.stdout.split()
    return outcome, float(value) if outcome == "ok" else -1.0


def test_a_host_reaches_the_host_side_address_and_a_partition_cuts_it(state_dir: Path) -> None:
    plan = plan_host(state_dir, 1)
    make_host(plan)
    make_host(plan)  # idempotent
    listener = Listener(plan.host_ip)
    try:
        assert plan.namespace in namespaces()
        host_side = link(plan.host_if)
        assert host_side is not None and host_side["ifalias"] == plan.owner
        assert "UP" in host_side["flags"]
        inside = link(plan.ns_if, plan.namespace)
        assert inside is not None
        assert read_registry(state_dir) == [plan]

        outcome, ms = round_trip(plan, listener.port)
        assert outcome == "ok", "the namespace cannot reach the host-side address"
        assert ms > 0
        # Nothing else of the machine is reachable: no default route, no root loopback.
        routes = subprocess.run(
            [*exec_prefix(plan), "ip", "route", "show", "default"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert routes.stdout.strip() == ""
        on_loopback = Listener("127.0.0.1")
        try:
            assert round_trip(plan, on_loopback.port, address="127.0.0.1")[0] == "fail"
        finally:
            on_loopback.close()

        partition(plan)
        assert is_partitioned(plan)
        assert round_trip(plan, listener.port, timeout=1.0)[0] == "fail"

        heal(plan)
        assert not is_partitioned(plan)
        assert round_trip(plan, listener.port)[0] == "ok"
    finally:
        listener.close()
        remove_host(plan)
    assert_nothing_left(state_dir)


def test_netem_latency_is_added_and_cleared(state_dir: Path) -> None:
    plan = plan_host(state_dir, 2)
    make_host(plan)
    reason = netem_unavailable(plan)
    if reason is not None:
        pytest.skip(reason)
    listener = Listener(plan.host_ip)
    try:
        base = min(round_trip(plan, listener.port)[1] for _ in range(3))
        netem(plan, latency_ms=200)
        assert shaping(plan) is not None and "200ms" in str(shaping(plan))
        delayed = min(round_trip(plan, listener.port, timeout=5)[1] for _ in range(3))
        print(f"netem 200 ms: round trip {base:.1f} ms → {delayed:.1f} ms")
        # Connect and echo each cross the namespace's egress once at least: ≥ 150 ms added.
        assert delayed - base >= 150
        assert clear_netem(plan)
        assert shaping(plan) is None
        assert min(round_trip(plan, listener.port)[1] for _ in range(3)) < base + 100
    finally:
        listener.close()


def test_faults_on_a_missing_host_are_refused(state_dir: Path) -> None:
    plan = plan_host(state_dir, 3)
    with pytest.raises(WorkerHostError, match="does not exist"):
        partition(plan)
    with pytest.raises(WorkerHostError, match="does not exist"):
        netem(plan, latency_ms=10)
    assert not is_partitioned(plan)
    assert clear_netem(plan) is False


def test_restore_heals_a_partition(state_dir: Path) -> None:
    plan = plan_host(state_dir, 4)
    make_host(plan)
    partition(plan)
    done = restore(plan)
    assert done.healed and not is_partitioned(plan)
    assert not restore(plan).healed


def _sleeper(plan: HostPlan, marker: str | None) -> subprocess.Popen[bytes]:
    env = {"PATH": os.environ["PATH"], **({MARKER_ENV: marker} if marker else {})}
    return subprocess.Popen(
        [*exec_prefix(plan), sys.executable, "-c", "import time; time.sleep(60)"],
        env=env,
        cwd="/",
        stdin=subprocess.DEVNULL,
    )


def _wait_inside(plan: HostPlan, pid: int) -> None:
    deadline = time.monotonic() + 10
    while pid not in namespace_pids(plan) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pid in namespace_pids(plan)


def test_sweep_after_a_lost_registry_stops_our_process_and_removes_the_host(
    state_dir: Path,
) -> None:
    plan = plan_host(state_dir, 5)
    make_host(plan)
    worker = _sleeper(plan, plan.state_dir)
    try:
        _wait_inside(plan, worker.pid)
        registry_path(state_dir).unlink()  # as if dagstorm died and the run dir was lost
        assert sweep(state_dir) == [plan.namespace]
        assert worker.wait(timeout=10) is not None
        assert_nothing_left(state_dir)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=5)


def test_sweep_tolerates_a_half_made_host(state_dir: Path) -> None:
    plan = plan_host(state_dir, 6)
    make_host(plan)
    subprocess.run(["ip", "link", "del", plan.host_if], check=True)  # link gone, ns left
    assert sweep(state_dir) == [plan.namespace]
    assert_nothing_left(state_dir)


def test_a_process_not_started_by_dagstorm_keeps_the_host(state_dir: Path) -> None:
    plan = plan_host(state_dir, 7)
    make_host(plan)
    stranger = _sleeper(plan, marker=None)
    try:
        _wait_inside(plan, stranger.pid)
        with pytest.raises(WorkerHostError, match=str(stranger.pid)):
            remove_host(plan)
        assert psutil.pid_exists(stranger.pid) and stranger.poll() is None
        assert plan.namespace in namespaces()
    finally:
        stranger.kill()
        stranger.wait(timeout=5)
    remove_host(plan)


def test_sweep_touches_only_this_stack(
    state_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other_dir = tmp_path_factory.mktemp("other-stack")
    ours, theirs = plan_host(state_dir, 1), plan_host(other_dir, 1)
    make_host(ours)
    try:
        make_host(theirs)
        assert sweep(state_dir) == [ours.namespace]
        assert theirs.namespace in namespaces() and link(theirs.host_if) is not None
    finally:
        sweep(other_dir)
    assert_nothing_left(other_dir)


def _toxiproxy_server() -> str | None:
    """The embedded stack's Toxiproxy binary (built by `stack install`), if any."""
    for candidate in (
        os.environ.get("DAGSTORM_TOXIPROXY_BIN"),
        str(project_root() / ".dagstorm" / "bin" / "toxiproxy-server"),
        shutil.which("toxiproxy-server"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@contextlib.contextmanager
def own_toxiproxy() -> Iterator[ToxiproxyClient]:
    """A Toxiproxy server of this test alone, API on a free loopback port."""
    binary = _toxiproxy_server()
    assert binary is not None, "no toxiproxy-server: `dagstorm stack install` builds it"
    api = free_port()
    server = subprocess.Popen(
        [binary, "-host", "127.0.0.1", "-port", str(api)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with ToxiproxyClient(f"http://127.0.0.1:{api}", timeout=3.0) as client:
            deadline = time.monotonic() + 15
            while True:
                try:
                    client.version()
                    break
                except ToxiproxyError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise
                    time.sleep(0.1)
            yield client
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


def test_a_per_host_proxy_is_the_only_way_in_and_delays_one_host(state_dir: Path) -> None:
    """A loopback-only service, reached from the namespace through ``celery-broker@w1``."""
    plan = plan_host(state_dir, 1)
    make_host(plan)
    service = Listener("127.0.0.1")  # like Redis: loopback only
    ports = Ports(celery_broker=free_port(), redis=service.port)
    broker = next(p for p in host_proxies(plan, ports) if p.link == "celery-broker")
    try:
        with own_toxiproxy() as toxiproxy:
            assert round_trip(plan, service.port, address="127.0.0.1")[0] == "fail"
            toxiproxy.ensure_proxy(broker.name, listen=broker.listen, upstream=broker.upstream)
            port = ports.celery_broker
            outcome, base = round_trip(plan, port)
            assert outcome == "ok", "the namespace cannot reach the service through its proxy"
            base = min(base, *(round_trip(plan, port)[1] for _ in range(2)))

            toxiproxy.add_toxic(broker.name, latency(200))
            delayed = min(round_trip(plan, port, timeout=5)[1] for _ in range(3))
            print(f"toxiproxy latency 200 ms on {broker.name}: {base:.1f} → {delayed:.1f} ms")
            assert delayed - base >= 150
            toxiproxy.remove_toxic(broker.name, "latency_downstream")

            partition(plan)
            assert round_trip(plan, port, timeout=1.0)[0] == "fail"
            heal(plan)
            assert round_trip(plan, port)[0] == "ok"
    finally:
        service.close()
        remove_host(plan)


def test_the_probe_clears_a_probe_left_by_a_killed_dagstorm(state_dir: Path) -> None:
    probe = plan_host(state_dir, 1).namespace.removesuffix("w1") + "probe"
    subprocess.run(["ip", "netns", "add", probe], check=True)
    try:
        assert hosts._probe_namespaces(state_dir) is None  # uncached: this probe, now
        assert probe not in namespaces()
    finally:
        if probe in namespaces():
            subprocess.run(["ip", "netns", "del", probe], check=False)


def test_bring_up_restore_all_and_tear_down_with_a_real_toxiproxy(state_dir: Path) -> None:
    plan = plan_host(state_dir, 2)
    service = Listener("127.0.0.1")
    # Every proxy bring_up makes on free ports: none on a port the real stack uses.
    ports = Ports(
        celery_broker=free_port(),
        redis=service.port,
        airflow_db=free_port(),
        postgres=free_port(),
        airflow_api=free_port(),
        airflow_api_server=free_port(),
    )
    try:
        with own_toxiproxy() as toxiproxy:
            toxiproxy.ensure_proxy(
                "celery-broker", listen=f"127.0.0.1:{ports.celery_broker}", upstream="x:1"
            )
            bring_up(plan, toxiproxy, ports)
            bring_up(plan, toxiproxy, ports)  # idempotent
            names = {p.name for p in toxiproxy.list_proxies()}
            assert {"celery-broker@w2", "airflow-db@w2", "airflow-api@w2"} <= names
            assert round_trip(plan, ports.celery_broker)[0] == "ok"

            toxiproxy.add_toxic("celery-broker@w2", latency(500))
            toxiproxy.add_toxic("celery-broker", latency(500))  # a stack-wide link's: kept
            toxiproxy.disable_proxy("airflow-db@w2")
            partition(plan)
            undone = restore_all(state_dir, toxiproxy)
            assert undone.healed == [plan.namespace]
            assert undone.toxics_removed == ["celery-broker@w2/latency_downstream"]
            assert undone.proxies_enabled == ["airflow-db@w2"]
            assert toxiproxy.list_toxics("celery-broker")  # not a host proxy: untouched
            assert round_trip(plan, ports.celery_broker)[0] == "ok"

            assert tear_down(state_dir, toxiproxy) == [plan.namespace]
            assert {p.name for p in toxiproxy.list_proxies()} == {"celery-broker"}
            assert_nothing_left(state_dir)
    finally:
        service.close()
