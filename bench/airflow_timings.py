"""The Airflow rows of fault_timings.py: the REST-API faults, on the reference pipeline's objects.

Targets on the embedded stack with the reference pipeline (ad_logs) deployed: the pool
``spark_pool`` (squeezed to 0 slots), the Connection ``serving_db`` (its host broken),
and the DAG ``scheduler_bench_000`` (paused; one finished run of the bench's own
cleared; its file broken; a v2 of its file deployed — the same file with a changed
description, written to a temporary directory). Each row goes through FaultManager,
the path `dagstorm fault inject` takes: "take effect" is inject plus the fault's own
verify. The run the bench triggers for clear_runs is deleted at the end (after the
manager has reverted every fault), on an error and on Ctrl-C too.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

import urllib3
from airflow_client.client import ApiClient, DAGApi, DagRunApi, DagSourceApi
from airflow_client.client import TriggerDAGRunPostBody as TriggerBody
from airflow_client.client.exceptions import ApiException, NotFoundException

from dagstorm.clients.airflow import api_client
from dagstorm.core.errors import DagstormError, FaultError
from dagstorm.core.polling import poll_until
from dagstorm.faults.airflow_api.base import TIMEOUT, api_error
from dagstorm.faults.manager import ActiveFault
from dagstorm.faults.specs import AirflowFault
from dagstorm.faults.specs.base import FaultSpecBase
from dagstorm.stack.endpoints import Stack

#: Row order: the objects first, then the DAG file (break_dag, deploy_dag) last.
ACTIONS = ("squeeze_pool", "break_connection", "pause_dag", "clear_runs", "break_dag", "deploy_dag")
#: The reference pipeline's pool and Connection (pipelines/dags/ad_pipeline/settings.py),
#: and a DAG no workload runs unless asked (pipelines/dags/scheduler_bench.py).
POOL, CONNECTION, DAG = "spark_pool", "serving_db", "scheduler_bench_000"
#: What v2 changes in the DAG's file: its description (the serialized DAG changes).
V2_MARKER = 'description=f"scheduler bench: '
V2_TEXT = "v2 (dagstorm bench faults) "
#: Seconds to wait for the bench's run to finish (not timed), and between looks.
RUN_WAIT_S = 180.0
#: At most this long for them at the end after an error or Ctrl-C (deleted anyway).
EXIT_WAIT_S = 30.0
POLL_S = 2.0
FINISHED = ("success", "failed")
#: What each row's two figures span.
TIMED = {
    "squeeze_pool": "until the pool reads 0 slots / until its slots are PATCHed back",
    "break_connection": "until the API shows host 127.0.0.1:1 / until restored, backup deleted",
    "pause_dag": "until the API says paused / until the paused state is PATCHed back",
    "clear_runs": "until the cleared run is queued or running again / nothing to revert",
    "break_dag": "until the import error shows in the API / until the file imports again",
    "deploy_dag": "until the API serves v2's source / until v1 is written back and imports",
}


class Injector(Protocol):
    """What the rows need of a FaultManager."""

    def inject(self, spec: FaultSpecBase) -> ActiveFault: ...

    def revert(self, active: ActiveFault) -> None: ...


class Api(Protocol):
    """The few Airflow calls the targets need besides the faults' own."""

    def is_paused(self, dag_id: str) -> bool: ...

    def trigger(self, dag_id: str, run_id: str) -> None: ...

    def run_state(self, dag_id: str, run_id: str) -> str | None: ...

    def delete_run(self, dag_id: str, run_id: str) -> None: ...

    def source(self, dag_id: str) -> str: ...


class Manager(Injector, AbstractContextManager[Injector], Protocol):
    """A FaultManager: reverts what is active when its block ends."""


@dataclass(frozen=True)
class Row:
    """One row: its fault, what its figures span, what runs (untimed) before each inject."""

    spec: AirflowFault
    timed: str
    prepare: Callable[[], object] | None = None


def v2_source(source: str) -> str:
    """The DAG file's v2: the same DAGs, their description changed (FaultError if it cannot)."""
    if V2_MARKER not in source:
        raise FaultError(f"the DAG file of {DAG} has no `{V2_MARKER}` to change for v2")
    header = "# v2 written by `dagstorm bench faults --airflow`: the description changed\n"
    return header + source.replace(V2_MARKER, V2_MARKER + V2_TEXT, 1)


