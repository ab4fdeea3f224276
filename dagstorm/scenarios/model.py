"""The scenario file, as pydantic models. Unknown keys are errors everywhere.

Times that steer the run (``duration``, phase durations, fault ``at`` /
``duration`` / ``every``) are **wall-clock** times: what CI budgets. Rates and
SLO durations are **simulated** (business) time; simulated = wall ×
``time_compression``. Everything dagstorm reports states both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dagstorm.core.durations import parse_duration
from dagstorm.faults.specs import FaultSpec
from dagstorm.scenarios.slos import SloSpec, normalise_slo
from dagstorm.stack.config import ExternalEndpoints
from dagstorm.workloads.locust_swarm.spec import LocustWorkload
from dagstorm.workloads.specs import AdLogsWorkload, KafkaBurstWorkload, TriggerStormWorkload

Seconds = Annotated[float, Field(ge=0)]


def _seconds(value: Any) -> float:
    return parse_duration(value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Phase(_Strict):
    """A named stretch of the run (warm-up, steady, chaos, recovery, cool-down, …)."""

    name: str = Field(min_length=1, max_length=40)
    duration: Seconds

    _d = field_validator("duration", mode="before")(_seconds)


WorkloadSpec = Annotated[
    AdLogsWorkload | TriggerStormWorkload | LocustWorkload | KafkaBurstWorkload,
    Field(discriminator="kind"),
]


class FaultPlan(_Strict):
    """When a fault happens, and for how long.

    Once ``at``; or ``every`` N seconds ``count`` times; or at a random moment
    (from the scenario's seed) within ``window``. Held for ``duration``.
    """

    fault: FaultSpec
    at: Seconds | None = None
    every: Seconds | None = None
    count: int = Field(1, ge=1, le=1000)
    window: tuple[Seconds, Seconds] | None = None
    duration: Seconds = 60.0
    name: str | None = None

    _t = field_validator("at", "every", mode="before")(
        lambda v: None if v is None else parse_duration(v)
    )
    _d = field_validator("duration", mode="before")(_seconds)

    @field_validator("window", mode="before")
    @classmethod
    def _window(cls, value: Any) -> Any:
        if isinstance(value, list | tuple) and len(value) == 2:
            return (parse_duration(value[0]), parse_duration(value[1]))
        return value

    @model_validator(mode="after")
    def _one_timing(self) -> FaultPlan:
        given = [k for k in ("at", "window") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of `at` or `window` (with `every` for repeats)")
        if self.window is not None and self.window[1] <= self.window[0]:
            raise ValueError("window must be [start, end] with end after start")
        if self.count > 1 and self.every is None:
            raise ValueError("count > 1 needs `every`")
        if self.every is not None and self.every < self.duration:
            raise ValueError("`every` must not be shorter than `duration` (faults would overlap)")
        return self


class StackChoice(_Strict):
    """Which stack: the embedded one, a stack file, or external endpoints (no credentials)."""

    kind: Literal["embedded", "compose", "external"] | None = None
    file: Path | None = None
    external: ExternalEndpoints | None = None


class Probes(_Strict):
    """How often probes sample (wall seconds) and what they watch."""

    interval: Seconds = 2.0
    airflow_dags: list[str] | None = None
    kafka_topics: list[str] = Field(default_factory=list)
    kafka_groups: list[str] = Field(default_factory=list)

    _i = field_validator("interval", mode="before")(_seconds)


class Abort(_Strict):
    """When to stop early (SLOs with ``abort: true`` also abort when they fail live)."""

    max_probe_errors: int = Field(500, ge=1)
    slo_check_interval: Seconds = 10.0

    _i = field_validator("slo_check_interval", mode="before")(_seconds)


class Scenario(_Strict):
    """One chaos and load experiment."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    description: str = ""
    stack: Literal["embedded"] | StackChoice = "embedded"
    duration: Seconds
    seed: int = Field(0, ge=0, lt=2**63)
    time_compression: float = Field(1.0, gt=0, le=10_000)
    phases: list[Phase] = Field(default_factory=list)
    workloads: list[WorkloadSpec] = Field(default_factory=list)
    faults: list[FaultPlan] = Field(default_factory=list)
    slos: list[SloSpec] = Field(default_factory=list)
    probes: Probes = Probes()
    abort: Abort = Abort()
    #: Wall seconds to wait after the last action for in-flight DAG runs to finish.
    drain: Seconds = 60.0

    _d = field_validator("duration", "drain", mode="before")(_seconds)

    @field_validator("slos", mode="before")
    @classmethod
    def _slos(cls, value: Any) -> Any:
        return [normalise_slo(item) for item in value] if isinstance(value, list) else value

    @model_validator(mode="after")
    def _fits(self) -> Scenario:
        if self.phases:
            total = sum(p.duration for p in self.phases)
            if abs(total - self.duration) > 1e-6:
                raise ValueError(
                    f"phases add up to {total:g} s but duration is {self.duration:g} s"
                )
        for plan in self.faults:
            first = plan.at if plan.at is not None else (plan.window or (0.0, 0.0))[0]
            last = first + (plan.every or 0.0) * (plan.count - 1) + plan.duration
            if last > self.duration:
                raise ValueError(
                    f"fault `{plan.fault.describe()}` ends at {last:g} s, after the run "
                    f"({self.duration:g} s)"
                )
        for workload in self.workloads:
            if isinstance(workload, LocustWorkload) and workload.start >= self.duration:
                raise ValueError(
                    f"locust workload `{workload.name}` starts at {workload.start:g} s, "
                    f"at or after the run ends ({self.duration:g} s)"
                )
        names = [w.name for w in self.workloads]
        if len(names) != len(set(names)):
            raise ValueError("workload names must be unique")
        return self
