"""Per fault window: how far task throughput fell, and how soon it came back.

From the end times of the tries that started and finished (the throughput's
tries, :func:`~.throughput.finished_times`), in wall seconds:

- **baseline**: the median finished tries per minute over the last
  :data:`BASELINE_MINUTES` complete wall minutes before the fault's start in which
  at least one try finished (after the previous fault's end); none: not measured;
- **worst minute**: the complete wall minute with the fewest finished tries from
  the one holding the fault's start to the one where throughput recovered (or the
  last complete minute); **drop** = 1 − worst ÷ baseline;
- **throughput recovery**: the time from the fault's end (the revert) until the
  tries finished in the last 60 s are ≥ :data:`RECOVERED_SHARE` of the baseline,
  checked at the revert and at each finish after it; infinite when that never
  happens before the run ends.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import numpy as np

from dagstorm.analysis.measures.scheduler.throughput import MINUTE

BASELINE_MINUTES = 5
RECOVERED_SHARE = 0.9


@dataclass(frozen=True)
class FaultThroughput:
    """Throughput around one fault window (None: no baseline to compare with)."""

    baseline_minutes: int
    baseline_per_min: float | None
    worst_minute: int | None
    worst_minute_finished: int | None
    drop: float | None
    recovered: bool | None
    recovery_wall_s: float | None


def fault_throughput(
    finished_t: np.ndarray, *, start_t: float, end_t: float, run_end_t: float, after_t: float
) -> FaultThroughput:
    """Throughput around the window ``[start_t, end_t]`` (``finished_t`` sorted).

    ``after_t``: the previous fault's end (0 for the first), where the baseline may
    begin.
    """
    counts = _counts(finished_t, run_end_t)
    first = max(0, math.ceil(after_t / MINUTE - 1e-9))
    before = [c for c in counts[first : max(first, math.floor(start_t / MINUTE))] if c > 0]
    baseline_counts = before[-BASELINE_MINUTES:]
    if not baseline_counts:
        return FaultThroughput(0, None, None, None, None, None, None)
    baseline = float(statistics.median(baseline_counts))
    recovery = _recovery(finished_t, baseline, end_t, run_end_t)
    until = run_end_t if recovery is None else end_t + recovery
    low = math.floor(start_t / MINUTE)
    high = min(math.floor(until / MINUTE), len(counts) - 1)
    window = [(counts[m], m) for m in range(low, high + 1)]
    worst = min(window) if window else None
    return FaultThroughput(
        baseline_minutes=len(baseline_counts),
        baseline_per_min=baseline,
        worst_minute=None if worst is None else worst[1],
        worst_minute_finished=None if worst is None else worst[0],
        drop=None if worst is None else 1.0 - worst[0] / baseline,
        recovered=recovery is not None,
        recovery_wall_s=math.inf if recovery is None else recovery,
    )


def _counts(finished_t: np.ndarray, run_end_t: float) -> list[int]:
    """Finished tries per complete wall minute of the run."""
    n = max(0, math.floor(run_end_t / MINUTE + 1e-9))
    index = np.floor(finished_t / MINUTE).astype(np.int64)
    index = index[(index >= 0) & (index < n)]
    return [int(c) for c in np.bincount(index, minlength=n)[:n]]


def _recovery(
    finished_t: np.ndarray, baseline: float, end_t: float, run_end_t: float
) -> float | None:
    """Seconds from ``end_t`` until the last minute's finishes reach the share of baseline."""
    need = RECOVERED_SHARE * baseline
    later = finished_t[(finished_t > end_t) & (finished_t <= run_end_t)]
    for moment in (end_t, *later.tolist()):
        done = np.searchsorted(finished_t, moment, side="right")
        since = np.searchsorted(finished_t, moment - MINUTE, side="right")
        if done - since >= need:
            return float(moment - end_t)
    return None
