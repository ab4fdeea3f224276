"""Faults on a Celery worker's host (its network namespace): partition, latency, loss.

A partition takes the host-side veth link down. Latency and loss are ``tc netem``
inside the namespace, on what the host sends. Where the kernel has no netem,
latency comes from latency toxics on the host's own Toxiproxy proxies
(``celery-broker@w<N>``, ``airflow-db@w<N>``, ``airflow-api@w<N>``), on the
upstream stream (what the worker sends, as netem would); loss is refused there.
Toxics are named ``dagstorm-<fault id>-upstream``, so a revert (or ``recover``)
finds exactly this fault's.
"""

from __future__ import annotations

from typing import Any, Literal

from dagstorm.clients import toxiproxy as tp
from dagstorm.core.errors import FaultError, ToxiproxyError
from dagstorm.faults.base import Fault
from dagstorm.faults.network import toxic_name
from dagstorm.faults.specs import HostFault
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.hosts.faults import (
    clear_netem,
    heal,
    is_partitioned,
    netem,
    netem_unavailable,
    partition,
    shaping,
)
from dagstorm.stack.embedded.hosts.links import HOST_LINKS, host_proxy_name
from dagstorm.stack.embedded.hosts.namespaces import can_make_namespaces, link, namespaces
from dagstorm.stack.embedded.hosts.plan import HostPlan
from dagstorm.stack.embedded.hosts.registry import read_registry
from dagstorm.stack.topology import worker_name

Via = Literal["netem", "toxiproxy"]
#: The stream a fallback latency toxic delays: what the worker sends (netem's side).
_STREAM: tp.Stream = "upstream"
_HOSTS_FIX = (
    "set `celery.worker_hosts: true` (with `airflow.executor: celery`), then `dagstorm stack up`"
)


def host_exists(plan: HostPlan) -> bool:
    """Whether the host's namespace and its host-side link are both there."""
    return plan.namespace in namespaces() and link(plan.host_if) is not None


def registered_host(embedded: StackContext, worker: int) -> HostPlan | None:
    """The registered host of worker ``worker`` of this stack, if any."""
    return next((p for p in read_registry(embedded.layout.root) if p.index == worker), None)


def proxy_names(worker: int) -> list[str]:
    """The per-host proxies of worker ``worker`` (``celery-broker@w1`` …)."""
    return [host_proxy_name(link.name, worker) for link in HOST_LINKS]


