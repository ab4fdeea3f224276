"""Worker hosts without the machine: names, addresses, registry, proxies, environment."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest

from dagstorm.core.errors import WorkerHostError
from dagstorm.core.progress import Progress
from dagstorm.stack.config import Ports, StackConfig
from dagstorm.stack.embedded.components.airflow import airflow_env
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.hosts import faults as host_faults
from dagstorm.stack.embedded.hosts.lifecycle import is_host_proxy
from dagstorm.stack.embedded.hosts.links import (
    REWRITTEN,
    host_proxies,
    host_proxy_name,
    worker_env,
)
from dagstorm.stack.embedded.hosts.plan import (
    MAX_HOSTS,
    HostPlan,
    index_of_link,
    owner_string,
    plan_host,
    stack_tag,
)
from dagstorm.stack.embedded.hosts.registry import (
    read_registry,
    register,
    registry_path,
    unregister,
)


def test_names_carry_the_stack_hash_and_fit_interface_limits(tmp_path: Path) -> None:
    tag = stack_tag(tmp_path)
    for index in (1, 9, MAX_HOSTS):
        plan = plan_host(tmp_path, index)
        assert plan.namespace == f"dagstorm-{tag[:6]}-w{index}"
        assert plan.host_if == f"ds{tag[:6]}w{index}"
        assert len(plan.host_if) <= 15  # IFNAMSIZ - 1
        assert plan.owner == owner_string(tmp_path) == f"dagstorm-stack:{tag}"
        assert plan.state_dir == str(tmp_path.resolve())
        assert index_of_link(tmp_path, plan.host_if) == index


def test_the_two_ends_share_a_private_slash_30(tmp_path: Path) -> None:
    plan = plan_host(tmp_path, 3)
    host = ipaddress.IPv4Interface(plan.host_cidr)
    inside = ipaddress.IPv4Interface(plan.ns_cidr)
    assert host.network == inside.network == plan.subnet
    assert plan.subnet.prefixlen == 30
    assert plan.subnet.subnet_of(ipaddress.IPv4Network("10.231.0.0/16"))
    assert int(inside.ip) == int(host.ip) + 1
    assert plan.host_ip == str(host.ip) and plan.ns_ip == str(inside.ip)
    assert host.ip not in (plan.subnet.network_address, plan.subnet.broadcast_address)


def test_one_stack_s_hosts_never_share_a_subnet(tmp_path: Path) -> None:
    subnets = [plan_host(tmp_path, i).subnet for i in range(1, MAX_HOSTS + 1)]
    assert len(set(subnets)) == MAX_HOSTS
    assert all(not a.overlaps(b) for a in subnets for b in subnets if a != b)


def test_two_state_dirs_get_different_names_and_subnets() -> None:
    # Fixed paths: the slot is picked by hash, so the outcome is deterministic.
    one, two = plan_host(Path("/srv/stack-a"), 1), plan_host(Path("/srv/stack-b"), 1)
    assert one.namespace != two.namespace and one.host_if != two.host_if
    assert one.owner != two.owner
    assert not one.subnet.overlaps(two.subnet)


def test_a_configured_pool_is_used_and_checked(tmp_path: Path) -> None:
    pool = ipaddress.IPv4Network("10.99.0.0/24")  # 256 addresses: 4 stacks of 16 /30s
    plan = plan_host(tmp_path, 2, pool=pool)
    assert plan.subnet.subnet_of(pool)
    with pytest.raises(ValueError, match="private"):
        plan_host(tmp_path, 1, pool=ipaddress.IPv4Network("8.8.0.0/16"))
    with pytest.raises(ValueError, match="smaller"):
        plan_host(tmp_path, 1, pool=ipaddress.IPv4Network("10.0.0.0/28"))
    for bad in (0, MAX_HOSTS + 1):
        with pytest.raises(ValueError, match="outside"):
            plan_host(tmp_path, bad)


def test_link_names_of_other_stacks_are_not_ours(tmp_path: Path) -> None:
    other = plan_host(tmp_path / "other", 1)
    assert index_of_link(tmp_path, other.host_if) is None
    assert index_of_link(tmp_path, "eth0") is None
    assert index_of_link(tmp_path, f"ds{stack_tag(tmp_path)[:6]}p") is None  # the probe
    assert index_of_link(tmp_path, f"ds{stack_tag(tmp_path)[:6]}w99") is None


def test_registry_round_trip_replace_and_forget(tmp_path: Path) -> None:
    one, two = plan_host(tmp_path, 1), plan_host(tmp_path, 2)
    assert read_registry(tmp_path) == []
    register(two)
    register(one)
    register(one)
    assert read_registry(tmp_path) == [one, two]
    assert HostPlan.from_dict(one.to_dict()) == one
    unregister(one)
    assert read_registry(tmp_path) == [two]
    unregister(one)  # not there: nothing
    unregister(two)
    assert json.loads(registry_path(tmp_path).read_text()) == {"hosts": []}


def test_registry_skips_garbage_and_other_stacks_entries(tmp_path: Path) -> None:
    path = registry_path(tmp_path)
    path.parent.mkdir(parents=True)
    foreign = plan_host(tmp_path / "elsewhere", 1).to_dict()
    ours = plan_host(tmp_path, 2).to_dict()
    path.write_text(json.dumps({"hosts": [foreign, {"index": "x"}, 7, ours]}))
    assert [p.index for p in read_registry(tmp_path)] == [2]
    path.write_text("{not json")
    assert read_registry(tmp_path) == []


def test_host_proxies_listen_on_the_host_address_with_the_stack_ports(tmp_path: Path) -> None:
    plan = plan_host(tmp_path, 4)
    ports = Ports()
    proxies = {p.link: p for p in host_proxies(plan, ports)}
    assert set(proxies) == {"celery-broker", "airflow-db", "airflow-api"}
    broker = proxies["celery-broker"]
    assert broker.name == host_proxy_name("celery-broker", 4) == "celery-broker@w4"
    assert broker.listen == f"{plan.host_ip}:{ports.celery_broker}"
    assert broker.upstream == f"127.0.0.1:{ports.redis}"
    assert proxies["airflow-db"].upstream == f"127.0.0.1:{ports.postgres}"
    assert proxies["airflow-api"].listen == f"{plan.host_ip}:{ports.airflow_api}"
    assert proxies["airflow-api"].upstream == f"127.0.0.1:{ports.airflow_api_server}"


def _stack_env(ports: Ports) -> dict[str, str]:
    """The shape of airflow_env's addresses for CeleryExecutor."""
    return {
        "AIRFLOW__CELERY__BROKER_URL": f"redis://:pw@127.0.0.1:{ports.celery_broker}/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": (
            f"db+postgresql://u:p@127.0.0.1:{ports.airflow_db}/airflow"
        ),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": (
            f"postgresql+psycopg2://u:p@127.0.0.1:{ports.airflow_db}/airflow"
        ),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": (
            f"http://127.0.0.1:{ports.airflow_api_server}/execution/"
        ),
        "AIRFLOW_HOME": "/state/airflow",
    }


