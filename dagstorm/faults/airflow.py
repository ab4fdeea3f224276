"""Airflow faults: kill a running task's process (component faults are process faults).

The running task instance is found through the REST API (its ``pid``), and the
process is killed only if it belongs to the embedded scheduler's process group:
dagstorm never signals a process it does not own.
"""

from __future__ import annotations

import contextlib
import os
import signal
from typing import Any

import psutil
from airflow_client.client import TaskInstanceApi

from dagstorm.clients.airflow import api_client
from dagstorm.core.errors import FaultError
from dagstorm.faults.base import Fault
from dagstorm.faults.specs import AirflowFault
from dagstorm.stack.embedded.launcher import EmbeddedStack


class TaskKill(Fault):
    """SIGKILL the process of one running task instance."""

    spec: AirflowFault

    def _embedded(self) -> EmbeddedStack:
        return EmbeddedStack(self.ctx.require_embedded("killing a task's process"))

    def check_targets(self) -> None:
        """The scheduler is a declared target and runs."""
        if "airflow-scheduler" not in self.ctx.stack.components:
            raise FaultError("airflow-scheduler is not a declared fault target")
        if self._embedded().components["airflow-scheduler"].running() is None:
            raise FaultError("the Airflow scheduler is not running", fix="`dagstorm stack up`")

    def _running_tasks(self) -> list[Any]:
        with api_client(self.ctx.stack) as client:
            found = TaskInstanceApi(client).get_task_instances(
                dag_id=self.spec.dag_id or "~", dag_run_id="~", state=["running"], limit=100
            )
        return [ti for ti in found.task_instances if ti.pid]

    def inject(self) -> dict[str, Any]:
        """Kill the most recently started running task that is ours."""
        scheduler = self._embedded().components["airflow-scheduler"].running()
        if scheduler is None:
            raise FaultError("the Airflow scheduler is not running")
        for ti in sorted(self._running_tasks(), key=lambda t: t.start_date or 0, reverse=True):
            with contextlib.suppress(psutil.Error, ProcessLookupError):
                if os.getpgid(ti.pid) != scheduler.pid:
                    continue
                os.kill(ti.pid, signal.SIGKILL)
                return {
                    "dag_id": ti.dag_id,
                    "run_id": ti.dag_run_id,
                    "task_id": ti.task_id,
                    "try_number": ti.try_number,
                    "pid": ti.pid,
                }
        raise FaultError(
            "no running task instance of this stack was found"
            + (f" for DAG {self.spec.dag_id}" if self.spec.dag_id else ""),
            fix="inject kill_task while a DAG run has a task running",
        )

    def verify(self) -> str:
        """The task's process is gone."""
        if not self.applied:
            raise FaultError("the fault was not applied")
        pid = self.applied.get("pid")
        if pid is not None and psutil.pid_exists(pid):
            with contextlib.suppress(psutil.Error):
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    raise FaultError(f"task process {pid} is still alive")
        return f"task {self.applied.get('dag_id')}.{self.applied.get('task_id')} pid {pid} killed"

    def revert(self) -> None:
        """Nothing to undo: Airflow notices the dead task and retries it."""
