"""Celery worker faults and worker-host faults (a worker's network namespace)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from dagstorm.core.problems import raise_all
from dagstorm.faults.specs.base import FaultSpecBase
from dagstorm.stack.parts import Part


class CeleryFault(FaultSpecBase):
    """A Celery worker of a CeleryExecutor stack: SIGKILL mid-task, SIGSTOP, warm shutdown.

    ``kill`` loses the tasks the worker was running (Airflow must notice and retry
    them); ``pause`` freezes it (its tasks stop heartbeating); ``warm_shutdown`` is
    Celery's SIGTERM: it takes no new tasks and finishes the running ones. Every
    action is reverted by starting the worker again (or SIGCONT for a pause).
    """

    kind: Literal["celery"] = "celery"
    action: Literal["kill", "pause", "warm_shutdown"]
    #: Which worker (``airflow-celery-worker-<n>``), from 1.
    worker: int = Field(1, ge=1, le=16)
    #: Act only once the worker runs a task (waiting up to 2 min): a kill then loses
    #: a try in flight, not an idle worker. Short tasks leave a worker idle most of
    #: the time, so a fault due at a fixed moment would usually miss them.
    mid_task: bool = False

    def describe(self) -> str:
        """Short description."""
        mid = " mid-task" if self.mid_task else ""
        return f"celery worker {self.worker} {self.action.replace('_', ' ')}{mid}"

    def needs(self) -> frozenset[Part]:
        """Airflow, and its workers as processes dagstorm owns."""
        return frozenset({"airflow", "processes"})


HostAction = Literal["partition", "latency", "loss"]
#: The settings each host action takes (any other one given is refused).
_HOST_SETTINGS: dict[str, tuple[str, ...]] = {
    "partition": (),
    "latency": ("latency_ms", "jitter_ms"),
    "loss": ("loss_pct",),
}


class HostFault(FaultSpecBase):
    """A Celery worker's host (its network namespace): cut off, slowed, or lossy.

    ``partition`` takes the host-side link down (new connections fail, open ones
    hang); ``latency`` delays what the host sends (``tc netem`` in the namespace, or
    latency toxics on the host's own proxies where the kernel has no netem);
    ``loss`` drops a share of it (netem only). Needs ``celery.worker_hosts: true``.
    """

    kind: Literal["host"] = "host"
    action: HostAction
    #: Which worker's host (``airflow-celery-worker-<n>`` in namespace ``…-w<n>``), from 1.
    worker: int = Field(1, ge=1, le=16)
    latency_ms: int | None = Field(None, ge=0, le=600_000, description="latency: added delay")
    jitter_ms: int | None = Field(None, ge=0, le=600_000, description="latency: ± this much")
    loss_pct: float | None = Field(None, description="loss: share of packets dropped, (0, 100]")

    @model_validator(mode="after")
    def _settings_fit_the_action(self) -> HostFault:
        findings: list[tuple[tuple[str, ...], str]] = []
        if self.action == "latency" and not self.latency_ms:
            findings.append((("latency_ms",), "action latency needs latency_ms > 0"))
        if self.action == "loss" and (self.loss_pct is None or not 0 < self.loss_pct <= 100):
            findings.append((("loss_pct",), "action loss needs loss_pct in (0, 100]"))
        allowed = _HOST_SETTINGS[self.action]
        for name in ("latency_ms", "jitter_ms", "loss_pct"):
            if name not in allowed and getattr(self, name) is not None:
                findings.append(((name,), f"action {self.action} takes no `{name}`"))
        raise_all("HostFault", findings)
        return self

    def describe(self) -> str:
        """Short description."""
        match self.action:
            case "latency":
                jitter = f" ±{self.jitter_ms}" if self.jitter_ms else ""
                return f"worker host {self.worker} latency {self.latency_ms}{jitter} ms"
            case "loss":
                return f"worker host {self.worker} loss {self.loss_pct:g} %"
            case _:
                return f"worker host {self.worker} partitioned"

    def needs(self) -> frozenset[Part]:
        """Airflow, and its workers' hosts as namespaces dagstorm made."""
        return frozenset({"airflow", "processes"})
