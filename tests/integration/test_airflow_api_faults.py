"""Airflow-native faults on the real Airflow 3: each action injected, seen through the API
by the test itself, reverted exactly; and a SIGKILLed dagstorm's fault undone by `recover`.

The test brings its own targets (a pool, a Connection with a password, a DAG file),
so nothing depends on the reference pipeline; it removes them at the end.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow_client.client import (
    ConnectionApi,
    ConnectionBody,
    DAGApi,
    DagSourceApi,
    ImportErrorApi,
    PoolApi,
    PoolBody,
    TaskApi,
    VariableApi,
)
from airflow_client.client.exceptions import NotFoundException

from dagstorm.clients.airflow import api_client
from dagstorm.faults.airflow_api.backup import BACKUP_PREFIX
from dagstorm.faults.base import FaultContext
from dagstorm.faults.journal import FaultJournal
from dagstorm.faults.manager import FaultManager
from dagstorm.faults.specs import AirflowFault
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import Stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]

POOL, CONN, DAG = "dagstorm_it_pool", "dagstorm_it_conn", "dagstorm_it_fault_dag"
SECRET = "it-secret-never-logged"
DAG_V1 = f'''"""A DAG the Airflow-fault integration test deploys, breaks and restores."""
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG("{DAG}", schedule=None, catchup=False, tags=["dagstorm-it"]):
    EmptyOperator(task_id="one")
'''
DAG_V2 = DAG_V1.replace('task_id="one")', 'task_id="one") >> EmptyOperator(task_id="two")')


def _wait(check: Any, what: str, timeout: float = 180.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(2)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


def _dag_or_none(stack: Stack) -> Any:
    with api_client(stack) as client:
        try:
            return DAGApi(client).get_dag(DAG)
        except NotFoundException:
            return None


def _snapshot(stack: Stack, dag_file: Path) -> dict[str, Any]:
    """What the faults may touch, read straight from the API and the disk."""
    with api_client(stack) as client:
        conn = ConnectionApi(client).get_connection(CONN)
        return {
            "slots": PoolApi(client).get_pool(POOL).slots,
            "paused": DAGApi(client).get_dag(DAG).is_paused,
            "conn": (conn.conn_type, conn.host, conn.port, conn.login, conn.var_schema),
            "file": dag_file.read_bytes(),
            "backups": [
                v.key
                for v in VariableApi(client).get_variables(limit=100).variables
                if v.key.startswith(BACKUP_PREFIX)
            ]
            + [
                c.connection_id
                for c in ConnectionApi(client).get_connections(limit=100).connections
                if c.connection_id.startswith(BACKUP_PREFIX)
            ],
        }


@pytest.fixture(scope="module")
def targets(stack: Stack) -> Iterator[Path]:
    """A pool, a Connection and a parsed DAG of the test's own; removed afterwards."""
    assert stack.dags_folder is not None
    dag_file = stack.dags_folder / f"{DAG}.py"
    dag_file.write_text(DAG_V1)
    with api_client(stack) as client:
        with contextlib.suppress(Exception):
            PoolApi(client).delete_pool(POOL)
        PoolApi(client).post_pool(PoolBody(name=POOL, slots=4, include_deferred=False))
        with contextlib.suppress(Exception):
            ConnectionApi(client).delete_connection(CONN)
        ConnectionApi(client).post_connection(
            ConnectionBody(
                connection_id=CONN,
                conn_type="postgres",
                host="db.internal",
                port=5432,
                login="etl",
                password=SECRET,
                var_schema="orders",
            )
        )
    _wait(lambda: _dag_or_none(stack), f"DAG {DAG} parsed", timeout=240)
    yield dag_file
    dag_file.unlink(missing_ok=True)
    with api_client(stack) as client:
        with contextlib.suppress(Exception):
            PoolApi(client).delete_pool(POOL)
        with contextlib.suppress(Exception):
            ConnectionApi(client).delete_connection(CONN)


@pytest.fixture
def manager(stack: Stack, stack_context: StackContext) -> Iterator[FaultManager]:
    journal = FaultJournal(stack_context.layout.root / "faults" / "journal.jsonl")
    with FaultManager(FaultContext(stack=stack, journal=journal, embedded=stack_context)) as mgr:
        yield mgr


def _spec(**fields: Any) -> AirflowFault:
    return AirflowFault.model_validate({"kind": "airflow", **fields})


