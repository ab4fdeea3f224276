# mypy: disable-error-code="import-untyped"
"""Airflow's pools over a capacity step: their size, and how often no slot was open.

Airflow's scheduler reports each pool's slots as StatsD gauges every loop
(``pool.open_slots.<pool>``, ``pool.running_slots.<pool>``,
``pool.queued_slots.<pool>``); the StatsD probe samples them every interval. Per
pool over a step:

- **slots**: the pool's size, the most ``open + running + queued`` of one sample
  (Airflow counts running and queued tasks as occupying slots);
- **full share**: the share of samples with no open slot — a task that needs the
  pool then waits for one, whatever else is free;
- the most slots running and queued at once.

A pool with no open slot in at least :data:`POOL_FULL_SHARE` of a step's samples
is **saturated** at that step (:func:`first_full_pool`): the same rule as Spark's
cores (:mod:`.step_profile`). The figures come from Airflow itself, so they hold
for any DAG and any executor; a stack without StatsD has none (not measured).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from dagstorm.analysis.texts import plural

__all__ = [
    "POOL_FULL_SHARE",
    "PoolSaturation",
    "PoolUse",
    "first_full_pool",
    "merge_pools",
    "pool_uses",
]

#: No open slot in at least this share of a step's samples: the pool is saturated.
POOL_FULL_SHARE = 0.5
_PREFIX = "pool."
_GAUGES = ("open_slots", "running_slots", "queued_slots")
#: Samples of one pool's gauges at most this far apart (wall s) are one sample.
_SAME_SAMPLE_S = 1.0


@dataclass(frozen=True)
class PoolUse:
    """One Airflow pool over a step (module docstring)."""

    pool: str
    slots: int
    #: Share of the samples with no open slot (0–1).
    full_share: float
    running_max: int
    queued_max: int
    samples: int


@dataclass(frozen=True)
class PoolSaturation:
    """The lowest step where a pool had no open slot most of the time."""

    multiplier: float
    pool: str
    slots: int
    share: float

    @property
    def text(self) -> str:
        """``pool spark_pool at its 1 slot (none open in 67% of samples) from ×128``."""
        return (
            f"pool {self.pool} at its {plural(self.slots, 'slot')} (none open in"
            f" {self.share * 100:.0f}% of the scheduler's samples) from ×{self.multiplier:.4g}"
        )


def pool_uses(statsd: pd.DataFrame) -> tuple[PoolUse, ...]:
    """Each pool's figures from a run's ``statsd`` frame (none: no pool gauges)."""
    if statsd.empty or not {"metric", "type", "value", "t"} <= set(statsd.columns):
        return ()
    names = statsd["metric"].astype(str)
    rows = statsd[names.str.startswith(_PREFIX) & (statsd["type"] == "gauge")]
    if rows.empty:
        return ()
    parts = names[rows.index].str.slice(len(_PREFIX)).str.split(".", n=1, expand=True)
    if parts.shape[1] < 2:
        return ()
    frame = pd.DataFrame(
        {
            "gauge": parts[0],
            "pool": parts[1],
            "t": pd.to_numeric(rows["t"], errors="coerce"),
            "value": pd.to_numeric(rows["value"], errors="coerce"),
        }
    ).dropna()
    frame = frame[frame["gauge"].isin(_GAUGES)]
    out = []
    for pool, gauges in frame.groupby("pool", sort=True):
        use = _pool(str(pool), gauges)
        if use is not None:
            out.append(use)
    return tuple(out)


def _pool(pool: str, gauges: pd.DataFrame) -> PoolUse | None:
    """One pool's figures; its ``open_slots`` samples are the samples."""
    series = {
        gauge: rows.sort_values("t")[["t", "value"]].rename(columns={"value": gauge})
        for gauge, rows in gauges.groupby("gauge")
    }
    opened = series.get("open_slots")
    if opened is None or opened.empty:
        return None
    sample = opened
    for gauge in ("running_slots", "queued_slots"):
        if gauge in series:
            sample = pd.merge_asof(
                sample, series[gauge], on="t", direction="nearest", tolerance=_SAME_SAMPLE_S
            )
        else:
            sample = sample.assign(**{gauge: 0.0})
    sample = sample.fillna(0.0)
    occupied = sample["open_slots"] + sample["running_slots"] + sample["queued_slots"]
    slots = int(occupied.max())
    if slots < 1:
        return None
    return PoolUse(
        pool=pool,
        slots=slots,
        full_share=float((sample["open_slots"] <= 0).mean()),
        running_max=int(sample["running_slots"].max()),
        queued_max=int(sample["queued_slots"].max()),
        samples=len(sample),
    )


def merge_pools(steps: Sequence[Sequence[PoolUse]]) -> tuple[PoolUse, ...]:
    """Sub-runs' pool figures as one per pool: shares weighted by their samples."""
    by_pool: dict[str, list[PoolUse]] = {}
    for uses in steps:
        for use in uses:
            by_pool.setdefault(use.pool, []).append(use)
    merged = []
    for pool, uses in sorted(by_pool.items()):
        samples = sum(u.samples for u in uses)
        if not samples:
            continue
        merged.append(
            PoolUse(
                pool=pool,
                slots=max(u.slots for u in uses),
                full_share=sum(u.full_share * u.samples for u in uses) / samples,
                running_max=max(u.running_max for u in uses),
                queued_max=max(u.queued_max for u in uses),
                samples=samples,
            )
        )
    return tuple(merged)


def first_full_pool(steps: Iterable[tuple[float, Sequence[PoolUse]]]) -> PoolSaturation | None:
    """The lowest step (by multiplier) where a pool had no open slot most of the time.

    Several pools full at that step: the one full the most often.
    """
    for multiplier, uses in sorted(steps, key=lambda step: step[0]):
        full = [u for u in uses if u.full_share >= POOL_FULL_SHARE]
        if full:
            most = max(full, key=lambda u: (u.full_share, u.pool))
            return PoolSaturation(multiplier, most.pool, most.slots, most.full_share)
    return None
