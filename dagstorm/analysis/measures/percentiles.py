"""The p50/p95/p99/max summary of some durations (nearest rank: ``core.quantiles``)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from dagstorm.core.quantiles import quantile


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
            p50=quantile(kept, 0.50),
            p95=quantile(kept, 0.95),
            p99=quantile(kept, 0.99),
            max=max(kept) if kept else None,
        )
