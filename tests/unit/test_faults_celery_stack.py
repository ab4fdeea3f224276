"""Celery faults: refused on a stack without Celery; ``mid_task`` waits for a running task."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest
from airflow_client.client import ApiException

from dagstorm.core.errors import FaultError
from dagstorm.faults import process
from dagstorm.faults.base import FaultContext
from dagstorm.faults.journal import FaultJournal
from dagstorm.faults.kinds import build_fault
from dagstorm.faults.specs import CeleryFault, FaultSpecBase, NetworkFault
from dagstorm.stack.embedded.processes import PidRecord
from dagstorm.stack.endpoints import Stack
from dagstorm.stack.topology import LINKS
from tests.unit.stacks import airflow_stack

#: A worker's pid record (no such process of ours: ``process_of`` finds none).
RECORD = PidRecord(component="airflow-celery-worker-1", pid=1, create_time=0.0, marker="m", argv=[])


def _stack(executor: str | None, links: tuple[str, ...]) -> Stack:
    return airflow_stack(
        kind="embedded", links=links, components=("airflow-scheduler",), executor=executor
    )


def _ctx(tmp_path: Path, executor: str | None) -> FaultContext:
    links = tuple(link.name for link in LINKS)
    return FaultContext(stack=_stack(executor, links), journal=FaultJournal(tmp_path / "j"))


@pytest.mark.parametrize(
    "spec",
    [
        CeleryFault(action="kill", worker=1),
        NetworkFault(link="celery-broker", effect="down"),
    ],
)
def test_refused_on_a_local_executor_stack(tmp_path: Path, spec: FaultSpecBase) -> None:
    fault = build_fault(spec, "f1", _ctx(tmp_path, "local"))
    with pytest.raises(FaultError) as caught:
        fault.check_targets()
    assert "needs a CeleryExecutor stack" in caught.value.what
    assert "`airflow.executor: local`" in caught.value.what
    assert "executor: celery" in (caught.value.fix or "")


def test_on_a_celery_stack_the_usual_checks_apply(tmp_path: Path) -> None:
    # The worker is not among this fake stack's fault targets: the ordinary refusal.
    fault = build_fault(CeleryFault(action="kill", worker=1), "f1", _ctx(tmp_path, "celery"))
    with pytest.raises(FaultError, match="not a declared fault target"):
        fault.check_targets()


def test_other_links_keep_their_own_message(tmp_path: Path) -> None:
    spec = NetworkFault(link="kafka", effect="down")
    stack = _stack("local", ("airflow-db",))
    fault = build_fault(spec, "f1", FaultContext(stack=stack, journal=FaultJournal(tmp_path / "j")))
    with pytest.raises(FaultError, match="is not declared by the stack"):
        fault.check_targets()


@pytest.fixture
def tree() -> Iterator[Callable[[str], subprocess.Popen[bytes]]]:
    """Start ``bash -c SCRIPT`` as a worker's main process."""
    started: list[subprocess.Popen[bytes]] = []

    def start(script: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(["bash", "-c", script], start_new_session=True)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _children_settle(pid: int, depth: int) -> None:
    """Wait (≤ 10 s) until ``pid`` has descendants ``depth`` levels down."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        level = [psutil.Process(pid)]
        for _ in range(depth):
            level = [c for p in level for c in p.children()]
        if level:
            return
        time.sleep(0.02)
    raise AssertionError(f"no descendants {depth} levels below {pid}")


def test_a_task_is_a_grandchild_of_the_worker(
    tree: Callable[[str], subprocess.Popen[bytes]],
) -> None:
    # An idle worker: its pool process has no child.
    idle = tree("sleep 30 & wait")
    _children_settle(idle.pid, 1)
    assert process.running_task_pids(psutil.Process(idle.pid)) == []
    # A busy one: the pool process runs a task process.
    busy = tree("bash -c 'sleep 30 & wait' & wait")
    _children_settle(busy.pid, 2)
    (task,) = process.running_task_pids(psutil.Process(busy.pid))
    assert psutil.Process(task).name() == "sleep"


class _Airflow:
    """The REST API's running task instances, one answer per call (the last repeats)."""

    def __init__(self, answers: list[list[SimpleNamespace] | Exception]) -> None:
        self.answers = answers
        self.calls = 0

    def get_task_instances(self, **query: object) -> SimpleNamespace:
        assert query["state"] == ["running"]
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        if isinstance(answer, Exception):
            raise answer
        return SimpleNamespace(task_instances=answer)


def _running(pid: int, task: str) -> SimpleNamespace:
    return SimpleNamespace(pid=pid, dag_id="d", dag_run_id="r", task_id=task, try_number=1)


@pytest.fixture
def airflow(
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[list[list[SimpleNamespace] | Exception]], _Airflow]:
    def answering(answers: list[list[SimpleNamespace] | Exception]) -> _Airflow:
        api = _Airflow(answers)
        monkeypatch.setattr(process, "api_client", lambda _stack: contextlib.nullcontext(None))
        monkeypatch.setattr(process, "TaskInstanceApi", lambda _client: api)
        return api

    return answering


def test_a_mid_task_kill_waits_for_a_try_airflow_runs_in_the_workers_task_process(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    airflow: Callable[[list[list[SimpleNamespace] | Exception]], _Airflow],
) -> None:
    # No task process, then one Airflow no longer calls running (it has reported its
    # end and is exiting), then the API not answering, then a try running in this
    # worker's task process.
    seen = iter([[], [4241], [4242], [4242]])
    monkeypatch.setattr(process, "running_task_pids", lambda _r: next(seen))
    api = airflow(
        [
            [_running(99, "elsewhere")],
            ApiException(status=503),
            [_running(4242, "fibo_07"), _running(5, "x")],
        ]
    )
    spec = CeleryFault(action="kill", worker=1, mid_task=True)
    fault = build_fault(spec, "f1", _ctx(tmp_path, "celery"))
    assert isinstance(fault, process.ProcessFault)
    applied = fault._wait_for_a_task(RECORD)
    assert applied["mid_task"] is True
    assert applied["task"] == {"pid": 4242, "try": "d/r/fibo_07#1"}
    assert api.calls == 3  # asked only while the worker had a task process
    assert fault._mid_task_text() == ", mid-task: d/r/fibo_07#1 running in its task process 4242"
    assert spec.describe() == "celery worker 1 kill mid-task"


def test_a_mid_task_kill_on_a_worker_that_stays_idle_acts_anyway_and_says_so(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    airflow: Callable[[list[list[SimpleNamespace] | Exception]], _Airflow],
) -> None:
    monkeypatch.setattr(process, "running_task_pids", lambda _r: [])
    monkeypatch.setattr(process, "MID_TASK_WAIT_S", 0.05)
    api = airflow([[]])
    fault = build_fault(
        CeleryFault(action="kill", worker=1, mid_task=True), "f1", _ctx(tmp_path, "celery")
    )
    assert isinstance(fault, process.ProcessFault)
    applied = fault._wait_for_a_task(RECORD)
    assert applied["mid_task"] is False and applied["task"] is None and api.calls == 0
    assert "no try ran on it within 0 s: it was idle" in fault._mid_task_text()
