"""Worker hosts: make and remove a stack's network namespaces and veth links.

A worker host is a network namespace with one veth link to the root namespace
and no other route: a worker started with :func:`exec_prefix` can reach the
host-side address only, where Toxiproxy's per-host proxies listen
(:mod:`dagstorm.stack.embedded.hosts.links`). Everything goes through ``ip``
(iproute2). Only what :func:`make_host` made is ever touched: namespaces and
links carry the stack's hash in their names, the host-side link carries the
stack's owner string as its alias, and the registry lists them.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import psutil

from dagstorm.core.errors import WorkerHostError
from dagstorm.stack.embedded.hosts.plan import (
    HostPlan,
    index_of_link,
    namespace_prefix,
    owner_string,
    plan_host,
    stack_tag,
)
from dagstorm.stack.embedded.hosts.registry import read_registry, register, unregister
from dagstorm.stack.embedded.processes import is_marked

_TIMEOUT_S = 15.0


def ip_binary() -> str | None:
    """The ``ip`` command (iproute2), or ``None``."""
    return shutil.which("ip") or next(
        (p for p in ("/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip") if Path(p).exists()), None
    )


def _ip() -> str:
    found = ip_binary()
    if found is None:
        raise WorkerHostError("`ip` (iproute2) is not installed", fix="apt-get install iproute2")
    return found


def run_command(argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` (bounded in time); a failure raises :class:`WorkerHostError` when ``check``."""
    shown = " ".join(argv)
    try:
        done = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise WorkerHostError(f"`{shown}` failed: {exc}") from exc
    if check and done.returncode != 0:
        raise WorkerHostError(f"`{shown}` failed: {done.stderr.strip() or done.returncode}")
    return done


def run_ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``ip <args>``; a failure raises :class:`WorkerHostError` when ``check``."""
    return run_command([_ip(), *args], check=check)


def namespaces() -> list[str]:
    """Every network namespace ``ip netns`` knows (names only)."""
    done = run_ip("netns", "list", check=False)
    return [line.split()[0] for line in done.stdout.splitlines() if line.strip()]


def link(name: str, namespace: str | None = None) -> dict[str, Any] | None:
    """``ip -j link show`` of one link (in ``namespace``), or ``None`` if it does not exist."""
    where = ("-n", namespace) if namespace else ()
    done = run_ip(*where, "-j", "link", "show", "dev", name, check=False)
    if done.returncode != 0:
        return None
    try:
        found: list[dict[str, Any]] = json.loads(done.stdout)
    except ValueError:
        return None
    return found[0] if found else None


def root_links() -> list[dict[str, Any]]:
    """Every link of the root namespace (``ip -j link show``)."""
    done = run_ip("-j", "link", "show", check=False)
    try:
        found: list[dict[str, Any]] = json.loads(done.stdout or "[]")
    except ValueError:
        return []
    return found


def exec_prefix(plan: HostPlan) -> list[str]:
    """The argv prefix that runs a command inside the host's namespace."""
    return [_ip(), "netns", "exec", plan.namespace]


#: One probe per state directory and process: workers start side by side, and two
#: probes of one stack would make (and remove) the same probe namespace at once.
_PROBE_LOCK = threading.Lock()
_PROBED: dict[str, str | None] = {}


def can_make_namespaces(state_dir: Path) -> str | None:
    """``None`` if this machine can make worker hosts, else one line saying why not.

    Makes and removes a probe namespace with a veth link (named for this stack),
    because a container may allow ``ip netns add`` but refuse veth links. Probed once
    per process (the answer does not change while it runs).
    """
    key = str(Path(state_dir).resolve())
    with _PROBE_LOCK:
        if key not in _PROBED:
            _PROBED[key] = _probe_namespaces(state_dir)
        return _PROBED[key]


def _probe_namespaces(state_dir: Path) -> str | None:
    if os.geteuid() != 0:
        return "worker hosts need root (network namespaces); workers run as plain processes"
    if ip_binary() is None:
        return "`ip` (iproute2) is not installed; workers run as plain processes"
    probe = f"{namespace_prefix(state_dir)}probe"
    probe_if = f"ds{stack_tag(state_dir)[:6]}p"
    _remove_probe(probe, probe_if)  # a probe left by a killed dagstorm
    try:
        run_ip("netns", "add", probe)
        run_ip("link", "add", probe_if, "type", "veth", "peer", "name", "eth0", "netns", probe)
    except WorkerHostError as exc:
        return f"cannot make network namespaces here ({exc.what}); workers run as plain processes"
    finally:
        _remove_probe(probe, probe_if)
    return None


def _remove_probe(probe: str, probe_if: str) -> None:
    # Both names carry this stack's hash: nobody else's.
    if link(probe_if) is not None:
        run_ip("link", "del", probe_if, check=False)
    if probe in namespaces():
        run_ip("netns", "del", probe, check=False)


