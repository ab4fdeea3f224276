# mypy: disable-error-code="import-untyped"
"""How far each measured SLO is from its target, and which passed SLO came closest to failing.

- **margin** of an SLO: the signed distance from its measured value to its target
  in the target's unit (positive: room left), and relative to the target;
- the **closest to failing** is the passed SLO with the smallest relative margin (a
  zero-tolerance count, whose target is 0, only when no other SLO passed).

The report's "What next" (:mod:`dagstorm.analysis.outputs.next_steps`) starts from them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dagstorm.analysis.measures.compute import Measures
from dagstorm.analysis.rundata.model import Slo
from dagstorm.analysis.texts import plain_number, plural
from dagstorm.analysis.verdict.judgement import SloVerdict, Verdict
from dagstorm.analysis.verdict.sample_size import sample_note
from dagstorm.core.durations import duration_text
from dagstorm.scenarios.comparisons import Target
from dagstorm.scenarios.slos import CountSlo, RecoveryTimeSlo, SchedulerThroughputSlo, SlaSlo

__all__ = ["SloMargin", "closest_slo", "slo_margins"]


@dataclass(frozen=True)
class SloMargin:
    """How far one measured SLO is from its target."""

    name: str
    type: str
    passed: bool
    value_text: str
    target: str
    #: Measured − target for a lower bound, target − measured for an upper bound, in
    #: the target's unit (a fraction, seconds, per minute, a count); positive: room left.
    margin: float
    margin_text: str
    #: ``margin`` ÷ |target| (None: the target is 0, or never recovered).
    relative: float | None
    #: Bad outcomes it takes to fail (SLA: more missed runs; counts: more events).
    outcomes_to_fail: int | None
    #: The sample-size note of a share measured over too few runs (None: enough).
    sample: str | None


def slo_margins(
    specs: Mapping[str, Slo], verdict: Verdict, measures: Measures
) -> tuple[SloMargin, ...]:
    """The margin of every measured SLO of ``verdict`` (``specs``: the SLOs by name)."""
    return tuple(
        m for v in verdict.slos if (m := _margin(v, specs.get(v.name), measures)) is not None
    )


def _margin(v: SloVerdict, spec: Slo | None, measures: Measures) -> SloMargin | None:
    if spec is None or not v.measured or v.value is None:
        return None
    target = spec.target()
    if target.op in (">=", ">"):
        margin = v.value - target.value
    elif target.op in ("<=", "<"):
        margin = target.value - v.value
    else:
        return None
    relative = None
    if target.value and math.isfinite(margin):
        relative = margin / abs(target.value)
    outcomes: int | None = None
    sample = None
    if isinstance(spec, SlaSlo):
        sla = measures.sla_for(spec)
        counted = sla.met + sla.missed
        outcomes = _misses_to_fail(sla.met, counted, target)
        sample = sample_note(counted, target)
    elif isinstance(spec, CountSlo):
        outcomes = max(0, int(target.value - v.value)) + (1 if target.op == "<=" else 0)
    return SloMargin(
        name=v.name,
        type=v.type,
        passed=v.passed,
        value_text=v.value_text,
        target=v.target,
        margin=margin,
        margin_text=_margin_text(spec, margin, target.text),
        relative=relative,
        outcomes_to_fail=outcomes if v.passed else None,
        sample=sample,
    )


def _misses_to_fail(met: int, counted: int, target: Target) -> int | None:
    """How many more of the counted runs missing the deadline would fail the target."""
    if counted == 0:
        return None
    for extra in range(1, met + 1):
        if not target.passes((met - extra) / counted):
            return extra
    return None


def _margin_text(spec: Slo, margin: float, target: str) -> str:
    if not math.isfinite(margin):
        return f"target {target}"
    if margin == 0:
        return f"exactly at the limit of {target}"
    side = "within" if margin > 0 else "beyond"
    size = abs(margin)
    if isinstance(spec, SlaSlo):
        amount = f"{plain_number(size * 100, 3)} percentage points"
    elif isinstance(spec, RecoveryTimeSlo):
        amount = f"{duration_text(size)} sim"
    elif isinstance(spec, SchedulerThroughputSlo):
        amount = f"{plain_number(size, 3)} tries/min"
    elif isinstance(spec, CountSlo):
        amount = plural(round(size), "event")
    else:
        amount = plain_number(size)
    return f"{amount} {side} {target}"


def closest_slo(margins: Sequence[SloMargin]) -> SloMargin | None:
    """The passed SLO closest to failing (None: none passed)."""
    passed = [m for m in margins if m.passed]
    ranked = [m for m in passed if m.relative is not None]
    if ranked:
        return min(ranked, key=lambda m: (m.relative, m.name))
    return min(passed, key=lambda m: (m.margin, m.name)) if passed else None
