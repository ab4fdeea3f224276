"""Faults on a stack component's process: SIGKILL, SIGSTOP, graceful stop.

Only components the stack declares, and only processes dagstorm owns (pid file
plus ownership check). Reverting a kill or a restart starts the component again
and waits for its real health signal; reverting a pause sends SIGCONT.
"""

from __future__ import annotations

import contextlib
import signal
import time
from typing import Any

import psutil
import urllib3
from airflow_client.client import ApiException, TaskInstanceApi

from dagstorm.clients.airflow import api_client
from dagstorm.core.errors import FaultError
from dagstorm.core.polling import poll_until
from dagstorm.faults.base import Fault, FaultContext
from dagstorm.faults.celery_stack import not_celery
from dagstorm.faults.specs import CeleryFault, FaultSpecBase
from dagstorm.stack.embedded.components.base import Component
from dagstorm.stack.embedded.launcher import EmbeddedStack
from dagstorm.stack.embedded.processes import PidRecord, group_members, process_of, stop

Action = str  # "kill" | "pause" | "restart"
#: Seconds a killed process has to disappear, a paused one to reach the stopped state.
VERIFY_TIMEOUT_S = 10.0
#: Seconds a ``mid_task`` Celery fault waits for its worker to run a task.
MID_TASK_WAIT_S = 120.0
#: How often it looks for a task process (a Windmill chain's tasks live ~0.2 s).
MID_TASK_POLL_S = 0.02


def running_task_pids(leader: psutil.Process | None) -> list[int]:
    """The task processes a Celery worker runs now: its main process's grandchildren.

    The worker's prefork pool processes are its children; each task an Airflow 3
    Celery worker executes runs in a process its pool process starts (the task
    supervisor's fork), so a grandchild exists exactly while a task runs.
    ``leader``: the worker's main process (None: not running, so no task).
    """
    if leader is None:
        return []
    pids: list[int] = []
    with contextlib.suppress(psutil.Error):
        for child in leader.children():
            with contextlib.suppress(psutil.Error):
                pids.extend(grandchild.pid for grandchild in child.children())
    return sorted(pids)


def _signal_group(record: PidRecord, sig: signal.Signals) -> list[int]:
    """Signal the leader and every member of its group that is ours; the pids hit."""
    leader = process_of(record)
    members = group_members(record.pid, record.marker)
    targets = {p.pid: p for p in members}
    if leader is not None:
        targets[leader.pid] = leader
    for proc in targets.values():
        with contextlib.suppress(psutil.Error):
            proc.send_signal(sig)
    return sorted(targets)


