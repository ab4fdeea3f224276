"""The breakpoint search: which rate multiplier to run next, as a pure state machine.

No I/O and no clock of its own: the caller runs each sub-run (a normal run with
the workload rate × the multiplier), passes its counts to :meth:`BreakpointSearch.record`
and asks :meth:`BreakpointSearch.next_multiplier` (with the wall time spent so
far) what to run next, until it answers None.

1. **Grow**: from ``start``, each step that holds multiplies the rate by
   ``growth`` (default 2), clamped to ``ceiling``; a step at the ceiling that
   holds ends the search ("ceiling": no break found, capacity is above it).
2. **Bisect**: once a step breaks, the next multiplier is the geometric mean of
   the last that held and the first that broke (rates are compared as ratios),
   until broken ÷ held − 1 ≤ ``tolerance`` (default 15%): "converged".
3. A step is decided by :mod:`.step_rule` (at least ``min_runs`` runs, stopping
   early once more runs cannot change the verdict).

The search also ends when the first step breaks ("first step broke": the limit
is below ``start``), when a step is not measured (no run of the SLA's DAG: a
longer step is needed, never a failure), when a sub-run errors ("error"), when
``max_steps`` steps were run, and — checked before each sub-run — when the
sub-run's planned wall time would overrun ``budget_s`` ("budget": the result
says the wall bound ended it, and the step in progress is left undecided).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from dagstorm.analysis.capacity.step_rule import (
    ComplianceTarget,
    StepCounts,
    StepDecision,
    StepVerdict,
    decide_step,
)
from dagstorm.analysis.capacity.wilson import Interval, wilson_interval

__all__ = [
    "BreakpointSearch",
    "Ending",
    "SearchResult",
    "SearchSettings",
    "SearchStep",
    "SubRun",
]

Ending = Literal[
    "converged",
    "ceiling",
    "first step broke",
    "not measured",
    "budget",
    "error",
    "max steps",
    "in progress",
]
#: ``verify``: a steady run after the search (:mod:`dagstorm.harness.capacity`).
Phase = Literal["grow", "bisect", "verify"]


@dataclass(frozen=True)
class SearchSettings:
    """How the search moves (docs/capacity.md)."""

    target: ComplianceTarget
    start: float = 1.0
    growth: float = 2.0
    ceiling: float = 32.0
    min_runs: int = 5
    tolerance: float = 0.15
    #: Wall seconds the whole search may take (None: no bound).
    budget_s: float | None = None
    #: Sub-runs a step may take to reach ``min_runs`` runs before it is judged on fewer.
    max_sub_runs: int = 3
    #: A hard bound on the number of steps, whatever the tolerance.
    max_steps: int = 20

    def __post_init__(self) -> None:
        problems = []
        if not self.start > 0:
            problems.append(f"start must be > 0, got {self.start}")
        if not self.growth > 1:
            problems.append(f"growth must be > 1, got {self.growth}")
        if not self.ceiling >= self.start:
            problems.append(f"ceiling ({self.ceiling}) must be >= start ({self.start})")
        if self.min_runs < 1 or self.max_sub_runs < 1 or self.max_steps < 1:
            problems.append("min_runs, max_sub_runs and max_steps must be >= 1")
        if not self.tolerance > 0:
            problems.append(f"tolerance must be > 0, got {self.tolerance}")
        if self.budget_s is not None and not self.budget_s > 0:
            problems.append(f"budget must be > 0, got {self.budget_s}")
        if problems:
            raise ValueError("; ".join(problems))

    def fits(self, elapsed_s: float, planned_s: float) -> bool:
        """Whether a sub-run of ``planned_s`` wall seconds, after ``elapsed_s``, fits the budget."""
        return self.budget_s is None or elapsed_s + planned_s <= self.budget_s


@dataclass(frozen=True)
class SubRun:
    """One sub-run's contribution to its step (from its run directory's result)."""

    met: int
    missed: int
    #: Named SLOs other than the SLA that failed.
    slo_failures: tuple[str, ...] = ()
    wall_s: float = 0.0
    run_dir: str | None = None
    #: Why the sub-run could not be judged (infrastructure, interrupted): ends the search.
    error: str | None = None


@dataclass
class SearchStep:
    """One step: a multiplier, its sub-runs and (once decided) its verdict."""

    index: int
    multiplier: float
    phase: Phase
    sub_runs: list[SubRun] = field(default_factory=list)
    decision: StepDecision | None = None

    @property
    def met(self) -> int:
        """Runs of the SLA's DAG that met it, over the step's sub-runs."""
        return sum(s.met for s in self.sub_runs)

    @property
    def counted(self) -> int:
        """Runs that counted (met + missed)."""
        return sum(s.met + s.missed for s in self.sub_runs)

    @property
    def compliance(self) -> float | None:
        """The compliance, met ÷ counted (None: not measured)."""
        return self.met / self.counted if self.counted else None

    @property
    def interval(self) -> Interval | None:
        """Wilson score interval of the compliance (None: no counted run)."""
        return wilson_interval(self.met, self.counted)

    @property
    def verdict(self) -> StepVerdict | Literal["undecided"]:
        """The step's verdict; undecided when the search ended mid-step."""
        return "undecided" if self.decision is None else self.decision.verdict

    def counts(self) -> StepCounts:
        """The step's counts for :func:`decide_step`."""
        failures = tuple(name for s in self.sub_runs for name in s.slo_failures)
        return StepCounts(self.met, self.counted - self.met, failures, len(self.sub_runs))


