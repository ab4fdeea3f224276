"""The scenario file, as pydantic models. Unknown keys are errors everywhere.

Times that steer the run (``duration``, phase durations, fault ``at`` /
``duration`` / ``every``) are **wall-clock** times: what CI budgets. Rates and
SLO durations are **simulated** (business) time; simulated = wall ×
``time_compression``. Everything dagstorm reports states both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)

from dagstorm.core.durations import PositiveSeconds, Seconds
from dagstorm.core.problems import KeyPath, raise_all
from dagstorm.faults.kinds import FaultSpec
from dagstorm.probes.kinds import ProbeSpec
from dagstorm.scenarios.capacity import CapacityBlock
from dagstorm.scenarios.checks import Parts, check
from dagstorm.scenarios.slo_kinds import SloEntry
from dagstorm.stack.config import ExternalEndpoints
from dagstorm.workloads.kinds import WorkloadSpec

#: Validation context key: leave the whole-scenario checks to the loader, which
#: reports them with every other problem (see :mod:`dagstorm.scenarios.checks`).
DEFER_CHECKS = "defer_scenario_checks"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Phase(_Strict):
    """A named stretch of the run (warm-up, steady, chaos, recovery, cool-down, …)."""

    name: str = Field(min_length=1, max_length=40)
    duration: Seconds


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

    @model_validator(mode="after")
    def _one_timing(self) -> FaultPlan:
        findings: list[tuple[KeyPath, str]] = []
        if self.at is None and self.window is None:
            findings.append(((), "give `at` or `window` (with `every` for repeats)"))
        if self.at is not None and self.window is not None:
            findings.append((("window",), "give exactly one of `at` or `window`, not both"))
        if self.window is not None and self.window[1] <= self.window[0]:
            findings.append((("window",), "window must be [start, end] with end after start"))
        if self.count > 1 and self.every is None:
            findings.append((("count",), "count > 1 needs `every`"))
        if self.every is not None and self.every < self.duration:
            findings.append(
                (("every",), "`every` must not be shorter than `duration` (faults would overlap)")
            )
        raise_all("FaultPlan", findings)
        return self


class StackChoice(_Strict):
    """Which stack: the embedded one, a stack file, or external endpoints (no credentials)."""

    kind: Literal["embedded", "compose", "external"] | None = None
    file: Path | None = None
    external: ExternalEndpoints | None = None


class Probes(_Strict):
    """How often probes sample (wall seconds) and what they watch."""

    interval: PositiveSeconds = 2.0
    airflow_dags: list[str] | None = None
    kafka_topics: list[str] = Field(default_factory=list)
    kafka_groups: list[str] = Field(default_factory=list)
    #: Probes of kinds that plugins provide (docs/plugins.md), each ``{kind: …, …}``.
    extra: list[ProbeSpec] = Field(default_factory=list)


class Abort(_Strict):
    """When to stop early (SLOs with ``abort: true`` also abort when they fail live)."""

    max_probe_errors: int = Field(500, ge=1)
    slo_check_interval: PositiveSeconds = 10.0


class Scenario(_Strict):
    """One chaos and load experiment."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    description: str = ""
    stack: Literal["embedded"] | StackChoice = "embedded"
    #: The pipeline profile under test: a name in the pipelines folders, or the path
    #: of its ``pipeline.yaml`` (docs/own-pipeline.md). None: the default profile.
    pipeline: str | None = Field(None, min_length=1, max_length=300)
    duration: PositiveSeconds
    seed: int = Field(0, ge=0, lt=2**63)
    time_compression: float = Field(1.0, gt=0, le=10_000)
    phases: list[Phase] = Field(default_factory=list)
    workloads: list[WorkloadSpec] = Field(default_factory=list)
    faults: list[FaultPlan] = Field(default_factory=list)
    slos: list[SloEntry] = Field(default_factory=list)
    probes: Probes = Probes()
    abort: Abort = Abort()
    #: Wall seconds to wait after the last action for in-flight DAG runs to finish.
    drain: Seconds = 60.0
    #: A breakpoint search (``dagstorm capacity``, docs/capacity.md); None: a single run.
    capacity: CapacityBlock | None = None

    @model_validator(mode="after")
    def _checks(self, info: ValidationInfo) -> Scenario:
        # The loader runs the same checks itself, next to every other problem.
        if not (info.context or {}).get(DEFER_CHECKS):
            errors = [f for f in check(Parts.of(self)) if not f.warning]
            raise_all("Scenario", [(f.path, f.what) for f in errors])
        return self
