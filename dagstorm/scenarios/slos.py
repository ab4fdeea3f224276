"""SLOs as data.

In a scenario, ``slos`` is a list of one-key mappings::

    slos:
      - sla: {dag: my_dag, within: 2h, compliance: ">= 95%", weight: 3}
      - recovery_time: {p95: "<= 10m"}
      - scheduler_throughput: {min: 200}          # task instances finished per minute
      - lost_events: 0
      - duplicate_events: 0

Durations inside SLOs are **simulated** time (the pipeline's business clock);
each SLO may carry a ``weight`` (default 1) for the run's resilience score and
``abort: true`` to stop the run as soon as a live check fails it.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from dagstorm.core.durations import parse_duration
from dagstorm.core.problems import FixableValueError, KeyPath, raise_all, show
from dagstorm.scenarios.comparisons import Target, parse_target
from dagstorm.stack.parts import Part

#: Every SLO a scenario may list, as written (``- <type>: …``).
SLO_TYPES = ("sla", "recovery_time", "scheduler_throughput", "lost_events", "duplicate_events")
_COUNTS = ("lost_events", "duplicate_events")
_EXAMPLES = {
    "sla": "sla: {dag: my_dag, within: 2h, compliance: '>= 95%'}",
    "recovery_time": "recovery_time: {p95: '<= 10m'}",
    "scheduler_throughput": "scheduler_throughput: {min: 200}",
}


class _Slo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    weight: float = Field(1.0, gt=0)
    abort: bool = False

    @property
    def name(self) -> str:
        """A stable name (JUnit test case, result.json key)."""
        raise NotImplementedError

    def target(self) -> Target:
        """The parsed target."""
        raise NotImplementedError

    def needs(self) -> frozenset[Part]:
        """The stack parts its measure reads (default: Airflow's DAG runs and task tries)."""
        return frozenset({"airflow"})


class SlaSlo(_Slo):
    """Share of DAG runs that finished successfully within ``within`` (simulated)."""

    type: Literal["sla"] = "sla"
    dag: str
    within: float = Field(gt=0)  # simulated seconds
    compliance: str = ">= 95%"
    #: Where a run's clock starts: when it was queued, or its logical date (data interval).
    measure_from: Literal["queued", "logical_date"] = "queued"

    @field_validator("within", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        return parse_duration(value)

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


class RecoveryTimeSlo(_Slo):
    """Time from a fault's end to the first successful DAG run after it (simulated)."""

    type: Literal["recovery_time"] = "recovery_time"
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


class SchedulerThroughputSlo(_Slo):
    """Task instances finished per wall minute (median over the run's busy minutes)."""

    type: Literal["scheduler_throughput"] = "scheduler_throughput"
    min: float = Field(gt=0)

    @property
    def name(self) -> str:
        """``scheduler_throughput``."""
        return "scheduler_throughput"

    def target(self) -> Target:
        """Task instances per minute."""
        return Target(">=", self.min, f">= {self.min:g}/min")


class CountSlo(_Slo):
    """lost_events / duplicate_events: a maximum count (default 0)."""

    type: Literal["lost_events", "duplicate_events"]
    max: int = Field(0, ge=0)

    @property
    def name(self) -> str:
        """The type."""
        return self.type

    def target(self) -> Target:
        """At most ``max``."""
        return Target("<=", float(self.max), f"<= {self.max}")

    def needs(self) -> frozenset[Part]:
        """The serving database the events are counted in."""
        return frozenset({"serving_db"})


SloSpec = Annotated[
    SlaSlo | RecoveryTimeSlo | SchedulerThroughputSlo | CountSlo, Field(discriminator="type")
]


def normalise_slo(item: Any) -> Any:
    """``{sla: {...}}`` → ``{type: sla, ...}``; ``{lost_events: 0}`` → ``{type: …, max: 0}``."""
    if isinstance(item, dict) and len(item) == 1 and "type" not in item:
        ((key, value),) = item.items()
        if isinstance(value, dict):
            return {"type": key, **value}
        if key in _COUNTS:
            return {"type": key, "max": value}
        return {"type": key, "value": value}
    return item


def slo_entry(item: Any) -> Any:
    """:func:`normalise_slo` for a scenario's list, with a clear error for anything else.

    Raises ValueError (with a fix) for what is not one SLO written as one key.
    """
    if isinstance(item, dict) and "type" in item:
        return item
    if not isinstance(item, dict) or len(item) != 1:
        raise FixableValueError(
            "an SLO is one key naming it, with its settings",
            "write e.g. `- lost_events: 0` or `- sla: {dag: …, within: 2h}`",
        )
    ((key, value),) = item.items()
    if key not in SLO_TYPES:
        close = difflib.get_close_matches(str(key), SLO_TYPES, n=1)
        raise FixableValueError(
            f"unknown SLO {show(key)}; known: {', '.join(SLO_TYPES)}",
            f"did you mean `{close[0]}`?" if close else "use one of the known ones",
        )
    if isinstance(value, dict) and "type" in value:
        raise FixableValueError(f"`{key}` already says the SLO type", "remove `type:`")
    if not isinstance(value, dict) and key not in _COUNTS:
        raise FixableValueError(
            f"`{key}` takes a mapping of settings, got {show(value)}",
            f"write e.g. `{_EXAMPLES[key]}`",
        )
    return normalise_slo(item)


SloEntry = Annotated[SloSpec, BeforeValidator(slo_entry)]
"""One item of a scenario's ``slos`` list, as written."""
