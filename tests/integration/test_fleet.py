"""The fleet (pipelines/fleet/) on the real Airflow 3: deployed without a restart, and its
shared upstream's v2 deployed over the linked v1 by a `deploy_dag` fault, then reverted.

Deploys the `fleet` profile (`dagstorm stack deploy fleet`'s code: four entries
linked into the stack's DAGs folder, the pool `fleet_spark`), checks through the
API that its 55 DAGs are parsed with no import error, then deploys v2 of
`ingest_raw_events` over the *link* `stack deploy` made: Airflow serves v2's tasks,
the profile's own v1 file is never written, and the revert puts the same link back.
Then a trigger storm on an asset-started DAG posts events on its asset, and
Airflow's record of each event lists the runs the scheduler created from it.
Undeploys the profile at the end (its DAGs then go stale).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from airflow_client.client import DAGApi, ImportErrorApi, PoolApi, TaskApi

from dagstorm.clients.airflow import api_client, fetch_token
from dagstorm.engine.output.asset_runs import journal_asset_runs
from dagstorm.faults.base import FaultContext
from dagstorm.faults.journal import FaultJournal
from dagstorm.faults.manager import FaultManager
from dagstorm.faults.specs import AirflowFault
from dagstorm.profiles.loader import find_profile
from dagstorm.run.clock import WallClock
from dagstorm.run.journal import RunJournal, read_journal
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import Stack
from dagstorm.stack.profile_deploy import deploy_profile, managed_dags_folder, undeploy_profile
from dagstorm.workloads.trigger_storm import TriggerStorm

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


def test_an_asset_storm_starts_the_consumers_runs_through_the_scheduler(
    fleet: Any, stack: Stack, tmp_path: Path
) -> None:
    """A trigger storm on an asset-started DAG posts events; the scheduler makes the runs.

    The profile says `fleet_audience_01` starts on asset `fleet_campaigns`; the storm
    posts three events on it (`POST /api/v2/assets/events`, 5 s apart) and journals
    each event's id. Airflow's own records say the rest: the events are stored with
    the storm's marks, each of the 12 audience DAGs is queued on the asset or has a
    run consuming them, and the runs that consume them are `asset_triggered` runs of
    audience DAGs; dagstorm's join of its journal with those records (`asset_runs`)
    names every run they name. When runs are created depends on the scheduler (a DAG
    at its max_active_runs waits), so only what must hold either way is asserted.
    """
    entry = fleet.profile.dag_of("fleet_audience_01")
    assert (entry.start.kind, entry.start.asset) == ("asset", "fleet_campaigns")
    _until(lambda: _asset_id(stack, "fleet_campaigns") is not None, "asset fleet_campaigns known")
    clock = WallClock()
    path = tmp_path / "journal.jsonl"
    with RunJournal(path, clock) as journal:
        storm = TriggerStorm(
            "audience-feed",
            journal,
            clock,
            stack=stack,
            dag="fleet_audience_01",
            rate=0.2,
            max_total=3,
            conf={},
            asset=entry.start.asset,
        )
        storm.run()  # bounded: 3 requests, 5 s apart
    triggered = [e for e in read_journal(path) if e["kind"] == "dag_triggered"]
    assert [(e["ok"], e["asset"], e["run_id"]) for e in triggered] == [
        (True, "fleet_campaigns", None)
    ] * 3
    event_ids = {int(e["asset_event_id"]) for e in triggered}

    def ours() -> list[dict[str, Any]]:
        asset_id = _asset_id(stack, "fleet_campaigns")
        query = {"asset_id": asset_id, "limit": 100, "order_by": "-timestamp"}
        events = _airflow_get(stack, "/api/v2/assets/events", query)["asset_events"]
        return [e for e in events if int(e["id"]) in event_ids]

    audience = {f"fleet_audience_{n:02d}" for n in range(1, 13)}
    # Each audience DAG is queued on the asset or already has a run consuming our events
    # (a DAG at its max_active_runs stays queued until a run of it ends). The queue is
    # read first: a queued DAG whose run is created meanwhile is in the events' record.
    asset_id = _asset_id(stack, "fleet_campaigns")
    queued = {
        q["dag_id"]
        for q in _airflow_get(stack, f"/api/v2/assets/{asset_id}/queuedEvents")["queued_events"]
    }
    events = ours()
    assert sorted(e["extra"]["n"] for e in events) == [1, 2, 3]
    assert {e["extra"]["dagstorm_storm"] for e in events} == {storm.name}
    started = {r["dag_id"] for e in events for r in e["created_dagruns"]}
    assert audience <= queued | started

    def record() -> set[tuple[str, str]]:
        return {(str(r["dag_id"]), str(r["run_id"])) for e in ours() for r in e["created_dagruns"]}

    _until(lambda: bool(record()), "a run consuming the storm's events", timeout=300)
    for dag_id, run_id in sorted(record()):
        run = _airflow_get(stack, f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
        assert (run["dag_id"] in audience, run["run_type"]) == (True, "asset_triggered")

    # dagstorm's own join, as a run's end makes it: every run the record named before.
    seen = record()
    with RunJournal(path, clock) as journal:
        (joined,) = journal_asset_runs(stack, journal)
    assert (joined.asset, joined.events, joined.error) == ("fleet_campaigns", 3, None)
    assert set(joined.runs) >= seen  # more may have been created between the two reads
    assert {d for d, _ in joined.runs} <= audience == set(joined.dags)
    assert set(joined.waiting) <= audience and all(0 < n <= 3 for n in joined.waiting.values())
    print(
        f"asset storm: 3 events, {joined.consumed} consumed by all 12 DAGs, "
        f"{len(joined.runs)} runs of {len({d for d, _ in joined.runs})} DAGs, "
        f"waiting {joined.waiting}"
    )


def _airflow_get(stack: Stack, path: str, params: dict[str, Any] | None = None) -> Any:
    url, username, password = stack.airflow_login()
    token = fetch_token(url, username, password)
    response = httpx.get(
        f"{url}{path}", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    response.raise_for_status()
    return response.json()


def _asset_id(stack: Stack, name: str) -> int | None:
    assets = _airflow_get(stack, "/api/v2/assets", {"name_pattern": name, "limit": 100})["assets"]
    return next((int(a["id"]) for a in assets if a["name"] == name), None)