def _check_subnet_free(plan: HostPlan) -> None:
    """Refuse when another interface already holds an address in the host's /30."""
    done = run_ip("-j", "-4", "addr", "show", check=False)
    try:
        interfaces: list[dict[str, Any]] = json.loads(done.stdout or "[]")
    except ValueError:
        return
    for iface in interfaces:
        if iface.get("ifname") == plan.host_if:
            continue
        for addr in iface.get("addr_info", []):
            net = ipaddress.IPv4Interface(f"{addr['local']}/{addr['prefixlen']}").network
            if net.overlaps(plan.subnet):
                raise WorkerHostError(
                    f"{plan.subnet} (worker host w{plan.index}) overlaps {net} on "
                    f"{iface.get('ifname')}",
                    fix="choose another worker-host address pool",
                )


def _is_ours(found: dict[str, Any], plan: HostPlan) -> bool:
    # An empty alias: made by us but killed before the alias was set (the name says ours).
    return found.get("ifalias", "") in ("", plan.owner)


def make_host(plan: HostPlan) -> None:
    """Make the namespace, the veth pair and the addresses of ``plan`` (idempotent).

    Registered first, so a kill half-way leaves a record :func:`sweep` follows.
    """
    existing = link(plan.host_if)
    if existing is not None and not _is_ours(existing, plan):
        raise WorkerHostError(
            f"link {plan.host_if} exists and is not this stack's (alias "
            f"{existing.get('ifalias')!r})",
            fix="remove it by hand if it is stale",
        )
    _check_subnet_free(plan)
    register(plan)
    if plan.namespace not in namespaces():
        run_ip("netns", "add", plan.namespace)
    if existing is not None and link(plan.ns_if, plan.namespace) is None:
        run_ip("link", "del", plan.host_if)  # half-made: the peer is elsewhere
        existing = None
    if existing is None:
        run_ip(
            *("link", "add", plan.host_if, "type", "veth"),
            *("peer", "name", plan.ns_if, "netns", plan.namespace),
        )
    run_ip("link", "set", "dev", plan.host_if, "alias", plan.owner)
    run_ip("addr", "replace", plan.host_cidr, "dev", plan.host_if)
    run_ip("link", "set", "dev", plan.host_if, "up")
    inside = ("-n", plan.namespace)
    run_ip(*inside, "addr", "replace", plan.ns_cidr, "dev", plan.ns_if)
    run_ip(*inside, "link", "set", "dev", plan.ns_if, "up")
    run_ip(*inside, "link", "set", "dev", "lo", "up")


def namespace_pids(plan: HostPlan) -> list[int]:
    """Processes running inside the host's namespace."""
    if plan.namespace not in namespaces():
        return []
    done = run_ip("netns", "pids", plan.namespace, check=False)
    return [int(tok) for tok in done.stdout.split() if tok.isdigit()]


def _stop_our_processes(plan: HostPlan) -> list[int]:
    """Stop the processes of this stack inside the namespace; the pids of any others."""
    ours: list[psutil.Process] = []
    foreign: list[int] = []
    for pid in namespace_pids(plan):
        try:
            proc = psutil.Process(pid)
            if is_marked(proc, plan.state_dir):
                ours.append(proc)
            else:
                foreign.append(pid)
        except psutil.Error:
            continue
    for proc in ours:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    _, alive = psutil.wait_procs(ours, timeout=5)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(alive, timeout=5)
    return foreign


def remove_host(plan: HostPlan) -> None:
    """Remove the link and namespace of ``plan``, however much of them exists.

    Processes of this stack still inside are stopped first; a process that is
    not ours keeps the namespace alive, so it is refused with its pids.
    """
    foreign = _stop_our_processes(plan)
    if foreign:
        raise WorkerHostError(
            f"namespace {plan.namespace} holds processes dagstorm did not start: {foreign}",
            fix="stop them, then `dagstorm stack down` or `dagstorm recover` again",
        )
    found = link(plan.host_if)
    if found is not None and _is_ours(found, plan):
        run_ip("link", "del", plan.host_if)
    if plan.namespace in namespaces():
        run_ip("netns", "del", plan.namespace)
    unregister(plan)


def sweep(state_dir: Path) -> list[str]:
    """Remove every worker host of the stack in ``state_dir``; the namespaces removed.

    The registry names them; a host-side link carrying this stack's alias but
    missing from the registry (a lost registry file) is removed as well.
    """
    plans = {plan.index: plan for plan in read_registry(state_dir)}
    owner = owner_string(state_dir)
    for found in root_links():
        name = str(found.get("ifname", ""))
        index = index_of_link(state_dir, name)
        if index is not None and found.get("ifalias") == owner and index not in plans:
            plans[index] = plan_host(state_dir, index)
    removed: list[str] = []
    for plan in plans.values():
        remove_host(plan)
        removed.append(plan.namespace)
    return removed
