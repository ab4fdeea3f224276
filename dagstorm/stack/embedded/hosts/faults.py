"""Network faults of a worker host: partition, latency and loss, and their revert.

* partition: the host-side veth link goes down; the worker's packets go nowhere
  (open connections hang until their timeouts, new ones fail), as when a host's
  cable is pulled. Heal sets it up again; addresses and routes come back with it.
* latency / loss: ``tc netem`` on the namespace's own interface, so it shapes what
  the worker host sends (each round trip gains the latency once; TCP turns a lost
  segment into retransmits both ways).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dagstorm.core.errors import WorkerHostError
from dagstorm.stack.embedded.hosts.namespaces import (
    exec_prefix,
    link,
    namespaces,
    run_command,
    run_ip,
)
from dagstorm.stack.embedded.hosts.plan import HostPlan

_NETEM_LINE = re.compile(r"qdisc netem \S+ root (?:refcnt \d+ )?(.*)")


def _tc(plan: HostPlan, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    tc = shutil.which("tc") or "/usr/sbin/tc"
    return run_command([*exec_prefix(plan), tc, *args], check=check)


def _require(plan: HostPlan) -> None:
    if plan.namespace not in namespaces() or link(plan.host_if) is None:
        raise WorkerHostError(
            f"worker host w{plan.index} ({plan.namespace}) does not exist",
            fix="`dagstorm stack up` with worker hosts on",
        )


def netem(
    plan: HostPlan, *, latency_ms: float = 0.0, jitter_ms: float = 0.0, loss_pct: float = 0.0
) -> None:
    """Delay and/or drop what the worker host sends (replaces any netem before)."""
    if latency_ms < 0 or jitter_ms < 0 or not 0 <= loss_pct <= 100:
        raise ValueError("latency and jitter are ≥ 0 ms, loss is 0..100 %")
    if latency_ms == 0 and loss_pct == 0:
        raise ValueError("netem needs a latency or a loss")
    _require(plan)
    args = ["qdisc", "replace", "dev", plan.ns_if, "root", "netem"]
    if latency_ms or jitter_ms:
        args += ["delay", f"{latency_ms:g}ms"]
        if jitter_ms:
            args.append(f"{jitter_ms:g}ms")
    if loss_pct:
        args += ["loss", f"{loss_pct:g}%"]
    _tc(plan, *args)


def clear_netem(plan: HostPlan) -> bool:
    """Remove the host's netem; ``True`` if there was one."""
    if plan.namespace not in namespaces() or shaping(plan) is None:
        return False
    _tc(plan, "qdisc", "del", "dev", plan.ns_if, "root")
    return True


def shaping(plan: HostPlan) -> str | None:
    """The host's netem settings as ``tc`` shows them (``limit 1000 delay 200ms``), or ``None``."""
    if plan.namespace not in namespaces():
        return None
    done = _tc(plan, "qdisc", "show", "dev", plan.ns_if, "root", check=False)
    for line in done.stdout.splitlines():
        found = _NETEM_LINE.match(line.strip())
        if found:
            return " ".join(found.group(1).split())
    return None


def netem_unavailable(plan: HostPlan) -> str | None:
    """``None`` if ``tc netem`` works in the host's namespace, else one line saying why not.

    Probes on the namespace's own loopback, so nothing outside it is touched.
    """
    _require(plan)
    if shutil.which("tc") is None and not Path("/usr/sbin/tc").exists():
        return "`tc` (iproute2) is not installed: host latency and loss are refused"
    done = _tc(plan, "qdisc", "replace", "dev", "lo", "root", "netem", "delay", "1ms", check=False)
    if done.returncode != 0:
        return (
            f"this kernel has no netem ({done.stderr.strip()}): host latency and loss are refused"
        )
    _tc(plan, "qdisc", "del", "dev", "lo", "root", check=False)
    return None


def partition(plan: HostPlan) -> None:
    """Cut the worker host off: its host-side link goes down."""
    _require(plan)
    run_ip("link", "set", "dev", plan.host_if, "down")


def heal(plan: HostPlan) -> None:
    """End a partition: the host-side link comes up again."""
    _require(plan)
    run_ip("link", "set", "dev", plan.host_if, "up")


def is_partitioned(plan: HostPlan) -> bool:
    """True if the host-side link exists and is administratively down."""
    found = link(plan.host_if)
    return found is not None and "UP" not in found.get("flags", [])


@dataclass(frozen=True)
class Restored:
    """What :func:`restore` undid on one host."""

    healed: bool
    netem_cleared: bool


def restore(plan: HostPlan) -> Restored:
    """Undo every fault on the host (``recover``): heal a partition, clear netem."""
    healed = is_partitioned(plan)
    if healed:
        heal(plan)
    return Restored(healed=healed, netem_cleared=clear_netem(plan))
