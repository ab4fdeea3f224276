"""Nearest-rank percentiles: always an observed value, defined for infinities too."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


def nearest_rank(values: Iterable[float], q: float) -> float | None:
    """The smallest value with at least ``q`` (0 < q <= 1) of the values at or below it.

    None for no values. Infinite values are ordinary values here: a p95 over
    recovery times where one fault never recovered is infinite when that fault
    falls in the top 5 %.
    """
    ordered = sorted(v for v in values if not math.isnan(v))
    if not ordered:
        return None
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Percentiles:
    """p50/p95/p99/max (nearest rank) of some durations in seconds; None when empty."""

    count: int
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None

    @classmethod
    def of(cls, values: Iterable[float]) -> Percentiles:
        """Summarise ``values`` (NaNs are dropped)."""
        kept = [float(v) for v in values if not math.isnan(v)]
        return cls(
            count=len(kept),
            p50=nearest_rank(kept, 0.50),
            p95=nearest_rank(kept, 0.95),
            p99=nearest_rank(kept, 0.99),
            max=max(kept) if kept else None,
        )
