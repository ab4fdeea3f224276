"""Ending the DAG runs a finished run left queued or running (a capacity search's leftovers).

A capacity step that breaks leaves a backlog: runs of the SLA's DAG it triggered
that are still queued or running when its drain ends. They were counted already
(a run unfinished past its deadline is a miss of that step), but left alone they
go on in the next step, holding the DAG's ``max_active_runs`` and pool slots, so
the next step would measure a smaller pipeline than its settings give.
:func:`end_runs` marks such runs failed through Airflow's REST API (``PATCH
dagRuns/{run_id}`` with ``state: failed``: Airflow stops their running tasks), only
those named — dagstorm's own runs, by the run ids it triggered them with — and only
while they are queued or running.
"""

from __future__ import annotations

from collections.abc import Iterable

from airflow_client.client import DagRunApi, DagRunMutableStates, DAGRunPatchBody
from airflow_client.client.exceptions import ApiException

from dagstorm.clients.airflow import api_client
from dagstorm.stack.endpoints import Stack

__all__ = ["ACTIVE", "end_runs"]

#: Run states that still hold one of the DAG's active-run slots.
ACTIVE = frozenset({"queued", "running"})
_TIMEOUT = 10.0


def end_runs(stack: Stack, dag_id: str, run_ids: Iterable[str]) -> list[str]:
    """Mark failed those of ``run_ids`` (runs of ``dag_id``) still active; the ids ended.

    A run that is gone or already finished is left as it is.
    """
    ended: list[str] = []
    with api_client(stack) as client:
        api = DagRunApi(client)
        for run_id in sorted(set(run_ids)):
            try:
                run = api.get_dag_run(dag_id, run_id, _request_timeout=_TIMEOUT)
            except ApiException as exc:
                if exc.status == 404:
                    continue
                raise
            if str(getattr(run.state, "value", run.state)) not in ACTIVE:
                continue
            api.patch_dag_run(
                dag_id,
                run_id,
                DAGRunPatchBody(state=DagRunMutableStates.FAILED),
                update_mask=["state"],
                _request_timeout=_TIMEOUT,
            )
            ended.append(run_id)
    return ended