def test_each_object_fault_is_seen_by_airflow_and_reverted_exactly(
    stack: Stack, targets: Path, manager: FaultManager
) -> None:
    before = _snapshot(stack, targets)
    assert before["backups"] == []

    held = manager.inject(_spec(action="squeeze_pool", pool=POOL, slots=0))
    with api_client(stack) as client:
        assert PoolApi(client).get_pool(POOL).slots == 0
    print("squeeze_pool:", held.evidence)
    manager.revert(held)

    held = manager.inject(_spec(action="pause_dag", dag_id=DAG))
    with api_client(stack) as client:
        assert DAGApi(client).get_dag(DAG).is_paused is True
    manager.revert(held)

    for breaks in ("host", "login"):
        held = manager.inject(_spec(action="break_connection", connection_id=CONN, breaks=breaks))
        with api_client(stack) as client:
            conn = ConnectionApi(client).get_connection(CONN)
        broken = (conn.host, conn.port) == ("127.0.0.1", 1) if breaks == "host" else conn.login
        assert broken and broken != "etl"
        assert SECRET not in held.evidence
        manager.revert(held)

    after = _snapshot(stack, targets)
    assert after == before


def test_dag_file_faults_show_in_airflow_and_the_file_comes_back(
    stack: Stack, targets: Path, manager: FaultManager, tmp_path: Path
) -> None:
    before = _snapshot(stack, targets)
    started = time.monotonic()
    held = manager.inject(_spec(action="break_dag", dag_id=DAG))
    broke_s = time.monotonic() - started
    with api_client(stack) as client:
        errors = ImportErrorApi(client).get_import_errors(filename_pattern=targets.name)
    assert any(e.filename.endswith(targets.name) for e in errors.import_errors)
    started = time.monotonic()
    manager.revert(held)
    reverted_s = time.monotonic() - started
    print(f"break_dag: {held.evidence}; effect {broke_s:.1f} s, revert {reverted_s:.1f} s")
    assert _snapshot(stack, targets)["file"] == before["file"]

    v2 = tmp_path / "v2.py"
    v2.write_text(DAG_V2)
    held = manager.inject(_spec(action="deploy_dag", dag_id=DAG, dag_file=str(v2)))
    assert targets.read_text() == DAG_V2
    with api_client(stack) as client:  # Airflow itself serves the new version now
        served = DagSourceApi(client).get_dag_source(DAG).content or ""
        assert served.strip() == DAG_V2.strip()

        def tasks() -> set[str]:
            return {str(t.task_id) for t in TaskApi(client).get_tasks(DAG).tasks}

        started = time.monotonic()
        _wait(lambda: tasks() == {"one", "two"}, "the API lists v2's tasks", timeout=120)
        print(f"deploy_dag: v2's tasks listed {time.monotonic() - started:.1f} s after verify")
    print("deploy_dag:", held.evidence)
    manager.revert(held)
    assert _snapshot(stack, targets) == before


def _dagstorm(ctx: StackContext, *args: str) -> list[str]:
    return [sys.executable, "-m", "dagstorm", "--state-dir", str(ctx.layout.root), *args]


def test_recover_after_sigkill_restores_pool_connection_and_dag_file(
    stack: Stack, stack_context: StackContext, targets: Path
) -> None:
    before = _snapshot(stack, targets)
    journal = FaultJournal(stack_context.layout.root / "faults" / "journal.jsonl")
    children = []
    for fields in (
        ("action=squeeze_pool", f"pool={POOL}", "slots=1"),
        ("action=break_connection", f"connection_id={CONN}"),
        ("action=break_dag", f"dag_id={DAG}"),
        ("action=pause_dag", f"dag_id={DAG}"),
    ):
        child = subprocess.Popen(
            _dagstorm(stack_context, "fault", "inject", "airflow", *fields, "--duration", "10m"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        children.append(child)
        deadline = time.monotonic() + 240
        while not any(
            e.get("event") == "verified" and e.get("pid") == child.pid for e in journal.entries()
        ):
            assert child.poll() is None, f"dagstorm fault inject {fields} exited early"
            assert time.monotonic() < deadline, f"{fields} not verified within 240 s"
            time.sleep(0.2)
    held = _snapshot(stack, targets)
    assert held["slots"] == 1 and held["paused"] is True and held["file"] != before["file"]
    assert len(held["backups"]) == 4  # three Variables and one backup Connection
    for child in children:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    done = subprocess.run(
        _dagstorm(stack_context, "recover"),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert SECRET not in done.stdout + done.stderr
    assert _snapshot(stack, targets) == before
