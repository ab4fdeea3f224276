"""Compare two runs' headline measures and flag regressions beyond a tolerance.

A tolerance is absolute in the measure's unit (``0.02`` of SLA compliance = 2
percentage points; ``0`` lost events) or relative to the baseline (``25%``). A
measure regressed when it moved in its worse direction by more than the
tolerance, or when the baseline measured it and the candidate did not.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dagstorm.analysis.outputs.headline import HEADLINES, HeadlineSpec, headline_spec
from dagstorm.analysis.texts import plain_number
from dagstorm.core.errors import UsageError

__all__ = [
    "Comparison",
    "MeasureDelta",
    "Tolerance",
    "compare_measures",
    "parse_tolerance",
    "parse_tolerances",
]

_TOLERANCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$")


@dataclass(frozen=True)
class Tolerance:
    """How far a measure may move the wrong way before it is a regression."""

    value: float
    relative: bool

    @property
    def text(self) -> str:
        """As written: ``25%`` or ``0.02``."""
        return f"{self.value:g}%" if self.relative else f"{self.value:g}"

    def allowed(self, baseline: float) -> float:
        """The allowed worsening from ``baseline``, in the measure's unit."""
        return abs(baseline) * self.value / 100.0 if self.relative else self.value


def parse_tolerance(text: str, *, where: str = "tolerance") -> Tolerance:
    """``25%`` (relative) or ``0.02`` (absolute); a usage error otherwise."""
    match = _TOLERANCE.match(text)
    if match is None:
        raise UsageError(
            f"tolerance {text!r} is not a number or a percentage",
            where=where,
            fix="write e.g. 0.02 (absolute, in the measure's unit) or 25% (relative)",
        )
    return Tolerance(float(match.group(1)), relative=bool(match.group(2)))


def parse_tolerances(items: Iterable[str]) -> dict[str, Tolerance]:
    """Every measure's tolerance: the defaults, overridden by ``NAME=VALUE`` items."""
    tolerances = {s.name: parse_tolerance(s.tolerance) for s in HEADLINES}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or headline_spec(name.strip()) is None:
            raise UsageError(
                f"{item!r}: expected NAME=VALUE with NAME one of "
                + ", ".join(s.name for s in HEADLINES),
                where="--tolerance",
                fix="e.g. --tolerance sla_compliance=0.05 --tolerance throughput_per_min=20%",
            )
        tolerances[name.strip()] = parse_tolerance(value, where=f"--tolerance {name}")
    return tolerances


@dataclass(frozen=True)
class MeasureDelta:
    """One measure of the baseline (a) and the candidate (b)."""

    spec: HeadlineSpec
    baseline: float | None
    candidate: float | None
    tolerance: Tolerance
    regressed: bool
    #: Why it regressed or not, in words.
    note: str

    @property
    def delta(self) -> float | None:
        """Candidate − baseline (None when either is not measured)."""
        if self.baseline is None or self.candidate is None:
            return None
        return self.candidate - self.baseline

    @property
    def delta_pct(self) -> float | None:
        """The delta as a percentage of the baseline (None for a zero baseline)."""
        delta = self.delta
        if delta is None or self.baseline is None or self.baseline == 0:
            return None
        return 100.0 * delta / abs(self.baseline)


@dataclass(frozen=True)
class Comparison:
    """Every headline measure side by side."""

    rows: tuple[MeasureDelta, ...]

    @property
    def regressions(self) -> tuple[MeasureDelta, ...]:
        """The measures that regressed beyond their tolerance."""
        return tuple(r for r in self.rows if r.regressed)


def compare_measures(
    baseline: Mapping[str, float | None],
    candidate: Mapping[str, float | None],
    tolerances: Mapping[str, Tolerance] | None = None,
) -> Comparison:
    """Compare the candidate's headline measures with the baseline's."""
    chosen = dict(tolerances or parse_tolerances(()))
    rows = []
    for spec in HEADLINES:
        a, b = baseline.get(spec.name), candidate.get(spec.name)
        tolerance = chosen.get(spec.name) or parse_tolerance(spec.tolerance)
        regressed, note = _judge(spec, a, b, tolerance)
        rows.append(MeasureDelta(spec, a, b, tolerance, regressed, note))
    return Comparison(tuple(rows))


def _judge(
    spec: HeadlineSpec, a: float | None, b: float | None, tolerance: Tolerance
) -> tuple[bool, str]:
    if a is None and b is None:
        return False, "not measured in either run"
    if a is None:
        return False, "not measured in the baseline"
    if b is None:
        return True, "measured in the baseline, not in this run"
    worse = (a - b) if spec.better == "higher" else (b - a)
    allowed = tolerance.allowed(a)
    # Rounding in result.json (6 decimals) must not turn equal values into a regression.
    if worse > allowed and not math.isclose(worse, allowed, abs_tol=1e-9):
        return True, f"worse by {_amount(spec, worse)} (tolerance {tolerance.text})"
    if worse > 0:
        return False, f"worse by {_amount(spec, worse)}, within tolerance {tolerance.text}"
    if worse < 0:
        return False, f"better by {_amount(spec, -worse)}"
    return False, "unchanged"


def _amount(spec: HeadlineSpec, value: float) -> str:
    match spec.unit:
        case "fraction":
            return f"{plain_number(value * 100)} pp"
        case "seconds":
            return f"{plain_number(value)} s"
        case "per_min":
            return f"{plain_number(value)}/min"
        case "bytes_per_s":
            return f"{plain_number(value / 1e6)} MB/s"
        case _:
            return plain_number(value)
