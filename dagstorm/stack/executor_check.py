"""Where a task really runs: dagstorm's check DAG, triggered and read back.

`stack up` deploys ``dagstorm_stack_check`` on an embedded CeleryExecutor stack
(stack/airflow/dags/). Its one task returns its pid and its ancestors' command
lines; :func:`run_check_task` triggers it through the REST API, waits for the
run to end and says which process ran the task: a Celery worker (by its node
name, ``workerN@dagstorm``) or the scheduler (LocalExecutor).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from dagstorm.clients.airflow import fetch_token
from dagstorm.core.polling import poll_until
from dagstorm.stack.endpoints import Stack

CHECK_DAG = "dagstorm_stack_check"
CHECK_TASK = "where"
#: A Celery worker's command line, or its process title (``[celeryd: node:ForkPoolWorker-1]``).
_WORKER = re.compile(r"celery worker .*--celery-hostname (\S+)|\[celeryd: ([^:\]\s]+)[:\]]")
FINAL = {"success", "failed"}


@dataclass(frozen=True)
class CheckTask:
    """One run of the check DAG: how it ended and what ran its task."""

    run_id: str
    state: str
    #: ``celery``, ``local`` or ``unknown``.
    ran_on: str
    #: The Celery node name (``worker1@dagstorm``) when a worker ran it.
    worker: str | None
    tries: int
    seconds: float


class CheckDagClient:
    """Trigger the check DAG and follow its run (REST API, one token)."""

    def __init__(self, stack: Stack, *, timeout: float = 10.0) -> None:
        self.base = stack.endpoint("airflow")
        self._login = stack.airflow_login()
        self._http = httpx.Client(timeout=timeout)
        self._token = fetch_token(*self._login)

    def __enter__(self) -> CheckDagClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token}"}
        response = self._http.request(method, f"{self.base}{path}", headers=headers, **kwargs)
        if response.status_code == 401:
            self._token = fetch_token(*self._login)
            headers = {"Authorization": f"Bearer {self._token}"}
            response = self._http.request(method, f"{self.base}{path}", headers=headers, **kwargs)
        return response

    def trigger(self, *, sleep_s: float = 0.0) -> str:
        """Start a run (its task sleeps ``sleep_s``); its run id."""
        run_id = f"dagstorm_check__{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}"
        body = {"dag_run_id": run_id, "logical_date": None, "conf": {"sleep_s": sleep_s}}
        response = self._call("POST", f"/api/v2/dags/{CHECK_DAG}/dagRuns", json=body)
        if response.status_code not in (200, 201):
            raise AssertionError(
                f"triggering {CHECK_DAG} answered HTTP {response.status_code}:"
                f" {response.text[:200]}"
            )
        return run_id

    def task(self, run_id: str) -> dict[str, Any]:
        """The check task's instance (state, try_number, pid, hostname…)."""
        path = f"/api/v2/dags/{CHECK_DAG}/dagRuns/{run_id}/taskInstances/{CHECK_TASK}"
        response = self._call("GET", path)
        if response.status_code != 200:
            return {}
        body: dict[str, Any] = response.json()
        return body

    def run_state(self, run_id: str) -> str:
        """The run's state (``queued``, ``running``, ``success``, ``failed``)."""
        response = self._call("GET", f"/api/v2/dags/{CHECK_DAG}/dagRuns/{run_id}")
        return str(response.json().get("state")) if response.status_code == 200 else "unknown"

    def returned(self, run_id: str) -> dict[str, Any]:
        """What the task returned (its XCom ``return_value``), or {}."""
        path = (
            f"/api/v2/dags/{CHECK_DAG}/dagRuns/{run_id}/taskInstances/{CHECK_TASK}"
            "/xcomEntries/return_value"
        )
        response = self._call("GET", path, params={"deserialize": "true"})
        if response.status_code != 200:
            return {}
        value = response.json().get("value")
        return value if isinstance(value, dict) else {}

    def wait(self, run_id: str, *, timeout: float = 120.0, interval: float = 1.0) -> str:
        """Poll until the run ends (or ``timeout``); its last state."""
        states: list[str] = []

        def ended() -> str | None:
            states.append(self.run_state(run_id))
            return states[-1] if states[-1] in FINAL else None

        return poll_until(ended, timeout=timeout, interval=interval) or states[-1]


def ran_on(ancestors: list[str]) -> tuple[str, str | None]:
    """What ran a task, from its ancestors' command lines.

    ``(celery, node)`` when a Celery worker is an ancestor, ``(local, None)`` under
    the scheduler, else ``(unknown, None)``.
    """
    for command in ancestors:
        match = _WORKER.search(command)
        if match:
            return "celery", match.group(1) or match.group(2)
    if any("airflow scheduler" in command for command in ancestors):
        return "local", None
    return "unknown", None


def run_check_task(stack: Stack, *, timeout: float = 120.0) -> CheckTask:
    """Trigger the check DAG, wait for its run, and say what ran its task."""
    started = time.monotonic()
    with CheckDagClient(stack) as client:
        run_id = client.trigger()
        state = client.wait(run_id, timeout=timeout)
        ti = client.task(run_id)
        where, worker = ran_on(list(client.returned(run_id).get("ancestors", [])))
    return CheckTask(
        run_id=run_id,
        state=state,
        ran_on=where,
        worker=worker,
        tries=int(ti.get("try_number") or 0),
        seconds=time.monotonic() - started,
    )