def test_worker_env_points_every_service_at_the_host_proxies(tmp_path: Path) -> None:
    plan, ports = plan_host(tmp_path, 1), Ports()
    env = worker_env(plan, _stack_env(ports), ports)
    h = plan.host_ip
    assert env["AIRFLOW__CELERY__BROKER_URL"] == f"redis://:pw@{h}:{ports.celery_broker}/0"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].endswith(f"@{h}:{ports.airflow_db}/airflow")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith(f"@{h}:{ports.airflow_db}/airflow")
    # The api-server's own port becomes the airflow-api proxy's port.
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == (
        f"http://{h}:{ports.airflow_api}/execution/"
    )
    assert env["AIRFLOW_HOME"] == "/state/airflow"
    assert not any("127.0.0.1" in env[k] for k in _stack_env(ports) if k != "AIRFLOW_HOME")


def test_worker_env_refuses_an_address_it_cannot_rewrite(tmp_path: Path) -> None:
    plan, ports = plan_host(tmp_path, 1), Ports()
    env = {**_stack_env(ports), "AIRFLOW__CELERY__BROKER_URL": "redis://elsewhere:6379/0"}
    with pytest.raises(WorkerHostError, match="BROKER_URL"):
        worker_env(plan, env, ports)


def test_netem_builds_one_tc_command_inside_the_namespace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = plan_host(tmp_path, 1)
    sent: list[list[str]] = []
    monkeypatch.setattr(host_faults, "namespaces", lambda: [plan.namespace])
    monkeypatch.setattr(host_faults, "link", lambda name, ns=None: {"ifname": name})
    monkeypatch.setattr(host_faults, "exec_prefix", lambda p: ["ip", "netns", "exec", p.namespace])

    def record(argv: list[str], *, check: bool = True) -> object:
        sent.append(argv)
        return None

    monkeypatch.setattr(host_faults, "run_command", record)
    host_faults.netem(plan, latency_ms=200, jitter_ms=10, loss_pct=5)
    host_faults.netem(plan, loss_pct=2.5)
    tail = [argv[argv.index("qdisc") :] for argv in sent]
    assert all(argv[:4] == ["ip", "netns", "exec", plan.namespace] for argv in sent)
    assert tail == [
        [
            "qdisc",
            "replace",
            "dev",
            "eth0",
            "root",
            "netem",
            "delay",
            "200ms",
            "10ms",
            "loss",
            "5%",
        ],
        ["qdisc", "replace", "dev", "eth0", "root", "netem", "loss", "2.5%"],
    ]
    for bad in ({"latency_ms": -1}, {"loss_pct": 101}, {}):
        with pytest.raises(ValueError):
            host_faults.netem(plan, **bad)


def test_host_proxy_names_are_told_from_stack_links() -> None:
    assert is_host_proxy("celery-broker@w1") and is_host_proxy("airflow-api@w16")
    for name in ("celery-broker", "kafka@w1", "airflow-db@w", "airflow-db@w1x", "x@w1"):
        assert not is_host_proxy(name)


def test_worker_env_rewrites_the_stack_s_real_airflow_env(tmp_path: Path) -> None:
    """Guards against airflow_env drifting from what worker_env knows how to rewrite."""
    config = StackConfig.model_validate(
        {"state_dir": str(tmp_path), "airflow": {"executor": "celery"}}
    )
    ctx = StackContext(config=config, progress=Progress(quiet=True))
    plan, ports = plan_host(tmp_path, 1), config.ports
    stack = airflow_env(ctx)
    assert set(REWRITTEN) <= set(stack)
    env = worker_env(plan, stack, ports)
    for key in REWRITTEN:
        assert plan.host_ip in env[key] and "127.0.0.1" not in env[key], key
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].startswith(
        f"http://{plan.host_ip}:{ports.airflow_api}/"
    )
    assert {k: v for k, v in env.items() if k not in REWRITTEN} == {
        k: v for k, v in stack.items() if k not in REWRITTEN
    }
