"""A worker host's whole life: up with its proxies, faults undone, down with its proxies.

The three calls the launcher and ``recover`` need, combining the namespace
machinery (:mod:`.namespaces`, :mod:`.faults`) with the stack's Toxiproxy server
(whose per-host proxies :mod:`.links` describes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from dagstorm.clients.toxiproxy import ToxiproxyClient
from dagstorm.stack.config import Ports
from dagstorm.stack.embedded.hosts.faults import restore
from dagstorm.stack.embedded.hosts.links import HOST_LINKS, host_proxies
from dagstorm.stack.embedded.hosts.namespaces import make_host, sweep
from dagstorm.stack.embedded.hosts.plan import HostPlan
from dagstorm.stack.embedded.hosts.registry import read_registry

#: A per-host proxy's name: ``<link>@w<N>``.
_HOST_PROXY = re.compile(
    r"^(?:" + "|".join(re.escape(link.name) for link in HOST_LINKS) + r")@w[0-9]+$"
)


def is_host_proxy(name: str) -> bool:
    """True for a per-host proxy's name (``celery-broker@w1``), never a stack-wide link."""
    return _HOST_PROXY.match(name) is not None


def bring_up(plan: HostPlan, toxiproxy: ToxiproxyClient, ports: Ports) -> None:
    """Make the host (idempotent), then its proxies on the host-side address."""
    make_host(plan)
    for proxy in host_proxies(plan, ports):
        toxiproxy.ensure_proxy(proxy.name, listen=proxy.listen, upstream=proxy.upstream)


@dataclass
class HostsRestored:
    """What :func:`restore_all` undid."""

    healed: list[str] = field(default_factory=list)
    netem_cleared: list[str] = field(default_factory=list)
    #: ``<proxy>/<toxic>`` removed from per-host proxies.
    toxics_removed: list[str] = field(default_factory=list)
    #: Per-host proxies that were disabled and are enabled again.
    proxies_enabled: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(
            self.healed or self.netem_cleared or self.toxics_removed or self.proxies_enabled
        )

    def summary(self) -> str:
        """One phrase: ``none``, or what was undone (``partition healed: dagstorm-…-w1``)."""
        parts = [
            f"{label}: {', '.join(names)}"
            for label, names in (
                ("partition healed", self.healed),
                ("netem cleared", self.netem_cleared),
                ("proxies re-enabled", self.proxies_enabled),
            )
            if names
        ]
        if self.toxics_removed:
            parts.append(f"{len(self.toxics_removed)} host toxic(s) removed")
        return "; ".join(parts) or "none"


def restore_namespaces(state_dir: Path, done: HostsRestored) -> None:
    """Heal every registered host's link and clear its netem (into ``done``)."""
    for plan in read_registry(state_dir):
        undone = restore(plan)
        if undone.healed:
            done.healed.append(plan.namespace)
        if undone.netem_cleared:
            done.netem_cleared.append(plan.namespace)


def restore_host_proxies(toxiproxy: ToxiproxyClient, done: HostsRestored) -> None:
    """Remove every toxic of the per-host proxies and enable them (into ``done``)."""
    for proxy in toxiproxy.list_proxies():
        if not is_host_proxy(proxy.name):
            continue
        for toxic in proxy.toxics:
            toxiproxy.remove_toxic(proxy.name, toxic.name, missing_ok=True)
            done.toxics_removed.append(f"{proxy.name}/{toxic.name}")
        if not proxy.enabled:
            toxiproxy.enable_proxy(proxy.name)
            done.proxies_enabled.append(proxy.name)


def restore_all(state_dir: Path, toxiproxy: ToxiproxyClient | None) -> HostsRestored:
    """Undo every host fault of the stack (``recover``): links, netem, per-host toxics."""
    done = HostsRestored()
    restore_namespaces(state_dir, done)
    if toxiproxy is not None:
        restore_host_proxies(toxiproxy, done)
    return done


def tear_down(state_dir: Path, toxiproxy: ToxiproxyClient | None) -> list[str]:
    """Delete the per-host proxies, then every host of the stack; the namespaces removed.

    Run after the workers stopped (a worker still inside is stopped by the sweep).
    ``toxiproxy`` is ``None`` when the server is not running (its proxies went with it).
    """
    if toxiproxy is not None:
        for proxy in toxiproxy.list_proxies():
            if is_host_proxy(proxy.name):
                toxiproxy.delete_proxy(proxy.name, missing_ok=True)
    return sweep(state_dir)
