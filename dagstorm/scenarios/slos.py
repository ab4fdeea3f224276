"""SLOs as data.

In a scenario, ``slos`` is a list of one-key mappings::

    slos:
      - sla: {dag: my_dag, within: 2h, compliance: ">= 95%", weight: 3}
      - recovery_time: {p95: "<= 10m"}
      - scheduler_throughput: {min: 200}          # task instances finished per minute
      - lost_events: 0
      - duplicate_events: 0
      - trigger_errors: {max: 0}                  # API triggers that errored
      - tries_never_started: 0                    # tries failed before they ran

Durations inside SLOs are **simulated** time (the pipeline's business clock);
each SLO may carry a ``weight`` (default 1) for the run's resilience score and
``abort: true`` to stop the run as soon as a live check fails it.

These are the models of dagstorm's own SLO kinds; :mod:`.slo_kinds` registers
them (and a plugin's, entry points ``dagstorm.slos``) and reads a scenario's list.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dagstorm.core.durations import parse_duration
from dagstorm.core.errors import ScenarioError
from dagstorm.core.problems import FixableValueError, KeyPath, raise_all, show
from dagstorm.scenarios.comparisons import Target, parse_target
from dagstorm.stack.parts import Part


class SloSpecBase(BaseModel):
    """The model of one SLO entry; each kind narrows ``type`` to one literal.

    A kind names the analysis' measure that judges it (``measure``) when dagstorm
    judges it, or comes with its own judge (docs/plugins.md). ``shorthand`` is the
    field a bare value fills (``- lost_events: 0`` is ``{max: 0}``); ``example`` is
    shown when an entry is written wrong.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    #: The kind (``sla``, ``lost_events``, …): the key the scenario writes.
    type: str
    weight: float = Field(1.0, gt=0)
    abort: bool = False

    #: The analysis' measure that judges this kind (None: its kind's own judge does).
    measure: ClassVar[str | None] = None
    #: The field a bare value fills (``- lost_events: 0``); None: a mapping is required.
    shorthand: ClassVar[str | None] = None
    #: One entry as a scenario writes it.
    example: ClassVar[str] = ""

    @property
    def name(self) -> str:
        """A stable name (JUnit test case, result.json key): the kind unless it says more."""
        return self.type

    def target(self) -> Target:
        """The parsed target."""
        raise NotImplementedError

    def needs(self) -> frozenset[Part]:
        """The stack parts its measure reads (default: Airflow's DAG runs and task tries)."""
        return frozenset({"airflow"})


