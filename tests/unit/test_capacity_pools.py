"""Airflow's pools over a capacity step, from the StatsD gauges the scheduler reports."""

from __future__ import annotations

import pandas as pd
import pytest

from dagstorm.analysis.capacity.pools import first_full_pool, merge_pools, pool_uses


def gauges(samples: list[tuple[float, str, float, float, float]]) -> pd.DataFrame:
    """(t, pool, open, running, queued) → statsd rows, each gauge a few ms apart."""
    rows = []
    for t, pool, opened, running, queued in samples:
        for offset, (gauge, value) in enumerate(
            (("open_slots", opened), ("running_slots", running), ("queued_slots", queued))
        ):
            rows.append(
                {"t": t + offset * 0.003, "metric": f"pool.{gauge}.{pool}", "type": "gauge",
                 "value": value}
            )  # fmt: skip
    rows.append({"t": 1.0, "metric": "pool.open_slots", "type": "gauge", "value": 5.0})
    rows.append({"t": 1.0, "metric": "pool.open_slots.other", "type": "counter", "value": 0.0})
    return pd.DataFrame(rows)


def test_a_pools_size_and_how_often_it_had_no_open_slot() -> None:
    frame = gauges(
        [
            (5.0, "spark_pool", 1, 0, 0),
            (10.0, "spark_pool", 0, 1, 0),
            (15.0, "spark_pool", 0, 0, 1),  # queued occupies the slot too
            (20.0, "spark_pool", 0, 1, 0),
            (5.0, "default_pool", 127, 1, 0),
            (10.0, "default_pool", 126, 2, 0),
        ]
    )
    uses = {u.pool: u for u in pool_uses(frame)}
    assert set(uses) == {"default_pool", "spark_pool"}  # the pool-less total and counters: no
    spark = uses["spark_pool"]
    assert (spark.slots, spark.full_share, spark.running_max, spark.queued_max) == (1, 0.75, 1, 1)
    assert (uses["default_pool"].slots, uses["default_pool"].full_share) == (128, 0.0)
    assert pool_uses(pd.DataFrame()) == ()


def test_the_first_step_where_a_pool_was_full_most_of_the_time() -> None:
    low = pool_uses(gauges([(5.0, "p", 1, 0, 0), (10.0, "p", 0, 1, 0)]))  # 50%: full
    lower = pool_uses(gauges([(5.0, "p", 1, 0, 0), (10.0, "p", 1, 0, 0)]))
    found = first_full_pool([(4.0, low), (1.0, lower), (8.0, low)])
    assert found is not None
    assert (found.multiplier, found.pool, found.slots, found.share) == (4.0, "p", 1, 0.5)
    assert found.text == (
        "pool p at its 1 slot (none open in 50% of the scheduler's samples) from ×4"
    )
    assert first_full_pool([(1.0, lower)]) is None


def test_sub_runs_merge_weighted_by_their_samples() -> None:
    a = pool_uses(gauges([(5.0, "p", 0, 1, 0)]))  # 1 sample, full
    b = pool_uses(gauges([(5.0, "p", 1, 0, 0), (10.0, "p", 1, 0, 0), (15.0, "p", 2, 0, 0)]))
    (merged,) = merge_pools([a, b])
    assert merged.samples == 4 and merged.full_share == pytest.approx(0.25)
    assert merged.slots == 2  # the largest size seen
