"""The runs a run's asset events started: journal ids joined with Airflow's record of each event.

A fake REST API stands in for Airflow (the real one: tests/integration/test_fleet.py).
Airflow's record lists, per event, the runs that consumed it (``created_dagruns``);
an event no run consumed yet lists none. The join gives the runs (they count as the
run's own in the analysis) and, per DAG on the asset, the events still waiting; the drain's count of
pending runs covers in-flight runs and DAGs queued by the storm's events.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from dagstorm.analysis.measures.asset_storms import asset_storm_measures
from dagstorm.clients.airflow_assets import Request, authenticated
from dagstorm.engine.output.asset_runs import (
    asset_storms,
    journal_asset_runs,
    pending_runs,
    storm_runs,
)
from dagstorm.engine.output.output_checks import triggered_run_ids
from dagstorm.run.clock import FakeClock
from dagstorm.run.events import AssetRuns, DagTriggered
from dagstorm.run.journal import RunJournal, read_journal
from dagstorm.stack.endpoints import Stack
from tests.unit.stacks import airflow_stack

START = 1_800_000_000.0  # FakeClock's wall at t = 0


def _iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).isoformat()


def _run(dag_id: str, run_id: str) -> dict[str, Any]:
    return {"dag_id": dag_id, "run_id": run_id}


class FakeAirflow:
    """Assets, their events (newest first, paged) and queue entries, and DAG runs."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.queued: list[dict[str, Any]] = []
        self.dag_runs: list[dict[str, Any]] = []
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path, params = request.url.path, request.url.params
        offset, limit = int(params.get("offset", 0)), int(params.get("limit", 100))
        if path == "/api/v2/assets":
            items = [{"id": 3, "name": "campaigns", "uri": "campaigns"}]
            if "camp" not in (params.get("name_pattern") or params.get("uri_pattern") or ""):
                items = []
            return httpx.Response(200, json={"assets": items, "total_entries": len(items)})
        if path == "/api/v2/assets/3":
            dags = [{"dag_id": "audience_01"}, {"dag_id": "audience_02"}]
            return httpx.Response(200, json={"id": 3, "scheduled_dags": dags})
        if path == "/api/v2/assets/events":
            ordered = sorted(self.events, key=lambda e: e["timestamp"], reverse=True)
            page = ordered[offset : offset + limit]
            return httpx.Response(200, json={"asset_events": page, "total_entries": len(ordered)})
        if path == "/api/v2/assets/3/queuedEvents":
            return httpx.Response(
                200, json={"queued_events": self.queued, "total_entries": len(self.queued)}
            )
        if path == "/api/v2/dags/~/dagRuns":
            states = params.get_list("state")
            runs = [r for r in self.dag_runs if r["state"] in states]
            return httpx.Response(
                200, json={"dag_runs": runs[offset : offset + limit], "total_entries": len(runs)}
            )
        return httpx.Response(404)


def _request(fake: FakeAirflow) -> Request:
    client = httpx.Client(transport=httpx.MockTransport(fake.handler))
    return authenticated("http://airflow.test", lambda renew: "token", client)


def _journal_storm(path: Path, accepted: list[int], failed: int = 0) -> None:
    """A journal with ``accepted`` asset events (ids) 1 s apart, then ``failed`` refusals."""
    clock = FakeClock()
    with RunJournal(path, clock) as journal:
        for event_id in accepted:
            clock.advance(1.0)
            journal.emit(
                DagTriggered(
                    dag_id="audience_01",
                    run_id=None,
                    ok=True,
                    status=200,
                    latency_ms=800.0,  # answered 0.8 s after it was sent
                    workload="feed",
                    asset="campaigns",
                    asset_event_id=event_id,
                )
            )
        for _ in range(failed):
            journal.emit(
                DagTriggered(
                    dag_id="audience_01",
                    run_id=None,
                    ok=False,
                    status=0,
                    workload="feed",
                    asset="campaigns",
                    error="ReadTimeout",
                )
            )
        # An API trigger of another DAG: not part of any asset storm.
        journal.emit(DagTriggered(dag_id="orders", run_id="dagstorm__x_1", ok=True, status=200))


def test_the_journals_accepted_asset_events_are_grouped_by_asset(tmp_path: Path) -> None:
    _journal_storm(tmp_path / "j.jsonl", [11, 12, 13], failed=2)
    (storm,) = asset_storms(tmp_path / "j.jsonl")
    assert (storm.asset, storm.workloads, storm.event_ids) == (
        "campaigns",
        ("feed",),
        frozenset({11, 12, 13}),
    )
    # From when the first request was sent (its event is stamped then, not when the
    # journal got the answer) to when the last one was answered.
    assert (storm.first_wall, storm.last_wall) == (START + 1 - 0.8, START + 3)


