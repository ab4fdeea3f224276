"""dagstorm's own check DAG on its embedded CeleryExecutor stack: where a task runs.

`dagstorm stack check` triggers it and reads what its one task returns: its pid
and the command lines of its ancestor processes, which name the Celery worker
(``airflow celery worker … --celery-hostname workerN@dagstorm``) or, on
LocalExecutor, the scheduler. ``conf: {"sleep_s": N}`` keeps the task running N
seconds (integration tests kill a worker under it). Deployed by `dagstorm stack up`
only on a CeleryExecutor stack; it touches nothing outside its own process.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta

from airflow.sdk import dag, get_current_context, task

#: How far up the process tree the task looks.
MAX_ANCESTORS = 12


def _ancestors() -> list[str]:
    chain: list[str] = []
    pid = os.getpid()
    for _ in range(MAX_ANCESTORS):
        try:
            with open(f"/proc/{pid}/stat") as stat_file:
                stat = stat_file.read()
            with open(f"/proc/{pid}/cmdline", "rb") as cmd_file:
                command = cmd_file.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            break
        chain.append(command.strip()[:300])
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent <= 1:
            break
        pid = parent
    return chain


@dag(
    dag_id="dagstorm_stack_check",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["dagstorm"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=2)},
)
def dagstorm_stack_check() -> None:
    """One task that says where it ran."""

    @task
    def where() -> dict[str, object]:
        conf = get_current_context()["dag_run"].conf or {}
        time.sleep(max(0.0, min(float(conf.get("sleep_s", 0)), 600.0)))
        return {"pid": os.getpid(), "ancestors": _ancestors()}

    where()


dagstorm_stack_check()
