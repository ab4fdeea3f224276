"""CeleryExecutor on the real stack: Redis, two Celery workers on hosts of their own.

The session's stack is switched to ``executor: celery`` with ``worker_hosts`` (same
state directory: Airflow restarts with CeleryExecutor, Redis starts, each worker runs
in a network namespace of its own, reaching the stack through its own proxies) and
back to LocalExecutor at the end, which removes the namespaces. Checked against
Airflow's own REST API and the processes themselves: `stack check` sees a task run on
a Celery worker; a worker SIGKILLed while it runs a task loses that try, Airflow fails
it once its heartbeat times out, the next try runs and the run succeeds, and the
worker is back after the fault's revert.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

from dagstorm.core.progress import Progress
from dagstorm.stack.config import load_stack_config
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.hosts.namespaces import can_make_namespaces, namespace_pids, namespaces
from dagstorm.stack.embedded.hosts.plan import namespace_prefix, plan_host
from dagstorm.stack.embedded.hosts.registry import read_registry
from dagstorm.stack.embedded.launcher import EmbeddedStack
from dagstorm.stack.endpoints import resolve_stack
from dagstorm.stack.executor_check import CHECK_DAG, CHECK_TASK, CheckDagClient

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WORKERS = 2
HEARTBEAT_TIMEOUT_S = 40


@pytest.fixture(scope="module")
def celery(
    stack_context: StackContext, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[StackContext, Path]]:
    """The session's stack with CeleryExecutor; LocalExecutor again afterwards."""
    data: dict[str, Any] = stack_context.config.model_dump(mode="json", exclude_none=True)
    data.pop("kind", None)
    data["airflow"] = {
        **data.get("airflow", {}),
        "executor": "celery",
        "task_heartbeat_timeout_s": HEARTBEAT_TIMEOUT_S,
    }
    data["celery"] = {"workers": WORKERS, "concurrency": 2, "worker_hosts": True}
    stack_file = tmp_path_factory.mktemp("celery") / "dagstorm.stack.yaml"
    stack_file.write_text(yaml.safe_dump(data))
    ctx = StackContext(config=load_stack_config(stack_file, env={}), progress=Progress())
    assert can_make_namespaces(ctx.layout.root) is None  # CI runs as root, with `ip`
    try:
        EmbeddedStack(ctx).up()
        yield ctx, stack_file
    finally:
        EmbeddedStack(stack_context).up()  # back to LocalExecutor: Redis and workers stop
    assert read_registry(stack_context.layout.root) == []
    prefix = namespace_prefix(stack_context.layout.root)
    assert not [n for n in namespaces() if n.startswith(prefix)], namespaces()


def _dagstorm(ctx: StackContext, stack_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "dagstorm", "--stack-file", str(stack_file), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)


def test_stack_check_runs_a_task_on_a_celery_worker(celery: tuple[StackContext, Path]) -> None:
    ctx, stack_file = celery
    stack = EmbeddedStack(ctx)
    assert stack.components["redis"].running() is not None
    workers = [f"airflow-celery-worker-{i}" for i in range(1, WORKERS + 1)]
    assert all(stack.components[w].health().ok for w in workers)
    for index, name in enumerate(workers, start=1):  # each in a namespace of its own
        record = stack.components[name].running()
        assert record is not None
        assert record.pid in namespace_pids(plan_host(ctx.layout.root, index))
    done = _dagstorm(ctx, stack_file, "stack", "check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "a task ran on Celery worker worker" in done.stdout, done.stdout


def _poll(what: str, check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout:g} s")


def _worker_running(ctx: StackContext, pid: int) -> int:
    """The number of the Celery worker whose process tree holds ``pid``."""
    stack = EmbeddedStack(ctx)
    records = {
        i: stack.components[f"airflow-celery-worker-{i}"].running() for i in range(1, WORKERS + 1)
    }
    by_pid = {record.pid: i for i, record in records.items() if record is not None}
    for parent in psutil.Process(pid).parents():
        if parent.pid in by_pid:
            return by_pid[parent.pid]
    raise AssertionError(f"task pid {pid} runs under no Celery worker of ours")


def test_a_worker_killed_mid_task_loses_the_try_and_the_run_still_succeeds(
    celery: tuple[StackContext, Path],
) -> None:
    ctx, stack_file = celery
    stack = resolve_stack(ctx.config)
    with CheckDagClient(stack) as client:
        run_id = client.trigger(sleep_s=45)
        first = _poll(
            "the check task running with a pid",
            lambda: (t := client.task(run_id)).get("state") == "running" and t.get("pid") and t,
            timeout=120,
        )
        victim = _worker_running(ctx, int(first["pid"]))
        killed_at = time.time()
        fault = _dagstorm(
            ctx, stack_file, "fault", "inject", "celery", "action=kill", f"worker={victim}",
            "--duration", "5s",
        )  # fmt: skip
        assert fault.returncode == 0, fault.stdout + fault.stderr
        assert EmbeddedStack(ctx).components[f"airflow-celery-worker-{victim}"].health().ok
        state = client.wait(run_id, timeout=HEARTBEAT_TIMEOUT_S + 240)
        tries = client._call(
            "GET", f"/api/v2/dags/{CHECK_DAG}/dagRuns/{run_id}/taskInstances/{CHECK_TASK}/tries"
        ).json()["task_instances"]
    assert state == "success", tries
    by_try = {t["try_number"]: t for t in tries}
    assert by_try[1]["state"] == "failed" and by_try[max(by_try)]["state"] == "success"
    failed_at = datetime.fromisoformat(by_try[1]["end_date"]).timestamp()
    next_start = datetime.fromisoformat(by_try[2]["start_date"]).timestamp()
    noticed, resumed = failed_at - killed_at, next_start - killed_at
    print(
        f"worker {victim} killed mid-task: failed by Airflow after {noticed:.1f} s,"
        f" next try started after {resumed:.1f} s (heartbeat timeout {HEARTBEAT_TIMEOUT_S} s)"
    )
    assert 0 < noticed < HEARTBEAT_TIMEOUT_S + 120
    assert noticed <= resumed