class Targets:
    """The bench's own objects on the stack: a finished run of DAG, and v2's file.

    Its block's end waits (bounded) for the bench's runs to finish, deletes them and
    removes the temporary directory: after the last row, on an error and on Ctrl-C.
    """

    def __init__(
        self,
        api: Api,
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[float], object] = time.sleep,
    ) -> None:
        self.api = api
        self.clock = clock
        self.wait = wait
        self.runs: list[str] = []
        self.folder = Path(tempfile.mkdtemp(prefix="dagstorm-bench-airflow-"))
        self.v2_file = self.folder / "scheduler_bench_v2.py"

    def _wait_finished(self, run_id: str, timeout: float = RUN_WAIT_S) -> str | None:
        return poll_until(
            lambda: state if (state := self.api.run_state(DAG, run_id)) in FINISHED else None,
            timeout=timeout,
            interval=POLL_S,
            clock=self.clock,
            wait=self.wait,
        )

    def finished_run(self) -> None:
        """A finished run of DAG, the bench's own (triggered once; a cleared one rerun)."""
        if not self.runs:
            if self.api.is_paused(DAG):
                raise FaultError(f"DAG {DAG} is paused: its run would never finish")
            run_id = f"dagstorm_bench_faults__{os.getpid()}"
            self.api.trigger(DAG, run_id)
            self.runs.append(run_id)
        if self._wait_finished(self.runs[-1]) is None:
            raise FaultError(f"run {self.runs[-1]} of {DAG} not finished in {RUN_WAIT_S:.0f} s")

    def settled(self) -> None:
        """The bench's runs finished (a DAG file is not replaced under a running task)."""
        for run_id in self.runs:
            self._wait_finished(run_id)

    def write_v2(self) -> None:
        """v2 of the DAG's file, from the source Airflow serves now (the bench's runs done)."""
        self.settled()
        self.v2_file.write_text(v2_source(self.api.source(DAG)))

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            for run_id in self.runs:
                self._wait_finished(run_id, timeout=RUN_WAIT_S if exc is None else EXIT_WAIT_S)
                self.api.delete_run(DAG, run_id)
        except DagstormError as error:  # said, never hiding the error that ended the block
            print(f"run(s) {', '.join(self.runs)} of {DAG} left: {error.what}", file=sys.stderr)
            if exc is None:
                raise
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def airflow_rows(targets: Targets, actions: Sequence[str] = ACTIONS) -> list[Row]:
    """One row per action, in ACTIONS' order, on the targets above."""
    if unknown := sorted(set(actions) - set(ACTIONS)):
        raise ValueError(f"unknown Airflow action(s) {', '.join(unknown)}")
    made: dict[str, tuple[AirflowFault, Callable[[], object] | None]] = {
        "squeeze_pool": (AirflowFault(action="squeeze_pool", pool=POOL, slots=0), None),
        "break_connection": (
            AirflowFault(action="break_connection", connection_id=CONNECTION),
            None,
        ),
        "pause_dag": (AirflowFault(action="pause_dag", dag_id=DAG), None),
        "clear_runs": (AirflowFault(action="clear_runs", dag_id=DAG, runs=1), targets.finished_run),
        "break_dag": (AirflowFault(action="break_dag", dag_id=DAG), targets.settled),
        "deploy_dag": (
            AirflowFault(action="deploy_dag", dag_id=DAG, dag_file=str(targets.v2_file)),
            targets.write_v2,
        ),
    }
    return [Row(made[a][0], TIMED[a], made[a][1]) for a in ACTIONS if a in actions]


def time_airflow_rows(manager: Injector, rows: Sequence[Row], repeat: int) -> None:
    """Each row ``repeat`` times: medians, and what they span; ``failed: …`` and on, else."""
    width = max([len("fault"), *(len(row.spec.describe()) for row in rows)])
    print(f"{'fault':{width}} {'take effect s':>14} {'revert s':>10}  timed", flush=True)
    for row in rows:
        effect: list[float] = []
        revert: list[float] = []
        try:
            for _ in range(repeat):
                if row.prepare is not None:
                    row.prepare()  # not timed
                started = time.monotonic()
                active = manager.inject(row.spec)
                effect.append(time.monotonic() - started)
                started = time.monotonic()
                manager.revert(active)
                revert.append(time.monotonic() - started)
        except (DagstormError, OSError) as exc:  # the manager reverted it (or will, at its end)
            said = exc.what if isinstance(exc, DagstormError) else str(exc)
            print(f"{row.spec.describe():{width}} failed: {said}", flush=True)
            continue
        print(
            f"{row.spec.describe():{width}} {statistics.median(effect):>14.2f} "
            f"{statistics.median(revert):>10.2f}  {row.timed}",
            flush=True,
        )


class RestApi:
    """:class:`Api` through Airflow's REST API, one client for the bench."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self._client: ApiClient | None = None

    @contextmanager
    def _api(self, what: str) -> Iterator[ApiClient]:
        try:
            if self._client is None:
                self._client = api_client(self.stack)
            yield self._client
        except ApiException as exc:
            raise api_error(what, exc) from None
        except urllib3.exceptions.HTTPError as exc:
            raise FaultError(f"{what}: Airflow did not answer ({type(exc).__name__})") from None

    def is_paused(self, dag_id: str) -> bool:
        """Whether the DAG is paused."""
        with self._api(f"reading DAG {dag_id}") as client:
            return bool(DAGApi(client).get_dag(dag_id, _request_timeout=TIMEOUT).is_paused)

    def trigger(self, dag_id: str, run_id: str) -> None:
        """A manual run of the DAG, now."""
        body = TriggerBody(dag_run_id=run_id, logical_date=None, conf={})
        with self._api(f"triggering {dag_id}") as client:
            DagRunApi(client).trigger_dag_run(dag_id, body, _request_timeout=TIMEOUT)

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        """The run's state; None when it is gone."""
        with self._api(f"reading run {run_id}") as client:
            try:
                run = DagRunApi(client).get_dag_run(dag_id, run_id, _request_timeout=TIMEOUT)
            except NotFoundException:
                return None
        return str(getattr(run.state, "value", run.state))

    def delete_run(self, dag_id: str, run_id: str) -> None:
        """Delete the run (harmless when it is gone)."""
        with self._api(f"deleting run {run_id}") as client, suppress(NotFoundException):
            DagRunApi(client).delete_dag_run(dag_id, run_id, _request_timeout=TIMEOUT)

    def source(self, dag_id: str) -> str:
        """The source of the DAG's file, as Airflow serves it."""
        with self._api(f"reading the source of {dag_id}") as client:
            found = DagSourceApi(client).get_dag_source(dag_id, _request_timeout=TIMEOUT)
        return str(found.content or "")


def airflow_main(
    make_manager: Callable[[], Manager], api: Api, actions: Sequence[str], repeat: int
) -> None:
    """The Airflow rows; every fault reverted, then the bench's runs deleted, whatever happens."""
    with Targets(api) as targets, make_manager() as manager:
        time_airflow_rows(manager, airflow_rows(targets, actions), repeat)