@dataclass(frozen=True)
class SearchResult:
    """Where the search ended: the multipliers that held and broke, and why it stopped."""

    #: The highest multiplier that held (None: none did).
    sustained: float | None
    #: The lowest multiplier that broke (None: none did).
    breaking: float | None
    ended: Ending
    #: One sentence: why the search stopped.
    ended_text: str
    #: True when the wall budget ended the search (the answer is not converged).
    bounded_by_wall: bool
    steps: tuple[SearchStep, ...]

    @property
    def width(self) -> float | None:
        """How tight the answer is, breaking ÷ sustained − 1 (None: one side missing)."""
        if self.sustained is None or self.breaking is None:
            return None
        return self.breaking / self.sustained - 1


class BreakpointSearch:
    """The search's state machine (module docstring); feed it sub-runs, ask what next."""

    def __init__(self, settings: SearchSettings) -> None:
        self.settings = settings
        self._steps: list[SearchStep] = [SearchStep(0, settings.start, "grow")]
        self._held: float | None = None
        self._broken: float | None = None
        self._ended: tuple[Ending, str] | None = None

    @property
    def done(self) -> bool:
        """True once the search has ended."""
        return self._ended is not None

    @property
    def current(self) -> SearchStep | None:
        """The step in progress (None once the search ended)."""
        return None if self.done else self._steps[-1]

    def next_multiplier(self, elapsed_s: float, planned_s: float) -> float | None:
        """The multiplier of the next sub-run; None when the search is over.

        ``elapsed_s``: wall seconds spent so far; ``planned_s``: the next sub-run's
        planned wall time. A sub-run that would overrun the budget is not started.
        """
        if self._ended is not None:
            return None
        step = self._steps[-1]
        if not self.settings.fits(elapsed_s, planned_s):
            self._end(
                "budget",
                f"the wall budget ended the search: {elapsed_s:.0f} s spent + {planned_s:.0f} s"
                f" for the next sub-run (×{step.multiplier:.4g}) > {self.settings.budget_s:.0f} s",
            )
            return None
        return step.multiplier

    def record(self, sub_run: SubRun) -> SearchStep:
        """Add ``sub_run`` to the step in progress; decide it and move on when it is decided."""
        if self._ended is not None:
            raise RuntimeError("the search has ended; nothing more to record")
        step = self._steps[-1]
        step.sub_runs.append(sub_run)
        if sub_run.error is not None:
            self._end("error", f"a sub-run of ×{step.multiplier:.4g} failed: {sub_run.error}")
            return step
        s = self.settings
        decision = decide_step(
            step.counts(), s.target, min_runs=s.min_runs, max_sub_runs=s.max_sub_runs
        )
        if decision is None:
            return step
        step.decision = decision
        self._advance(step, decision.verdict)
        return step

    def result(self) -> SearchResult:
        """The answer so far (final once :attr:`done`)."""
        ended, text = self._ended or ("in progress", "the search has not ended")
        steps = tuple(s for s in self._steps if s.sub_runs)
        return SearchResult(
            sustained=self._held,
            breaking=self._broken,
            ended=ended,
            ended_text=text,
            bounded_by_wall=ended == "budget",
            steps=steps,
        )

    def _advance(self, step: SearchStep, verdict: StepVerdict) -> None:
        s = self.settings
        m = step.multiplier
        if verdict == "not measured":
            self._end(
                "not measured",
                f"step ×{m:.4g} had no run of the SLA's DAG: lengthen the scenario's duration",
            )
            return
        if verdict == "holds":
            self._held = m if self._held is None else max(self._held, m)
        else:
            self._broken = m if self._broken is None else min(self._broken, m)
        if self._broken is None:
            if m >= s.ceiling:
                self._end("ceiling", f"×{m:.4g} (the ceiling) held: no break below the ceiling")
                return
            self._next(min(m * s.growth, s.ceiling), "grow")
            return
        if self._held is None:
            self._end("first step broke", f"the first step (×{m:.4g}) broke: the limit is below")
            return
        if self._broken / self._held - 1 <= s.tolerance + 1e-12:
            self._end(
                "converged",
                f"held at ×{self._held:.4g}, broke at ×{self._broken:.4g}: within"
                f" {s.tolerance * 100:g}%",
            )
            return
        self._next(math.sqrt(self._held * self._broken), "bisect")

    def _next(self, multiplier: float, phase: Phase) -> None:
        if len(self._steps) >= self.settings.max_steps:
            self._end("max steps", f"{len(self._steps)} steps run (the bound)")
            return
        self._steps.append(SearchStep(len(self._steps), multiplier, phase))

    def _end(self, ended: Ending, text: str) -> None:
        self._ended = (ended, text)
