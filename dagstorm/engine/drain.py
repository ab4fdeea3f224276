"""Waiting for the DAG runs a run started to finish before measuring."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from airflow_client.client import DagRunApi

from dagstorm.engine.clock import Clock
from dagstorm.engine.serving_snapshot import triggered_run_ids
from dagstorm.probes.airflow_auth import api_client
from dagstorm.stack.endpoints import Stack

POLL_SECONDS = 3.0


def unfinished(stack: Stack, run_ids: set[str]) -> int:
    """How many of ``run_ids`` are still queued or running."""
    if not run_ids:
        return 0
    with api_client(stack) as client:
        page = DagRunApi(client).get_dag_runs(dag_id="~", state=["queued", "running"], limit=1000)
    return sum(1 for run in page.dag_runs if run.dag_run_id in run_ids)


def wait_for_runs(
    stack: Stack,
    journal_path: Path,
    clock: Clock,
    timeout: float,
    stop: threading.Event,
    *,
    between: Callable[[], None] | None = None,
) -> int:
    """Poll until none of this run's DAG runs is in flight, or ``timeout``; returns how many are.

    ``between`` is called before each poll (the engine reads its control inbox there).
    """
    deadline = clock.elapsed() + timeout
    left = 0
    while True:
        if between is not None:
            between()
        try:
            left = unfinished(stack, set(triggered_run_ids(journal_path)))
        except Exception:  # noqa: BLE001 - an unreachable API ends the wait, not the run
            return -1
        if left == 0 or clock.elapsed() >= deadline:
            return left
        if clock.wait(stop, min(POLL_SECONDS, deadline - clock.elapsed())):
            return left
