# mypy: disable-error-code="import-untyped"
"""The wait before each retry: a retried try's start − the end of the try before it.

What a DAG's ``retry_delay`` / ``retry_exponential_backoff`` give in practice, for any
DAG: Airflow waits the delay, then the scheduler and executor add their own queueing,
so the figure is the delay the pipeline lived, not the one it declared. A retry whose
previous try has no end (it was failed without running, or the probe never saw it end)
or whose own start is unknown has no delay and is left out.

Wall seconds: Airflow's delays are real time, whatever the run's time compression.
"""

from __future__ import annotations

import pandas as pd

_KEY = ["dag_id", "run_id", "task_id", "map_index"]


def retry_delays(retried: pd.DataFrame, task_tries: pd.DataFrame) -> tuple[float, ...]:
    """The delays (wall s) before the tries in ``retried``, in the order they started.

    ``retried``: task tries with ``try_number`` > 1 (a selection of ``task_tries``);
    ``task_tries``: every try of the run, where the previous tries are looked up.
    """
    if retried.empty or task_tries.empty:
        return ()
    previous = task_tries[[*_KEY, "try_number", "end_date_t"]].rename(
        columns={"end_date_t": "previous_end_t"}
    )
    previous = previous.assign(try_number=previous["try_number"] + 1)
    pairs = retried[[*_KEY, "try_number", "start_date_t"]].merge(
        previous, on=[*_KEY, "try_number"], how="inner"
    )
    pairs = pairs.dropna(subset=["start_date_t", "previous_end_t"])
    pairs = pairs.sort_values("start_date_t", kind="stable")
    gaps = (pairs["start_date_t"] - pairs["previous_end_t"]).clip(lower=0.0)
    return tuple(round(float(g), 3) for g in gaps)
