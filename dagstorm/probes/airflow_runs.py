"""Dag runs and task instances (with every try) from Airflow's REST API.

Polled incrementally: each poll asks only for what changed since the previous
one, never a full scan. A change of state is one journal event.

Pages come by offset, and the set they page through moves while it is read (a
row updated during a poll enters it; a retried task instance gets a new id), so
one poll can skip a row at a page boundary. Each poll's window therefore reaches
back to the start of the poll before it (``updated_at_gte``, plus a small overlap
for clock skew): a row one poll skipped, the next one reads. Rows are ordered by
id, which an update does not move. And a try can end and be replaced by the next
within one poll interval: whenever a task instance is first seen on a later try,
and again when it reaches a final state, its earlier tries are fetched
(``get_task_instance_tries``), so every try's outcome is in the journal. Memory
stays bounded: the last-seen state of at most ``max_tracked`` keys.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow_client.client import ApiClient, DagRunApi, TaskInstanceApi

from dagstorm.clients.airflow import api_client
from dagstorm.probes.base import Probe
from dagstorm.run.events import DagRun, TaskTry
from dagstorm.stack.endpoints import Stack

FINAL_TI = {"success", "failed", "skipped", "upstream_failed", "removed"}
OVERLAP = timedelta(seconds=3)
PAGE = 100


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


class _Bounded(OrderedDict[Any, Any]):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def remember(self, key: Any, value: Any) -> bool:
        """Store; True if the value changed (or is new)."""
        changed: bool = self.get(key) != value
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)
        return changed


class AirflowRunsProbe(Probe):
    """``dag_run`` and ``task_try`` events for the DAGs of interest (all by default)."""

    name = "airflow"

    def __init__(
        self,
        *args: Any,
        stack: Stack,
        dag_ids: list[str] | None = None,
        max_tracked: int = 50_000,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.stack = stack
        self.dag_ids = dag_ids
        self._client: ApiClient | None = None
        self._token_at = 0.0
        self._since: datetime | None = None
        self._last_poll: datetime | None = None
        self._runs = _Bounded(max_tracked)
        self._tries = _Bounded(max_tracked)
        #: Task instances whose earlier tries were fetched, with the try they were on.
        self._fetched = _Bounded(max_tracked)

    def setup(self) -> None:
        """Start from the run's beginning (earlier changes are not this run's).

        From the clock's start, not from now: the probe starts seconds after the run
        did (the other probes are built first), and a try that started and ended in
        between happened during the run.
        """
        began = self.clock.wall() - self.clock.elapsed()
        self._since = datetime.fromtimestamp(began, UTC) - OVERLAP

    def _api(self) -> ApiClient:
        # Tokens live 24 h; renew hourly so a long soak never polls with a stale one.
        if self._client is None or self.clock.elapsed() - self._token_at > 3600:
            self._client = api_client(self.stack)
            self._token_at = self.clock.elapsed()
        return self._client

    def sample(self) -> None:
        """One incremental poll."""
        started = datetime.fromtimestamp(self.clock.wall(), UTC)
        since = self._since or started
        client = self._api()
        for dag_id in self.dag_ids or ["~"]:
            self._poll_runs(client, dag_id, since)
            self._poll_tasks(client, dag_id, since)
        # The next window starts where this poll's did (or the run's, on the first).
        self._since = (self._last_poll or started) - OVERLAP
        self._last_poll = started

    def _poll_runs(self, client: ApiClient, dag_id: str, since: datetime) -> None:
        api = DagRunApi(client)
        offset = 0
        while True:
            page = api.get_dag_runs(
                dag_id=dag_id,
                updated_at_gte=since,
                limit=PAGE,
                offset=offset,
                order_by=["id"],  # an update does not move a row (updated_at would)
            )
            for run in page.dag_runs:
                state = str(run.state.value if hasattr(run.state, "value") else run.state)
                key = (run.dag_id, run.dag_run_id)
                if self._runs.remember(key, (state, _iso(run.end_date))):
                    self.journal.emit(
                        DagRun(
                            dag_id=run.dag_id,
                            run_id=run.dag_run_id,
                            state=state,
                            run_type=str(getattr(run.run_type, "value", run.run_type)),
                            queued_at=_iso(run.queued_at),
                            start_date=_iso(run.start_date),
                            end_date=_iso(run.end_date),
                            logical_date=_iso(run.logical_date),
                            conf=run.conf or {},
                            dag_versions=_versions(run),
                        )
                    )
            offset += len(page.dag_runs)
            if len(page.dag_runs) < PAGE:
                return

    def _poll_tasks(self, client: ApiClient, dag_id: str, since: datetime) -> None:
        api = TaskInstanceApi(client)
        offset = 0
        while True:
            page = api.get_task_instances(
                dag_id=dag_id,
                dag_run_id="~",
                updated_at_gte=since,
                limit=PAGE,
                offset=offset,
                order_by=["id"],  # the API refuses ordering task instances by updated_at
            )
            for ti in page.task_instances:
                self._task(api, ti)
            offset += len(page.task_instances)
            if len(page.task_instances) < PAGE:
                return

    def _task(self, api: TaskInstanceApi, ti: Any) -> None:
        state = str(getattr(ti.state, "value", ti.state)) if ti.state is not None else "none"
        key = (ti.dag_id, ti.dag_run_id, ti.task_id, ti.map_index, ti.try_number)
        if not self._tries.remember(key, state):
            return
        if ti.try_number > 1:
            instance = (ti.dag_id, ti.dag_run_id, ti.task_id, ti.map_index)
            # Once when a try is first seen, once more when it is final: a predecessor's
            # outcome may have been replaced between two polls.
            mark = (ti.try_number, state in FINAL_TI)
            fetched = self._fetched.get(instance)
            if fetched is None or fetched < mark:
                self._earlier_tries(api, ti)
                self._fetched.remember(instance, mark)
        self._emit_try(ti, state)

    def _earlier_tries(self, api: TaskInstanceApi, ti: Any) -> None:
        tries = api.get_task_instance_tries(
            dag_id=ti.dag_id,
            dag_run_id=ti.dag_run_id,
            task_id=ti.task_id,
            map_index=ti.map_index,
        )
        for past in tries.task_instances:
            if past.try_number >= ti.try_number:
                continue
            state = str(getattr(past.state, "value", past.state))
            key = (ti.dag_id, ti.dag_run_id, ti.task_id, ti.map_index, past.try_number)
            if self._tries.remember(key, state):
                self._emit_try(past, state, dag_id=ti.dag_id, run_id=ti.dag_run_id)

    def _emit_try(self, ti: Any, state: str, **override: Any) -> None:
        self.journal.emit(
            TaskTry(
                dag_id=override.get("dag_id", ti.dag_id),
                run_id=override.get("run_id", ti.dag_run_id),
                task_id=ti.task_id,
                map_index=ti.map_index,
                try_number=ti.try_number,
                state=state,
                queued_when=_iso(ti.queued_when),
                start_date=_iso(ti.start_date),
                end_date=_iso(ti.end_date),
                duration=ti.duration,
                pool=getattr(ti, "pool", None),
                hostname=getattr(ti, "hostname", None),
            )
        )


def _versions(run: Any) -> list[int] | None:
    """The DAG versions a run ran on (None where the API does not say)."""
    versions = getattr(run, "dag_versions", None)
    if not versions:
        return None
    return sorted({int(v.version_number) for v in versions})
