"""What a fault is, as data: the models scenario files and `dagstorm fault inject` share.

Each family is one model with a ``kind`` (the registry in
:mod:`dagstorm.faults.kinds` picks the model by it); unknown keys are errors.
Specs say *what* to break; when and for how long is the scenario's business (or
``--duration`` on the command line).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dagstorm.core.problems import raise_all
from dagstorm.stack.parts import Part
from dagstorm.stack.topology import LinkName

StreamChoice = Literal["upstream", "downstream", "both"]


class FaultSpecBase(BaseModel):
    """What every fault spec is: strict (unknown keys are errors), frozen, with a ``kind``.

    A plugin's fault spec subclasses it, declares ``kind: Literal["my_kind"] =
    "my_kind"`` and its own fields, and says in :meth:`describe` what it breaks.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    #: The fault's kind (each subclass narrows it to one ``Literal``).
    kind: str

    def describe(self) -> str:
        """A short human description, e.g. ``network latency 300 ms on kafka``."""
        raise NotImplementedError

    def needs(self) -> frozenset[Part]:
        """The stack parts this fault acts on (a run refuses it where they are not declared)."""
        return frozenset()


class NetworkFault(FaultSpecBase):
    """A Toxiproxy toxic (or the proxy down / flapping) on one declared link."""

    kind: Literal["network"] = "network"
    link: LinkName
    effect: Literal[
        "latency",
        "bandwidth",
        "stall",
        "reset",
        "slicer",
        "limit_data",
        "slow_close",
        "down",
        "flap",
    ]
    stream: StreamChoice = "both"
    toxicity: float = Field(1.0, ge=0.0, le=1.0)
    latency_ms: int = Field(0, ge=0, le=600_000)
    jitter_ms: int = Field(0, ge=0, le=600_000)
    rate_kb_per_s: int = Field(0, ge=0)
    timeout_ms: int = Field(0, ge=0, description="stall: 0 holds data until reverted")
    delay_ms: int = Field(0, ge=0, description="slow_close delay")
    average_size: int = Field(0, ge=0)
    size_variation: int = Field(0, ge=0)
    delay_us: int = Field(0, ge=0)
    max_bytes: int = Field(0, ge=0)
    period_s: float = Field(0.0, ge=0.0, description="flap: seconds down, then as many up")

    @model_validator(mode="after")
    def _needs(self) -> NetworkFault:
        required = {
            "latency": ("latency_ms",),
            "bandwidth": ("rate_kb_per_s",),
            "slicer": ("average_size",),
            "limit_data": ("max_bytes",),
            "flap": ("period_s",),
        }.get(self.effect, ())
        findings = [
            ((name,), f"effect {self.effect} needs {name} > 0")
            for name in required
            if not getattr(self, name)
        ]
        if self.effect == "slicer" and 0 < self.average_size <= self.size_variation:
            findings.append((("size_variation",), "slicer needs size_variation < average_size"))
        raise_all("NetworkFault", findings)
        return self

    def describe(self) -> str:
        """Short description."""
        detail = {
            "latency": f" {self.latency_ms} ms" + (f" ±{self.jitter_ms}" if self.jitter_ms else ""),
            "bandwidth": f" {self.rate_kb_per_s} KB/s",
            "flap": f" every {self.period_s:g} s",
        }.get(self.effect, "")
        return f"network {self.effect}{detail} on {self.link} ({self.stream})"

    def needs(self) -> frozenset[Part]:
        """Toxiproxy (the link's proxy is checked against the stack's declared links)."""
        return frozenset({"toxiproxy"})


class BrokerFault(FaultSpecBase):
    """The Kafka broker process: SIGKILL (restarted on revert), SIGSTOP, or a restart."""

    kind: Literal["broker"] = "broker"
    action: Literal["kill", "pause", "restart"]

    def describe(self) -> str:
        """Short description."""
        return f"kafka broker {self.action}"

    def needs(self) -> frozenset[Part]:
        """Kafka, and its broker as a process dagstorm owns."""
        return frozenset({"kafka", "processes"})


class SparkFault(FaultSpecBase):
    """Spark: executor heap OOM, executor JVM killed, worker lost, master restarted."""

    kind: Literal["spark"] = "spark"
    action: Literal["executor_oom", "executor_kill", "worker_loss", "master_restart"]
    executor_memory: str = Field("512m", pattern=r"^\d+[mg]$")

    def describe(self) -> str:
        """Short description."""
        return f"spark {self.action.replace('_', ' ')}"

    def needs(self) -> frozenset[Part]:
        """Spark, and its processes (executors, worker, master) as dagstorm's own."""
        return frozenset({"spark", "processes"})


AirflowComponent = Literal["scheduler", "triggerer", "dag-processor", "api-server"]


class AirflowFault(FaultSpecBase):
    """Airflow: a component killed (restarted on revert) or paused, or a running task killed."""

    kind: Literal["airflow"] = "airflow"
    action: Literal["kill", "pause", "restart", "kill_task"]
    component: AirflowComponent | None = None
    dag_id: str | None = Field(None, description="kill_task: only tasks of this DAG")

    @model_validator(mode="after")
    def _component_needed(self) -> AirflowFault:
        if self.action != "kill_task" and self.component is None:
            raise ValueError(f"action {self.action} needs a component")
        if self.action == "kill_task" and self.component is not None:
            raise ValueError("kill_task targets a task, not a component")
        return self

    def describe(self) -> str:
        """Short description."""
        if self.action == "kill_task":
            return "airflow task killed" + (f" ({self.dag_id})" if self.dag_id else "")
        return f"airflow {self.component} {self.action}"

    def needs(self) -> frozenset[Part]:
        """Airflow, and its processes (a component, a task's process) as dagstorm's own."""
        return frozenset({"airflow", "processes"})
