"""python_oom on the real stack: the Python workers of the pipeline's own Spark job.

ad_events_stream's aggregation checks each Kafka message against the ad event
contract in Python workers (``rdd.map(...).mapPartitions(check_values)``); its
application is named ``ad_events_stream-<signal_id>``, so the fault's ``app`` names
this test's signal and no other. Needs the stack's Python-worker daemon: a stack
started by this version of dagstorm (`dagstorm stack down && dagstorm stack up`;
docs/faults.md, "Python-worker OOM").
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from dagstorm.clients.kafka import KafkaProducer
from dagstorm.faults.base import FaultContext
from dagstorm.faults.journal import FaultJournal
from dagstorm.faults.jvm import targets
from dagstorm.faults.jvm.python_oom import SIGNATURE, PythonWorkerOom, python_crashes
from dagstorm.faults.manager import FaultManager
from dagstorm.faults.specs import JvmFault
from dagstorm.stack.deploy import deploy_pipeline
from dagstorm.stack.embedded import pyworker
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import Stack
from tests.integration.helpers import dagstorm_command, inject_then_sigkill, tool, wait_for

pytestmark = pytest.mark.integration

DAG = "ad_events_stream"
TASK = "aggregate_events"
EVENTS, CONTROL = "ad_events", "ad_events_control"
#: A signal waits for the running sensor, then Spark; retries back off up to 60 s.
RUN_TIMEOUT = 900.0
_EVIDENCE = re.compile(r"^task (\d+) \(stage (\d+), executor (\S+)\) of (app-\S+) failed: (.*)$")


@pytest.fixture(scope="module")
def runs(stack: Stack, stack_context: StackContext) -> Iterator[Any]:
    deploy_pipeline(stack_context)  # idempotent; `stack up` did it already
    client = tool("airflow_runs").AirflowRuns(stack)
    yield client
    client.close()


@pytest.fixture(scope="module")
def producer(stack: Stack) -> Iterator[Any]:
    kafka = KafkaProducer(bootstrap_servers=stack.kafka_bootstrap, acks="all", linger_ms=5)
    yield kafka
    kafka.close(timeout=10)


@pytest.fixture
def journal(stack_context: StackContext) -> FaultJournal:
    return FaultJournal(stack_context.layout.root / "faults" / "journal.jsonl")


def _waiting_run(runs: Any) -> str:
    """The running run whose sensor waits for the next signal (clearing a stale sensor)."""

    def deferred() -> str | None:
        for run in runs.latest_runs(DAG, limit=5):
            if run["state"] == "running":
                sensor = runs.task_instances(DAG, run["dag_run_id"]).get("wait_for_signal")
                if sensor is not None and sensor["state"] == "deferred":
                    return str(run["dag_run_id"])
        return None

    found = deferred()
    if found is None:
        # A sensor whose consumer lost the broker (earlier tests) never fires: a new one.
        for run in runs.latest_runs(DAG, limit=5):
            if run["state"] == "running":
                runs.clear(DAG, run["dag_run_id"], ["wait_for_signal"])
        found = wait_for("ad_events_stream's sensor deferred", deferred, 180)
    return str(found)


def _signal(producer: Any, tag: str) -> str:
    """A batch with a known answer and its completion signal; the signal id."""
    hour = datetime(2024, 6, 1, tzinfo=UTC) + timedelta(hours=int(tag[-4:], 16) % 8000)
    sample = tool("sample_data").make_sample(hour, tag=tag)
    lines = [json.dumps(e) for e in sample.events + sample.duplicates] + sample.bad_lines
    futures = [producer.send(EVENTS, line.encode()) for line in lines]
    producer.flush(timeout=30)
    ranges: dict[str, list[int]] = {}
    for meta in (f.get(timeout=30) for f in futures):
        span = ranges.setdefault(str(meta.partition), [meta.offset, meta.offset + 1])
        span[0], span[1] = min(span[0], meta.offset), max(span[1], meta.offset + 1)
    signal_id = f"sig-{tag}"
    message = {"signal_id": signal_id, "topic": EVENTS, "ranges": ranges}
    producer.send(CONTROL, json.dumps(message).encode()).get(timeout=30)
    producer.flush(timeout=30)
    return signal_id


def _tries_since(runs: Any, run_id: str, since: datetime) -> list[dict[str, Any]]:
    """The aggregation's tries that started at or after ``since``, in order.

    The run is the continuous DAG's, reused from test to test: clearing a stale sensor
    (``_waiting_run``) records every cleared task in the try history, so the history can
    start with a try of an earlier signal (one the branch skipped).
    """
    return [
        t
        for t in runs.tries(DAG, run_id, TASK)
        if t["start_date"] and datetime.fromisoformat(t["start_date"]) >= since
    ]


def _aggregating(runs: Any, run_id: str) -> bool:
    task = runs.task_instances(DAG, run_id).get(TASK)
    return task is not None and task["state"] == "running"


def _history_failed_task(stack: Stack, app_id: str, task_id: int) -> dict[str, Any]:
    assert stack.spark_history_url is not None
    url = f"{stack.spark_history_url}/api/v1/applications/{app_id}/stages"

    def found() -> dict[str, Any] | None:
        response = httpx.get(url, params={"details": "true", "taskStatus": "FAILED"}, timeout=60)
        if response.status_code != 200:
            return None
        return next((t for t in python_crashes(response.json()) if t["taskId"] == task_id), None)

    task: dict[str, Any] = wait_for(f"task {task_id} of {app_id} in history", found, 180)
    return task


def _history_executors(stack: Stack, app_id: str) -> list[dict[str, Any]]:
    assert stack.spark_history_url is not None
    url = f"{stack.spark_history_url}/api/v1/applications/{app_id}/allexecutors"
    executors: list[dict[str, Any]] = httpx.get(url, timeout=30).json()
    return executors


def _markers(ctx: StackContext, fault_id: str) -> list[Path]:
    return sorted(pyworker.markers_dir(ctx.layout).glob(f"*@{fault_id}"))


def test_the_pipelines_own_python_workers_die_and_airflow_retries(
    stack: Stack,
    stack_context: StackContext,
    runs: Any,
    producer: Any,
    journal: FaultJournal,
) -> None:
    run_id = _waiting_run(runs)
    since = datetime.now(UTC)
    signal_id = _signal(producer, f"pyoom{uuid.uuid4().hex[:8]}")
    wait_for("the aggregation running", lambda: _aggregating(runs, run_id), RUN_TIMEOUT)
    spec = JvmFault(action="python_oom", app=f"{DAG}-{signal_id}")
    ctx = FaultContext(stack=stack, journal=journal, embedded=stack_context)
    with FaultManager(ctx) as manager:
        active = manager.inject(spec)  # waits for the application, then for a crashed task
        fault = active.fault
        assert isinstance(fault, PythonWorkerOom)
        assert _markers(stack_context, fault.fault_id)
        # Held until Airflow has failed the task's first try and started another.
        wait_for(
            "a second try of the aggregation",
            lambda: len(_tries_since(runs, run_id, since)) >= 2,
            RUN_TIMEOUT,
        )
        manager.revert(active)
    assert _markers(stack_context, fault.fault_id) == []
    run = runs.wait(DAG, run_id, RUN_TIMEOUT)
    tries = _tries_since(runs, run_id, since)
    assert tries[0]["state"] == "failed", tries[0]
    # Reverted once the second try started: that try (if its application got a marker
    # first) or the next succeeds, within the DAG's 3 retries.
    assert run["state"] == "success", tries
    assert tries[-1]["state"] == "success" and 2 <= len(tries) <= 4
    # The journal's evidence is what Spark's REST API says about that task.
    verified = [
        e for e in journal.entries() if e["id"] == fault.fault_id and e["event"] == "verified"
    ]
    match = _EVIDENCE.search(verified[0]["detail"]["evidence"])
    assert match is not None, verified
    task_id, stage_id, executor_id, app_id, message = match.groups()
    assert app_id in fault.applied["apps"]
    assert fault.applied["apps"][app_id] == f"{DAG}-{signal_id}"
    task = _history_failed_task(stack, app_id, int(task_id))
    assert (str(task["stageId"]), task["executorId"]) == (stage_id, executor_id)
    assert task["errorMessage"].startswith(message.split("; worker pid")[0])
    assert f"{SIGNATURE} (crashed)" in task["errorMessage"]
    # The Python worker died, not its executor: no executor of the application lost to a
    # heap OOM (exit 52), which is what `memory_stress` would have done.
    assert targets.oom_exits(_history_executors(stack, app_id)) == []
    # Each dead worker filled the declared memory first (its own record, with the pid).
    assert "filled" in message and "of 1024 MiB" in message


def test_recover_after_a_sigkill_leaves_no_marker(
    stack: Stack,
    stack_context: StackContext,
    runs: Any,
    producer: Any,
    journal: FaultJournal,
) -> None:
    run_id = _waiting_run(runs)
    signal_id = _signal(producer, f"pyrec{uuid.uuid4().hex[:8]}")
    wait_for("the aggregation running", lambda: _aggregating(runs, run_id), RUN_TIMEOUT)
    spec = ["jvm", "action=python_oom", f"app={DAG}-{signal_id}"]
    applied = inject_then_sigkill(stack_context, journal, spec)
    fault_id = applied["id"]
    assert _markers(stack_context, fault_id)  # still there: orphaned
    recovered = subprocess.run(
        dagstorm_command(stack_context, "recover"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert _markers(stack_context, fault_id) == []
    assert list((pyworker.markers_dir(stack_context.layout) / "hits").glob(f"*@{fault_id}")) == []
    # With the markers gone the next try's workers run normally: the run succeeds.
    assert runs.wait(DAG, run_id, RUN_TIMEOUT)["state"] == "success"
