"""Waiting for the DAG runs a run started to finish before measuring."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import psycopg
from airflow_client.client import DagRunApi

from dagstorm.clients.airflow import api_client
from dagstorm.core.polling import poll_until
from dagstorm.engine.serving_snapshot import sent_signal_ids, triggered_run_ids
from dagstorm.run.clock import Clock
from dagstorm.stack.endpoints import Stack

POLL_SECONDS = 3.0


def unfinished(stack: Stack, run_ids: set[str]) -> int:
    """How many of ``run_ids`` are still queued or running."""
    if not run_ids:
        return 0
    with api_client(stack) as client:
        page = DagRunApi(client).get_dag_runs(dag_id="~", state=["queued", "running"], limit=1000)
    return sum(1 for run in page.dag_runs if run.dag_run_id in run_ids)


def served_by(stack: Stack, signal_ids: set[str]) -> dict[str, str]:
    """signal_id → run_id of the DAG run that loaded it (``ad_events_batches``)."""
    if not signal_ids:
        return {}
    with psycopg.connect(stack.endpoint("serving_db"), connect_timeout=10) as conn:
        rows = conn.execute(
            "SELECT signal_id, run_id FROM ad_events_batches WHERE signal_id = ANY(%s)",
            (sorted(signal_ids),),
        ).fetchall()
    return {str(signal): str(run) for signal, run in rows}


def wait_for_runs(
    stack: Stack,
    journal_path: Path,
    clock: Clock,
    timeout: float,
    stop: threading.Event,
    *,
    between: Callable[[], None] | None = None,
) -> int:
    """Poll until this run's DAG runs and completion signals are all done, or ``timeout``.

    Done: no DAG run it triggered is queued or running, and every completion signal
    it sent has its ``ad_events_batches`` row (and the run that loaded it finished).
    Returns how many are left. ``between`` is called before each poll (the engine
    reads its control inbox there).
    """
    left = 0

    def all_done() -> int | None:
        nonlocal left
        if between is not None:
            between()
        try:
            signals = set(sent_signal_ids(journal_path))
            served = served_by(stack, signals)
            # A served signal's run still checks and acknowledges it after the load.
            runs = set(triggered_run_ids(journal_path)) | set(served.values())
            left = unfinished(stack, runs) + len(signals) - len(served)
        except Exception:  # noqa: BLE001 - an unreachable API ends the wait, not the run
            return -1
        return 0 if left == 0 else None

    done = poll_until(
        all_done,
        timeout=timeout,
        interval=POLL_SECONDS,
        clock=clock.elapsed,
        wait=lambda seconds: clock.wait(stop, seconds),
    )
    return left if done is None else done
