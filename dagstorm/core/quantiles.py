"""Quantiles: the one definition behind every percentile dagstorm reports.

Definition: the ``q`` quantile (0 ≤ q ≤ 1) is the **nearest rank** — the smallest
observed value with at least a share ``q`` of the (weighted) values at or below
it. It is numpy's ``method="inverted_cdf"`` (Hyndman & Fan's definition 1).

Why this method and not numpy's default ``"linear"``:

- It is the only method numpy computes with weights, so one definition covers the
  three shapes the data comes in: plain values (analysis durations), values
  weighted by a count (a Kafka ack latency per record batch, counted once per
  record), and a histogram (Locust's response times bucketed by millisecond).
  Each agrees exactly with the plain quantile of the expanded data.
- The result is always an observed value: a p95 recovery time is the recovery of
  a fault that happened, and an SLO threshold is compared with a real delay.
- It is defined when values are infinite (a fault that never recovered):
  interpolating between 60 s and ``inf`` gives ``nan``, the nearest rank gives
  ``inf`` or 60 s, whichever the rank lands on.

The plain quantile goes through the weighted path with weights of one on
purpose: numpy's unweighted ``inverted_cdf`` computes the rank as ``q·n`` in
floating point, which for a few (q, n) — ``0.07 × 100 = 7.000000000000001`` —
lands one rank higher than the weighted path's cumulative share ``k/n ≥ q``.
One code path keeps the three variants equal. NaN values are dropped.
docs/measures.md ("Percentiles") states the definition for readers of results.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

import numpy as np
import numpy.typing as npt

#: numpy's name for the nearest-rank definition (``np.quantile(..., method=METHOD)``).
METHOD: Final = "inverted_cdf"


def _floats(values: Iterable[float]) -> npt.NDArray[np.float64]:
    if isinstance(values, np.ndarray):
        return values.astype(np.float64, copy=False).ravel()
    return np.fromiter(values, dtype=np.float64)


def weighted_quantile(
    values: Iterable[float],
    weights: Iterable[float],
    q: float,
) -> float | None:
    """The ``q`` quantile of ``values``, each counted ``weights`` times; None if none counts.

    Weights are non-negative counts (a zero weight drops its value); NaN values are
    dropped. Equal to :func:`quantile` of the values repeated by their weights.
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"a quantile is between 0 and 1, not {q}")
    v = _floats(values)
    w = _floats(weights)
    if v.shape != w.shape:
        raise ValueError(f"{v.size} values but {w.size} weights")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights are finite non-negative counts")
    keep = ~np.isnan(v) & (w > 0)
    if not keep.any():
        return None
    return float(np.quantile(v[keep], q, method=METHOD, weights=w[keep]))


def quantile(values: Iterable[float], q: float) -> float | None:
    """The ``q`` (0–1) nearest-rank quantile of ``values``; None if none (NaNs are dropped)."""
    v = _floats(values)
    return weighted_quantile(v, np.ones_like(v), q)


def histogram_quantile(histogram: Mapping[int, int], q: float) -> float | None:
    """The ``q`` quantile of a histogram (bucket value → count); None when it counts nothing.

    Locust's response times come bucketed by whole millisecond; the result is a bucket.
    """
    return weighted_quantile(
        np.fromiter(histogram.keys(), dtype=np.float64, count=len(histogram)),
        np.fromiter(histogram.values(), dtype=np.float64, count=len(histogram)),
        q,
    )