class ProcessFault(Fault):
    """Kill, pause or gracefully stop one component of the embedded stack."""

    def __init__(
        self,
        spec: FaultSpecBase,
        fault_id: str,
        ctx: FaultContext,
        *,
        component: str,
        action: Action,
    ) -> None:
        super().__init__(spec, fault_id, ctx)
        self.component_name = component
        self.action = action
        #: The try a ``mid_task`` fault found in flight when it acted (pid, try).
        self._mid_task: dict[str, Any] | None = None

    def _component(self) -> Component:
        embedded = self.ctx.require_embedded(f"a {self.action} of {self.component_name}")
        return EmbeddedStack(embedded).components[self.component_name]

    def check_targets(self) -> None:
        """The component is declared and dagstorm owns its running process."""
        if isinstance(self.spec, CeleryFault):
            refusal = not_celery(self.ctx.stack, f"a Celery worker fault ({self.spec.describe()})")
            if refusal is not None:
                raise refusal
        if self.component_name not in self.ctx.stack.components:
            raise FaultError(
                f"component `{self.component_name}` is not a declared fault target",
                where="stack config fault_targets",
                fix=f"declared: {', '.join(self.ctx.stack.components) or 'none'}",
            )
        if self._component().running() is None:
            raise FaultError(
                f"{self.component_name} is not running, so it cannot be {self.action}ed",
                fix="`dagstorm stack up` (or `dagstorm recover` after an interrupted run)",
            )

    def inject(self) -> dict[str, Any]:
        """Send the signal(s); a ``mid_task`` Celery fault first waits for a running task."""
        comp = self._component()
        record = comp.running()
        if record is None:
            raise FaultError(f"{self.component_name} is not running")
        applied: dict[str, Any] = {"component": self.component_name}
        if isinstance(self.spec, CeleryFault) and self.spec.mid_task:
            applied.update(self._wait_for_a_task(record))
        if self.action == "kill":
            pids = _signal_group(record, signal.SIGKILL)
            psutil.wait_procs([p for p in map(_proc, pids) if p], timeout=5)
            return {**applied, "killed": pids}
        if self.action == "pause":
            return {**applied, "paused": _signal_group(record, signal.SIGSTOP)}
        outcome = stop(record, graceful=comp.stop_signal, timeout=comp.stop_timeout)
        return {**applied, "stopped": record.pid, "outcome": outcome}

    def _wait_for_a_task(self, record: PidRecord) -> dict[str, Any]:
        """Wait (up to :data:`MID_TASK_WAIT_S`) until the worker runs a try; what was seen.

        A try is in flight on the worker when Airflow says it is ``running`` and its
        ``pid`` is one of the worker's task processes (:func:`running_task_pids`): the
        process tree alone cannot tell a task still working from one that has
        reported its end and is exiting. Airflow is asked only while the worker has a
        task process; an API that does not answer counts as no try found yet. Acts
        either way: a worker that ran no try in that time is still lost, and
        ``mid_task`` in the applied record (and the evidence) says so.
        """
        began = time.monotonic()
        leader = process_of(record)  # once: the polls below come every 20 ms
        with api_client(self.ctx.stack) as client:
            api = TaskInstanceApi(client)

            def in_flight() -> dict[str, Any] | None:
                pids = running_task_pids(leader)
                if not pids:
                    return None
                try:
                    running = api.get_task_instances(
                        dag_id="~", dag_run_id="~", state=["running"], limit=100
                    )
                except (ApiException, urllib3.exceptions.HTTPError):
                    return None  # the API unreachable for now (another fault?): look again

                for ti in running.task_instances:
                    if ti.pid in pids:
                        return {
                            "pid": ti.pid,
                            "try": f"{ti.dag_id}/{ti.dag_run_id}/{ti.task_id}#{ti.try_number}",
                        }
                return None

            hit = poll_until(in_flight, timeout=MID_TASK_WAIT_S, interval=MID_TASK_POLL_S)
        self._mid_task = hit
        return {
            "mid_task": hit is not None,
            "task": hit,
            "waited_s": round(time.monotonic() - began, 3),
        }

    def verify(self) -> str:
        """Dead (kill/restart) or stopped in state T (pause), within 10 s."""
        record = self._component().record()
        if record is None:
            raise FaultError(f"{self.component_name} has no pid file")
        if self.action == "pause":
            not_stopped = FaultError(f"{self.component_name} is not stopped")

            def stopped() -> bool | None:
                proc = process_of(record)
                if proc is None:
                    raise not_stopped
                return True if proc.status() == psutil.STATUS_STOPPED else None

            # SIGSTOP takes effect asynchronously: every thread must reach the stop.
            if poll_until(stopped, timeout=VERIFY_TIMEOUT_S, interval=0.05) is None:
                raise not_stopped
            return (
                f"{self.component_name} pid {record.pid} stopped (SIGSTOP){self._mid_task_text()}"
            )

        def gone() -> bool | None:
            return True if process_of(record) is None else None

        if poll_until(gone, timeout=VERIFY_TIMEOUT_S, interval=0.1) is None:
            raise FaultError(f"{self.component_name} pid {record.pid} is still alive")
        return f"{self.component_name} pid {record.pid} is gone{self._mid_task_text()}"

    def _mid_task_text(self) -> str:
        """What a ``mid_task`` fault found: the task processes it hit, or none."""
        if not (isinstance(self.spec, CeleryFault) and self.spec.mid_task):
            return ""
        if self._mid_task is None:
            return f"; no try ran on it within {MID_TASK_WAIT_S:.0f} s: it was idle"
        hit = self._mid_task
        return f", mid-task: {hit['try']} running in its task process {hit['pid']}"

    def revert(self) -> None:
        """Resume, or start again and wait until healthy (harmless if already so)."""
        comp = self._component()
        record = comp.record()
        if record is not None and process_of(record) is not None:
            _signal_group(record, signal.SIGCONT)
            return
        # No redeploy: a restarted process loses nothing the pipeline's deploy put in place.
        EmbeddedStack(self.ctx.require_embedded("restarting a component")).up(deploy=False)


def _proc(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def _has_stopped_process(record: PidRecord) -> bool:
    """Whether the leader or a member of its group is stopped (state T: SIGSTOPped)."""
    procs = group_members(record.pid, record.marker)
    leader = process_of(record)
    if leader is not None:
        procs.append(leader)
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            if proc.status() == psutil.STATUS_STOPPED:
                return True
    return False


def resume_all(embedded: EmbeddedStack) -> list[str]:
    """SIGCONT every component's process group; the components that had a stopped process.

    Used by `dagstorm recover`: whatever a crashed run paused runs again. SIGCONT
    is a no-op for a running process, so every group gets it; only the components
    that really were stopped are named (the report says what was resumed).
    """
    resumed: list[str] = []
    for name, comp in embedded.components.items():
        record = comp.record()
        if record is None:
            continue
        stopped = _has_stopped_process(record)
        if _signal_group(record, signal.SIGCONT) and stopped:
            resumed.append(name)
    return resumed