class WorkerHostFault(Fault):
    """Partition a worker host, or delay / drop what it sends."""

    spec: HostFault

    def _embedded(self) -> StackContext:
        return self.ctx.require_embedded(f"a fault on worker host {self.spec.worker}")

    def _missing_host(self, embedded: StackContext) -> FaultError:
        worker = self.spec.worker
        what = f"worker {worker} has no host of its own (network namespace)"
        celery = embedded.config.celery
        if embedded.config.airflow.executor != "celery" or not celery.worker_hosts:
            return FaultError(
                f"{what}: host faults need `celery.worker_hosts: true` on a CeleryExecutor stack",
                where="the stack config",
                fix=_HOSTS_FIX,
            )
        why = can_make_namespaces(embedded.layout.root)
        if why is not None:
            return FaultError(
                f"{what}: `celery.worker_hosts: true` is set, but {why}",
                where="this machine",
                fix="run dagstorm as root on a machine that allows network namespaces",
            )
        return FaultError(
            f"{what}: worker host w{worker} is not up (celery.workers is {celery.workers})",
            fix="`dagstorm stack up` (a worker index within celery.workers)",
        )

    def _plan(self) -> HostPlan:
        """The worker's host, which must exist now."""
        embedded = self._embedded()
        plan = registered_host(embedded, self.spec.worker)
        if plan is None or not host_exists(plan):
            raise self._missing_host(embedded)
        return plan

    def _via(self, plan: HostPlan) -> Via:
        """How latency is made on this host: netem where the kernel has it, else toxics."""
        return "netem" if netem_unavailable(plan) is None else "toxiproxy"

    def check_targets(self) -> None:
        """The host exists and is a fault target; loss needs netem; latency netem or proxies."""
        plan = self._plan()
        component = worker_name(self.spec.worker)
        if component not in self.ctx.stack.components:
            raise FaultError(
                f"component `{component}` is not a declared fault target",
                where="stack config fault_targets",
                fix=f"declared: {', '.join(self.ctx.stack.components) or 'none'}",
            )
        if self.spec.action == "partition":
            return
        why = netem_unavailable(plan)
        if self.spec.action == "loss" and why is not None:
            raise FaultError(
                f"packet loss on worker host {self.spec.worker} needs netem: {why}",
                where=plan.namespace,
                fix="load the kernel's sch_netem module, or use `action: latency` "
                "(Toxiproxy) or `action: partition`",
            )
        if why is None:
            current = shaping(plan)
            if current is not None:
                raise FaultError(
                    f"worker host {self.spec.worker} already has netem ({current}): "
                    "one latency or loss fault per host at a time",
                    where=plan.namespace,
                    fix="revert the other fault first (`dagstorm fault list`)",
                )
            return
        with self.ctx.toxiproxy() as client:
            for name in proxy_names(self.spec.worker):
                try:
                    client.get_proxy(name)
                except ToxiproxyError as exc:
                    raise FaultError(
                        f"worker host {self.spec.worker} has no Toxiproxy proxy {name} "
                        f"({exc.what}), and no netem for latency: {why}",
                        fix="`dagstorm stack up` makes the host's proxies",
                    ) from None

    def inject(self) -> dict[str, Any]:
        """Take the link down, set netem, or add the latency toxics."""
        plan = self._plan()
        s = self.spec
        base: dict[str, Any] = {"host": plan.namespace, "worker": s.worker}
        if s.action == "partition":
            partition(plan)
            return {**base, "link": plan.host_if, "partitioned": True}
        if s.action == "loss" or self._via(plan) == "netem":
            netem(
                plan,
                latency_ms=s.latency_ms or 0,
                jitter_ms=s.jitter_ms or 0,
                loss_pct=s.loss_pct or 0,
            )
            return {**base, "via": "netem", "netem": shaping(plan)}
        name = toxic_name(self.fault_id, _STREAM)
        added: list[str] = []
        with self.ctx.toxiproxy() as client:
            for proxy in proxy_names(s.worker):
                toxic = tp.latency(s.latency_ms or 0, s.jitter_ms or 0, name=name, stream=_STREAM)
                client.add_toxic(proxy, toxic)
                added.append(f"{proxy}/{name}")
        return {
            **base,
            "via": "toxiproxy",
            "why": "no netem in this kernel: latency toxics on the host's proxies",
            "toxics": added,
        }

    def verify(self) -> str:
        """The link is down, the netem qdisc is in place, or every toxic exists."""
        plan = self._plan()
        if self.spec.action == "partition":
            if not is_partitioned(plan):
                raise FaultError(f"{plan.host_if} of {plan.namespace} is still up")
            return f"{plan.host_if} down: {plan.namespace} cut off"
        if self.applied.get("via") == "toxiproxy":
            name = toxic_name(self.fault_id, _STREAM)
            with self.ctx.toxiproxy() as client:
                missing = [
                    proxy
                    for proxy in proxy_names(self.spec.worker)
                    if name not in {t.name for t in client.get_proxy(proxy).toxics}
                ]
            if missing:
                raise FaultError(f"toxic {name} missing on {', '.join(missing)}")
            return f"latency toxic on {', '.join(proxy_names(self.spec.worker))}"
        current = shaping(plan)
        wanted = "loss" if self.spec.action == "loss" else "delay"
        if current is None or wanted not in current:
            raise FaultError(f"no netem {wanted} on {plan.namespace} ({current or 'no netem'})")
        return f"netem in {plan.namespace}: {current}"

    def revert(self) -> None:
        """Heal, clear netem, or remove this fault's toxics; harmless if already undone.

        Works from the spec and the fault id alone (``recover``): without the journaled
        ``via`` (killed before it was written), both netem and the toxics are undone.
        """
        embedded = self._embedded()
        plan = registered_host(embedded, self.spec.worker)
        via = self.applied.get("via")
        if self.spec.action == "partition":
            if plan is not None and is_partitioned(plan):
                heal(plan)
            return
        if via != "toxiproxy" and plan is not None:
            clear_netem(plan)  # the namespace gone: its netem went with it
        if via != "netem" and self.ctx.stack.toxiproxy_url is not None:
            name = toxic_name(self.fault_id, _STREAM)
            try:
                with self.ctx.toxiproxy() as client:
                    for proxy in proxy_names(self.spec.worker):
                        client.remove_toxic(proxy, name, missing_ok=True)
            except ToxiproxyError:
                if via == "toxiproxy":
                    raise
                # Not known to have added toxics, and Toxiproxy is down: none to remove.