class SlaSlo(SloSpecBase):
    """Share of DAG runs that finished successfully within ``within`` (simulated).

    Without ``within`` (or ``measure_from``) the scenario loader takes the DAG's
    ``sla: {deadline, reference}`` from the pipeline profile (docs/own-pipeline.md);
    a loaded scenario's SLAs always have both.
    """

    type: Literal["sla"] = "sla"
    measure: ClassVar[str | None] = "sla"
    example: ClassVar[str] = "sla: {dag: my_dag, within: 2h, compliance: '>= 95%'}"
    dag: str
    #: The deadline in simulated seconds (None: the profile's, filled in by the loader).
    within: float | None = Field(None, gt=0)
    compliance: str = ">= 95%"
    #: Where a run's clock starts: when it was queued, or its logical date (data
    #: interval). None: the profile's ``reference``, else ``queued``.
    measure_from: Literal["queued", "logical_date"] | None = None

    @field_validator("within", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float | None:
        return None if value is None else parse_duration(value)

    @property
    def deadline_s(self) -> float:
        """The deadline (simulated seconds); an error if neither the SLO nor a profile gave one."""
        if self.within is None:
            raise ScenarioError(
                f"sla:{self.dag} has no deadline",
                fix="write `within: 2h` in the SLO, or declare `sla: {deadline: 2h}` on the DAG"
                " in its pipeline profile",
            )
        return self.within

    @property
    def reference(self) -> Literal["queued", "logical_date"]:
        """Where a run's clock starts (``measure_from``; ``queued`` when unset)."""
        return self.measure_from or "queued"

    @field_validator("compliance", mode="before")
    @classmethod
    def _number_is_text(cls, value: Any) -> Any:
        # `compliance: 95` reads as 95 %.
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("compliance")
    @classmethod
    def _check(cls, value: str) -> str:
        target = parse_target(value, unit="percent", default_op=">=")
        if target.op not in (">=", ">"):
            raise FixableValueError(
                f"compliance {show(value)} caps the share of runs on time; it is a minimum",
                "write it with >=, e.g. '>= 95%'",
            )
        if target.op == ">" and target.value >= 1:
            raise FixableValueError(
                f"compliance {show(value)} can never pass (no share is above 100%)",
                "write e.g. '>= 99%'",
            )
        return value

    @property
    def name(self) -> str:
        """``sla:<dag>``."""
        return f"sla:{self.dag}"

    def target(self) -> Target:
        """Compliance as a fraction."""
        return parse_target(self.compliance, unit="percent", default_op=">=")


class RecoveryTimeSlo(SloSpecBase):
    """Time from a fault's end to the first successful DAG run after it (simulated)."""

    type: Literal["recovery_time"] = "recovery_time"
    measure: ClassVar[str | None] = "recovery_time"
    example: ClassVar[str] = "recovery_time: {p95: '<= 10m'}"
    p95: str | None = None
    max: str | None = None
    dag: str | None = None

    @model_validator(mode="after")
    def _one(self) -> RecoveryTimeSlo:
        if (self.p95 is None) == (self.max is None):
            raise ValueError("give exactly one of p95 or max, e.g. {p95: '<= 10m'}")
        findings: list[tuple[KeyPath, str]] = []
        for key in ("p95", "max"):
            text = getattr(self, key)
            if text is None:
                continue
            try:
                target = parse_target(text, unit="duration")
            except ValueError as exc:
                findings.append(((key,), str(exc)))
                continue
            if target.op not in ("<=", "<"):
                findings.append(
                    (
                        (key,),
                        f"{show(text)}: a recovery time is a maximum; write <= (e.g. '<= 10m')",
                    )
                )
            elif target.value <= 0:
                findings.append(((key,), f"{show(text)} can never pass: recovery takes time"))
        raise_all("RecoveryTimeSlo", findings)
        return self

    @property
    def name(self) -> str:
        """``recovery_time:p95`` or ``recovery_time:max``."""
        return f"recovery_time:{'p95' if self.p95 else 'max'}"

    def target(self) -> Target:
        """Seconds."""
        return parse_target(self.p95 or self.max or "", unit="duration")


class SchedulerThroughputSlo(SloSpecBase):
    """Task instances finished per wall minute (median over the run's busy minutes)."""

    type: Literal["scheduler_throughput"] = "scheduler_throughput"
    measure: ClassVar[str | None] = "scheduler_throughput"
    example: ClassVar[str] = "scheduler_throughput: {min: 200}"
    min: float = Field(gt=0)

    @property
    def name(self) -> str:
        """``scheduler_throughput``."""
        return "scheduler_throughput"

    def target(self) -> Target:
        """Task instances per minute."""
        return Target(">=", self.min, f">= {self.min:g}/min")


class CountSlo(SloSpecBase):
    """A maximum count (default 0); ``- <kind>: N`` is ``{max: N}``."""

    shorthand: ClassVar[str | None] = "max"
    max: int = Field(0, ge=0)

    def target(self) -> Target:
        """At most ``max``."""
        return Target("<=", float(self.max), f"<= {self.max}")

    def needs(self) -> frozenset[Part]:
        """The serving database the events are counted in."""
        return frozenset({"serving_db"})


class LostEventsSlo(CountSlo):
    """Generated events the pipeline never loaded (landing and stream paths)."""

    type: Literal["lost_events"] = "lost_events"
    measure: ClassVar[str | None] = "completeness"
    example: ClassVar[str] = "lost_events: 0"


class DuplicateEventsSlo(CountSlo):
    """Generated events the pipeline loaded more than once."""

    type: Literal["duplicate_events"] = "duplicate_events"
    measure: ClassVar[str | None] = "completeness"
    example: ClassVar[str] = "duplicate_events: 0"


class TriggerErrorsSlo(CountSlo):
    """API triggers that errored (timeouts, refusals), whether or not the run appeared."""

    type: Literal["trigger_errors"] = "trigger_errors"
    measure: ClassVar[str | None] = "trigger_errors"
    example: ClassVar[str] = "trigger_errors: {max: 0}"


class TriesNeverStartedSlo(CountSlo):
    """Task tries that ended without ever starting (work the executor lost)."""

    type: Literal["tries_never_started"] = "tries_never_started"
    measure: ClassVar[str | None] = "tries_never_started"
    example: ClassVar[str] = "tries_never_started: {max: 0}"
