"""The fleet (pipelines/fleet/) on the real Airflow 3: deployed without a restart, and its
shared upstream's v2 deployed over the linked v1 by a `deploy_dag` fault, then reverted.

Deploys the `fleet` profile (`dagstorm stack deploy fleet`'s code: four entries
linked into the stack's DAGs folder, the pool `fleet_spark`), checks through the
API that its 55 DAGs are parsed with no import error, then deploys v2 of
`ingest_raw_events` over the *link* `stack deploy` made: Airflow serves v2's tasks,
the profile's own v1 file is never written, and the revert puts the same link back.
Undeploys the profile at the end (its DAGs then go stale).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow_client.client import DAGApi, ImportErrorApi, PoolApi, TaskApi

from dagstorm.clients.airflow import api_client
from dagstorm.faults.base import FaultContext
from dagstorm.faults.journal import FaultJournal
from dagstorm.faults.manager import FaultManager
from dagstorm.faults.specs import AirflowFault
from dagstorm.profiles.loader import find_profile
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import Stack
from dagstorm.stack.profile_deploy import deploy_profile, managed_dags_folder, undeploy_profile

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).parents[2]
FLEET = ROOT / "pipelines" / "fleet"
UPSTREAM = "ingest_raw_events"
ENTRIES = ["fleet.yaml", "fleet_config.py", "fleet_dags.py", "ingest_raw_events.py"]


@pytest.fixture(scope="module")
def fleet(stack_context: StackContext) -> Iterator[Any]:
    """The fleet profile deployed (and undeployed afterwards)."""
    loaded = find_profile("fleet")
    try:
        assert deploy_profile(stack_context, loaded, check_folder=True) == ENTRIES
        yield loaded
    finally:
        undeploy_profile(stack_context, "fleet")
    assert not (managed_dags_folder(stack_context) / "fleet_dags.py").exists()


def _until(check: Any, what: str, timeout: float = 180.0) -> None:
    """Wait (bounded) for ``check``: the API server's DAG cache refreshes every ~30 s."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {what}"
        time.sleep(3)


def _tasks(stack: Stack, dag_id: str) -> set[str]:
    with api_client(stack) as client:
        return {str(t.task_id) for t in TaskApi(client).get_tasks(dag_id).tasks or []}


def test_the_fleet_parses_with_its_pool(fleet: Any, stack: Stack) -> None:
    def listed() -> int:
        with api_client(stack) as client:
            found = DAGApi(client).get_dags(tags=["fleet"], limit=100, exclude_stale=True)
        return int(found.total_entries)

    # Deployed again right after an undeploy, the DAGs are stale until re-parsed.
    _until(lambda: listed() >= 55, "55 fleet DAGs listed (not stale)")
    with api_client(stack) as client:
        errors = ImportErrorApi(client).get_import_errors(limit=100).import_errors
        pool = PoolApi(client).get_pool("fleet_spark")
    assert [e.filename for e in errors if "fleet" in e.filename or UPSTREAM in e.filename] == []
    assert pool.slots == fleet.profile.source.pools["fleet_spark"]


def test_v2_goes_live_over_the_link_and_the_link_comes_back(
    fleet: Any, stack: Stack, stack_context: StackContext
) -> None:
    link = managed_dags_folder(stack_context) / f"{UPSTREAM}.py"
    v1 = FLEET / "dags" / f"{UPSTREAM}.py"
    v1_text = v1.read_text()
    assert link.is_symlink()
    target = os.readlink(link)
    _until(lambda: "dedupe" not in _tasks(stack, UPSTREAM), "v1's tasks listed")
    journal = FaultJournal(stack_context.layout.root / "faults" / "journal.jsonl")
    spec = AirflowFault.model_validate(
        {
            "kind": "airflow",
            "action": "deploy_dag",
            "dag_id": UPSTREAM,
            "dag_file": str(FLEET / "v2" / f"{UPSTREAM}.py"),
        }
    )
    with FaultManager(FaultContext(stack=stack, journal=journal, embedded=stack_context)) as mgr:
        held = mgr.inject(spec)
        try:
            assert not link.is_symlink()
            assert link.read_text() == (FLEET / "v2" / f"{UPSTREAM}.py").read_text()
            assert v1.read_text() == v1_text  # the profile's file is never written
            # Verified once Airflow serves the new source; the API server's task list
            # follows when its DAG cache refreshes (~30 s here): bounded wait.
            _until(lambda: {"check_schema", "dedupe"} <= _tasks(stack, UPSTREAM), "v2's tasks")
            print("deploy_dag on the fleet:", held.evidence)
        finally:
            mgr.revert(held)
    assert link.is_symlink() and os.readlink(link) == target
    assert v1.read_text() == v1_text
