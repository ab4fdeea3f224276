"""windmill_chain_40: Windmill's Airflow benchmark, 40 chained Python tasks computing fibo(10).

Windmill published the split of this DAG's run time on Airflow 2.7.3 (assignment,
execution, transition); dagstorm measures the same split for any DAG
(docs/measures.md, ``task_split``) and ``bench/task_split.py`` puts it beside the
published figures. One run at a time (``max_active_runs=1``), as the benchmark
ran them, so triggered runs queue rather than compete. No schedule: the
``windmill-chain`` scenario triggers the runs.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from ad_pipeline.defaults import default_args
from ad_pipeline.settings import PRIORITY_EXPERIMENTAL
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

DAG_ID = "windmill_chain_40"
TASKS = 40
FIBO_N = 10


def fibo(n: int) -> int:
    """The naive recursive Fibonacci number, Windmill's unit of work."""
    return n if n <= 1 else fibo(n - 1) + fibo(n - 2)


with DAG(
    dag_id=DAG_ID,
    description=f"Windmill's benchmark: a chain of {TASKS} Python tasks, fibo({FIBO_N}) each",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(
        priority_weight=PRIORITY_EXPERIMENTAL, execution_timeout=timedelta(minutes=5)
    ),
    tags=["scheduler-bench", "windmill"],
) as windmill_chain_40:
    _tasks = [
        PythonOperator(task_id=f"fibo_{n:02d}", python_callable=fibo, op_args=[FIBO_N])
        for n in range(TASKS)
    ]
    for _upstream, _downstream in itertools.pairwise(_tasks):
        _upstream >> _downstream
