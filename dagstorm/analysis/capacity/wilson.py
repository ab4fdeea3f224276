"""The Wilson score interval for a compliance: k of n runs met the SLA.

A compliance measured over a few runs is a rough estimate: 5 of 5 runs met is
"100%", yet a pipeline that meets 70% of its runs does that one time in six.
The Wilson score interval (Wilson, 1927) bounds the true share with a stated
confidence and, unlike the normal approximation, stays inside [0, 1] and is
honest at k = 0 or k = n:

    centre = (p + z²/2n) / (1 + z²/n)
    half   = z / (1 + z²/n) × sqrt(p(1 − p)/n + z²/4n²)

with p = k/n and z the normal quantile of the two-sided confidence (1.96 for
95%). No runs: no interval (the step is "not measured", never a failure).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

__all__ = ["DEFAULT_CONFIDENCE", "Interval", "wilson_interval"]

#: The two-sided confidence of the intervals dagstorm reports.
DEFAULT_CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A share's confidence interval: ``low`` ≤ true share ≤ ``high`` at ``confidence``."""

    low: float
    high: float
    confidence: float

    @property
    def text(self) -> str:
        """``62–100% (95% CI)``."""
        return f"{self.low * 100:.0f}–{self.high * 100:.0f}% ({self.confidence * 100:.0f}% CI)"


def wilson_interval(
    met: int, runs: int, *, confidence: float = DEFAULT_CONFIDENCE
) -> Interval | None:
    """The Wilson score interval of ``met`` successes out of ``runs`` (None: no runs)."""
    if runs < 0 or met < 0 or met > runs:
        raise ValueError(f"need 0 <= met <= runs, got met={met} runs={runs}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if runs == 0:
        return None
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = met / runs
    z2 = z * z
    denominator = 1 + z2 / runs
    centre = (p + z2 / (2 * runs)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / runs + z2 / (4 * runs * runs))
    # Clamp float noise at the ends (k = 0 gives exactly 0 in exact arithmetic).
    return Interval(max(0.0, centre - half), min(1.0, centre + half), confidence)
