"""The wait before each retry: from the tries' own times, for any DAG."""

from __future__ import annotations

import math

import pandas as pd

from dagstorm.analysis.measures.faults.retry_delays import retry_delays


def tries(*rows: tuple[str, str, int, float | None, float | None]) -> pd.DataFrame:
    """(run_id, task_id, try_number, start_date_t, end_date_t) of DAG ``d``, not mapped."""
    return pd.DataFrame(
        {
            "dag_id": ["d"] * len(rows),
            "run_id": [r[0] for r in rows],
            "task_id": [r[1] for r in rows],
            "map_index": [-1] * len(rows),
            "try_number": [r[2] for r in rows],
            "start_date_t": [math.nan if r[3] is None else r[3] for r in rows],
            "end_date_t": [math.nan if r[4] is None else r[4] for r in rows],
        }
    )


def test_each_retry_waits_from_the_previous_tries_end_in_start_order() -> None:
    every = tries(
        ("r1", "agg", 1, 100.0, 160.0),
        ("r1", "agg", 2, 166.0, 200.0),  # 6 s after try 1
        ("r1", "agg", 3, 211.5, 260.0),  # 11.5 s after try 2 (backoff)
        ("r2", "agg", 1, 150.0, 170.0),
        ("r2", "agg", 2, 190.0, 230.0),  # 20 s, started between r1's two retries
        ("r2", "load", 1, 240.0, 250.0),
    )
    retried = every[every["try_number"] > 1]
    assert retry_delays(retried, every) == (6.0, 20.0, 11.5)


def test_a_retry_without_a_known_previous_end_or_start_has_no_delay() -> None:
    every = tries(
        ("r1", "agg", 1, None, None),  # failed without ever running: no end seen
        ("r1", "agg", 2, 50.0, 90.0),
        ("r2", "agg", 1, 10.0, 20.0),
        ("r2", "agg", 2, None, None),  # queued, not started yet
        ("r3", "agg", 2, 70.0, 80.0),  # its first try is not in the journal
    )
    retried = every[every["try_number"] > 1]
    assert retry_delays(retried, every) == ()
    assert retry_delays(retried.iloc[0:0], every) == ()