def test_the_runs_are_those_airflow_lists_for_our_events_and_the_tail_waits_per_dag(
    tmp_path: Path,
) -> None:
    _journal_storm(tmp_path / "j.jsonl", [11, 12, 13])
    (storm,) = asset_storms(tmp_path / "j.jsonl")
    fake = FakeAirflow()
    both = [_run("audience_01", "asset_triggered__t1"), _run("audience_02", "asset_triggered__t1")]
    fake.events = [
        # Another producer's event: its runs are not ours.
        {"id": 10, "timestamp": _iso(START), "created_dagruns": [_run("audience_01", "other")]},
        {"id": 11, "timestamp": _iso(START + 1), "created_dagruns": both},
        # Consumed by audience_01 only: audience_02 was queued before it arrived.
        {
            "id": 12,
            "timestamp": _iso(START + 2),
            "created_dagruns": [_run("audience_01", "asset_triggered__t2")],
        },
        # Arrived after the queue entry: no run consumed it (yet).
        {"id": 13, "timestamp": _iso(START + 3), "created_dagruns": []},
    ]
    runs = storm_runs(_request(fake), storm)
    assert (runs.asset_id, runs.events, runs.consumed) == (3, 3, 1)
    assert runs.dags == ("audience_01", "audience_02")
    assert runs.waiting == {"audience_01": 1, "audience_02": 2}
    assert runs.runs == (
        ("audience_01", "asset_triggered__t1"),
        ("audience_01", "asset_triggered__t2"),
        ("audience_02", "asset_triggered__t1"),
    )
    assert runs.error is None


def test_journalled_runs_are_among_the_run_ids_output_checks_query(
    tmp_path: Path, monkeypatch: Any
) -> None:
    path = tmp_path / "j.jsonl"
    _journal_storm(path, [11])
    fake = FakeAirflow()
    fake.events = [
        {
            "id": 11,
            "timestamp": _iso(START + 1),
            "created_dagruns": [_run("audience_01", "asset_triggered__t1")],
        }
    ]
    monkeypatch.setattr(
        "dagstorm.engine.output.asset_runs.airflow_request", lambda stack, client: _request(fake)
    )
    with RunJournal(path, FakeClock()) as journal:
        (found,) = journal_asset_runs(_stack(), journal)
    assert found.runs == (("audience_01", "asset_triggered__t1"),)
    (event,) = [e for e in read_journal(path) if e["kind"] == "asset_runs"]
    assert (event["events"], event["consumed"], event["runs"], event["waiting"]) == (
        1,
        0,  # audience_02 has no run consuming it
        [["audience_01", "asset_triggered__t1"]],
        {"audience_02": 1},
    )
    assert triggered_run_ids(path) == ["asset_triggered__t1", "dagstorm__x_1"]


def test_an_unreadable_record_is_an_error_in_the_figures_not_a_crash(tmp_path: Path) -> None:
    _journal_storm(tmp_path / "j.jsonl", [11])
    (storm,) = asset_storms(tmp_path / "j.jsonl")

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = httpx.Client(transport=httpx.MockTransport(down))
    runs = storm_runs(authenticated("http://x", lambda renew: "t", client), storm)
    assert (runs.events, runs.consumed, runs.runs) == (1, 0, ())
    assert runs.error is not None and "ConnectError" in runs.error


def test_pending_counts_in_flight_runs_of_the_assets_dags_and_dags_queued_in_the_storm(
    tmp_path: Path,
) -> None:
    _journal_storm(tmp_path / "j.jsonl", [11, 12, 13])
    (storm,) = asset_storms(tmp_path / "j.jsonl")
    fake = FakeAirflow()
    fake.dag_runs = [
        {"dag_id": "audience_01", "state": "running"},
        {"dag_id": "audience_02", "state": "queued"},
        {"dag_id": "elsewhere", "state": "running"},  # not scheduled on the asset
    ]
    fake.queued = [
        {"dag_id": "audience_01", "created_at": _iso(START + 2)},  # made by our event 12
        {"dag_id": "audience_02", "created_at": _iso(START + 600)},  # long after the storm
    ]
    assert pending_runs(_request(fake), storm) == 3
    (runs_request,) = [r for r in fake.requests if r.url.path == "/api/v2/dags/~/dagRuns"]
    assert runs_request.url.params.get("run_type") == "asset_triggered"
    assert runs_request.url.params.get("run_after_gte") == _iso(START + 1 - 0.8 - 5)


def test_the_measure_counts_posted_failed_consumed_and_runs_per_dag() -> None:
    asset_runs = [
        AssetRuns(
            asset="campaigns",
            asset_id=3,
            workloads=["feed"],
            events=3,
            consumed=2,
            runs=[["audience_01", "r1"], ["audience_02", "r1"], ["audience_01", "r2"]],
            dags=["audience_01", "audience_02"],
            waiting={"audience_02": 1},
        ).model_dump()
    ]
    triggers = pd.DataFrame(
        {
            "asset": ["campaigns", "campaigns", None, "gone"],
            "ok": [True, False, False, False],
        }
    )
    measured = asset_storm_measures(asset_runs, triggers)
    first, gone = measured
    assert (first.posted, first.failed, first.consumed, first.runs) == (3, 1, 2, 3)
    assert first.waiting == {"audience_02": 1}
    assert first.runs_by_dag == {"audience_01": 2, "audience_02": 1}
    # Every request on "gone" failed: no asset_runs event, still a measure.
    assert (gone.asset, gone.posted, gone.failed) == ("gone", 0, 1)


def _stack() -> Stack:
    return airflow_stack(airflow_url="http://airflow.test")
