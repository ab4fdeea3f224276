"""The scenario's ``capacity:`` block: a breakpoint search instead of one run.

::

    capacity:
      search: {start: 1, growth: 2, ceiling: 32, min_runs: 5, tolerance: 15%,
               budget: 2h, target: 2TB/day}
      verify: {below: 0.9, above: 1.1}

``dagstorm capacity SCENARIO`` runs the scenario once per step with every
rate-bearing workload's ``scale`` multiplied by the step's multiplier
(docs/capacity.md). ``budget`` is wall time; ``target`` is the production rate the
headroom is measured against (default: the first rate-bearing workload's rate).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dagstorm.core.durations import PositiveSeconds
from dagstorm.core.problems import raise_all
from dagstorm.workloads.traffic.rates import RateSpec

__all__ = ["CapacityBlock", "SearchSpec", "VerifySpec", "parse_tolerance"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def parse_tolerance(value: Any) -> float:
    """``15%``, ``"0.15"`` or ``0.15`` → 0.15; in (0, 10]."""
    if isinstance(value, bool):
        raise ValueError("a tolerance is a percentage like 15%")
    try:
        if isinstance(value, str) and value.strip().endswith("%"):
            share = float(value.strip()[:-1]) / 100.0
        else:
            share = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"a tolerance is a percentage like 15%, got {value!r:.40}") from None
    if not 0 < share <= 10:
        raise ValueError(f"a tolerance must be > 0% and <= 1000%, got {value!r:.40}")
    return share


class SearchSpec(_Strict):
    """How the breakpoint search moves: growth to a break or the ceiling, then bisection."""

    #: The first step's rate multiplier (× each rate-bearing workload's scale).
    start: float = Field(1.0, gt=0, le=1e6)
    #: Each held step multiplies the rate by this until a step breaks.
    growth: float = Field(2.0, gt=1, le=100)
    #: The highest multiplier tried; a held ceiling ends the search without a break.
    ceiling: float = Field(32.0, gt=0, le=1e6)
    #: Runs of the SLA's DAG a step needs (it stops early once its verdict is decided).
    min_runs: int = Field(5, ge=1, le=1000)
    #: Sub-runs a step may take to reach ``min_runs`` before it is judged on fewer.
    max_sub_runs: int = Field(3, ge=1, le=50)
    #: Bisection stops once breaking ÷ sustained − 1 is at most this.
    tolerance: float = 0.15
    #: Wall time the whole search may take; a sub-run that would overrun it is not started.
    budget: PositiveSeconds = 7200.0
    #: The production rate the headroom is measured against (None: the workload's rate).
    target: RateSpec | None = None

    @field_validator("tolerance", mode="before")
    @classmethod
    def _tolerance(cls, value: Any) -> float:
        return parse_tolerance(value)

    @model_validator(mode="after")
    def _ceiling(self) -> SearchSpec:
        if self.ceiling < self.start:
            message = f"ceiling ({self.ceiling:g}) must be >= start ({self.start:g})"
            raise_all("SearchSpec", [(("ceiling",), message)])
        return self


class VerifySpec(_Strict):
    """Steady runs after the search: ``below`` × sustained must hold, ``above`` × breaking break."""

    below: float = Field(0.9, gt=0, lt=1)
    above: float = Field(1.1, gt=1, le=100)


class CapacityBlock(_Strict):
    """``capacity:``: search for the rate where the SLA (or a named SLO) breaks."""

    search: SearchSpec = SearchSpec()
    #: None: no verification runs.
    verify: VerifySpec | None = None
