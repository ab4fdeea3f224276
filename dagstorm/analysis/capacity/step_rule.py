"""When one step of a capacity search is decided: the early-stop rule.

A step runs the workload at one rate multiplier as one or more sub-runs, each a
normal run. After each sub-run the step's counts so far — ``met`` and ``missed``
runs of the SLA's DAG (excluded runs do not count), and the named SLOs that
failed — are judged, in this order:

1. a named SLO other than the SLA failed (throughput, lag, lost events, …):
   **breaks** at once;
2. at least ``min_runs`` (N) runs counted: **holds** if the compliance met ÷
   counted meets the target, else **breaks**;
3. fewer than N counted, and ``missed`` is already more than the misses N runs
   may have (``allowed``: the most misses among N that still meet the target, 0
   for ``>= 95%`` and N = 5): **breaks** early — even if every remaining run of
   the N met, the compliance over N would miss the target;
4. fewer than N counted, and ``met`` ≥ N − ``allowed``: **holds** early — even if
   every remaining run of the N missed, the compliance over N would meet it;
5. otherwise undecided: another sub-run, unless the step already had
   ``max_sub_runs``; then with no counted run it is **not measured** (never a
   failure), and with some it is judged on what it has (rule 2 with fewer than N,
   and the reason says so).

This is k6's "abort on a failed threshold" for one step: a step stops as soon as
more runs cannot change its verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "ComplianceTarget",
    "StepCounts",
    "StepDecision",
    "StepVerdict",
    "allowed_misses",
    "decide_step",
]

StepVerdict = Literal["holds", "breaks", "not measured"]


@dataclass(frozen=True)
class ComplianceTarget:
    """The SLA's compliance target: ``>= 0.95`` (``strict``: ``> 0.95``)."""

    share: float
    strict: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.share <= 1.0:
            raise ValueError(f"a compliance target is a share in [0, 1], got {self.share}")

    def meets(self, compliance: float) -> bool:
        """True if ``compliance`` meets the target."""
        eps = 1e-9  # 19/20 is 0.95 exactly, whatever the float says
        return compliance > self.share + eps if self.strict else compliance >= self.share - eps

    @property
    def text(self) -> str:
        """``>= 95%``."""
        return f"{'>' if self.strict else '>='} {self.share * 100:g}%"


@dataclass(frozen=True)
class StepCounts:
    """What a step's sub-runs counted so far."""

    met: int
    missed: int
    #: Names of the named SLOs other than the SLA that failed in any sub-run.
    slo_failures: Sequence[str]
    sub_runs: int

    @property
    def counted(self) -> int:
        """Runs that count toward the compliance (met + missed)."""
        return self.met + self.missed


@dataclass(frozen=True)
class StepDecision:
    """A decided step: its verdict and why (one sentence)."""

    verdict: StepVerdict
    reason: str
    #: True when the step stopped before N counted runs (rules 1, 3, 4).
    early: bool = False


def allowed_misses(target: ComplianceTarget, min_runs: int) -> int:
    """The most misses among ``min_runs`` runs that still meet ``target`` (-1: none can)."""
    if min_runs < 1:
        raise ValueError(f"min_runs must be >= 1, got {min_runs}")
    allowed = -1
    for misses in range(min_runs + 1):
        if target.meets((min_runs - misses) / min_runs):
            allowed = misses
    return allowed


def decide_step(
    counts: StepCounts, target: ComplianceTarget, *, min_runs: int, max_sub_runs: int
) -> StepDecision | None:
    """The step's verdict by the early-stop rule (module docstring); None: run again."""
    if counts.slo_failures:
        names = ", ".join(sorted(set(counts.slo_failures)))
        return StepDecision("breaks", f"SLO failed: {names}", early=counts.counted < min_runs)
    counted = counts.counted
    sla = f"{counts.met}/{counted} runs met the SLA (target {target.text})"
    if counted >= min_runs:
        verdict: StepVerdict = "holds" if target.meets(counts.met / counted) else "breaks"
        return StepDecision(verdict, sla)
    allowed = allowed_misses(target, min_runs)
    some = counted > 0  # no run yet: nothing to decide early (a target of 0% or > 100%)
    if some and counts.missed > allowed:
        return StepDecision(
            "breaks",
            f"{sla}: {counts.missed} miss(es) already exceed the {max(allowed, 0)} that"
            f" {min_runs} runs may have",
            early=True,
        )
    if some and counts.met >= min_runs - allowed:
        return StepDecision(
            "holds",
            f"{sla}: the target holds over {min_runs} runs whatever the remaining ones do",
            early=True,
        )
    if counts.sub_runs < max_sub_runs:
        return None
    if counted == 0:
        return StepDecision(
            "not measured", f"no counted run of the SLA's DAG in {counts.sub_runs} sub-run(s)"
        )
    verdict = "holds" if target.meets(counts.met / counted) else "breaks"
    return StepDecision(verdict, f"{sla}; only {counted} of {min_runs} runs in {max_sub_runs}")
