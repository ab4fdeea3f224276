"""scheduler_bench: N DAGs x M trivial tasks, for scheduler-throughput scenarios.

Shaped like Airflow's own dev/perf ``elastic_dag``. Sizes are read at parse time
from the environment (``DAGSTORM_BENCH_DAGS``, ``DAGSTORM_BENCH_TASKS``,
``DAGSTORM_BENCH_SHAPE``) or else from the Airflow Variable ``scheduler_bench``
(JSON ``{"dags": N, "tasks": M, "shape": "..."}``), else 2 x 5 linear. Shapes:
``no_structure`` (independent tasks), ``linear`` (a chain), ``binary_tree``,
``star`` (one → many → one). No schedule: scenarios trigger the runs.
"""

# ruff: noqa: PLC0415 - heavy or Airflow-runtime imports stay inside functions: DAG files parse fast

from __future__ import annotations

import itertools
import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from ad_pipeline.defaults import default_args
from ad_pipeline.settings import PRIORITY_EXPERIMENTAL, VAR_SCHEDULER_BENCH
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

SHAPES = ("no_structure", "linear", "binary_tree", "star")
DEFAULT_SIZE: dict[str, Any] = {"dags": 2, "tasks": 5, "shape": "linear"}
#: Hard caps: parse time and the metadata DB stay bounded whatever is asked.
MAX_DAGS = 500
MAX_TASKS = 1000


def _from_variable() -> dict[str, Any]:
    try:
        from airflow.sdk import Variable

        raw = Variable.get(VAR_SCHEDULER_BENCH, default=None)
    except Exception:  # noqa: BLE001 - no Variable API at parse time (bare DagBag): defaults
        return {}
    if not raw:
        return {}
    try:
        data = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def bench_size() -> tuple[int, int, str]:
    """(dags, tasks, shape) from env, else the Variable, else the defaults; clamped."""
    from_env = {
        key: os.environ[f"DAGSTORM_BENCH_{key.upper()}"]
        for key in DEFAULT_SIZE
        if os.environ.get(f"DAGSTORM_BENCH_{key.upper()}")
    }
    # The Variable costs an API round trip per parse: skip it when env says it all.
    from_variable = {} if from_env.keys() >= {"dags", "tasks"} else _from_variable()
    size = {**DEFAULT_SIZE, **from_variable, **from_env}
    try:
        dags = max(0, min(MAX_DAGS, int(size["dags"])))
        tasks = max(1, min(MAX_TASKS, int(size["tasks"])))
    except (TypeError, ValueError):
        dags, tasks = DEFAULT_SIZE["dags"], DEFAULT_SIZE["tasks"]
    shape = str(size["shape"]) if str(size["shape"]) in SHAPES else "linear"
    return dags, tasks, shape


def _wire(tasks: list[BashOperator], shape: str) -> None:
    if shape == "linear":
        for upstream, downstream in itertools.pairwise(tasks):
            upstream >> downstream
    elif shape == "binary_tree":
        for index, task in enumerate(tasks[1:], 1):
            tasks[(index - 1) // 2] >> task
    elif shape == "star" and len(tasks) > 2:
        tasks[0] >> tasks[1:-1] >> tasks[-1]


def build_dag(index: int, tasks: int, shape: str) -> DAG:
    """One bench DAG: ``scheduler_bench_NNN`` with ``tasks`` echo tasks."""
    with DAG(
        dag_id=f"scheduler_bench_{index:03d}",
        description=f"scheduler bench: {tasks} tasks, {shape}",
        schedule=None,
        start_date=datetime(2024, 1, 1, tzinfo=UTC),
        catchup=False,
        max_active_runs=16,
        default_args=default_args(
            priority_weight=PRIORITY_EXPERIMENTAL, execution_timeout=timedelta(minutes=5)
        ),
        tags=["scheduler-bench", shape],
    ) as dag:
        ops = [
            BashOperator(task_id=f"task_{n:04d}", bash_command="echo {{ run_id }} {{ ti.task_id }}")
            for n in range(tasks)
        ]
        _wire(ops, shape)
    return dag


N_DAGS, N_TASKS, SHAPE = bench_size()
for _index in range(N_DAGS):
    globals()[f"scheduler_bench_{_index:03d}"] = build_dag(_index, N_TASKS, SHAPE)
