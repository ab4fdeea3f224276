"""The DAG runs a run's asset events started (trigger storms with ``asset``).

An asset event names no run: the scheduler creates the runs of every DAG scheduled
on the asset later, from the events queued up to that moment. Airflow's record of
each event lists the runs that consumed it (``created_dagruns``), so at the end of a
run the journal's event ids are joined with that record: the runs this run started
(they count as triggered, like the runs an API trigger named), and per DAG on the
asset the events no run of it consumed yet. Airflow queues a DAG once; an event
that arrives while the DAG is queued and after the queue entry was made waits for
the asset's *next* event, so a storm's last events may start no run of a DAG at
all (docs/own-pipeline.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from dagstorm.clients.airflow import fetch_token
from dagstorm.clients.airflow_assets import (
    Request,
    asset_events,
    asset_id_of,
    authenticated,
    pages,
    queued_runs,
)
from dagstorm.run.events import AssetRuns, Kind
from dagstorm.run.follow import events_of_kinds
from dagstorm.run.journal import RunJournal
from dagstorm.stack.endpoints import Stack

__all__ = [
    "AssetStorm",
    "StormRuns",
    "airflow_request",
    "asset_storms",
    "journal_asset_runs",
    "pending_runs",
    "storm_runs",
    "storms_of",
]

#: Slack on the storm's wall times when asking Airflow for events, runs and queue
#: entries made around them (clocks of the API server and dagstorm may differ a little).
SLACK_S = 5.0


@dataclass(frozen=True)
class AssetStorm:
    """The asset events a run posted on one asset (the ones Airflow accepted)."""

    asset: str
    workloads: tuple[str, ...]
    event_ids: frozenset[int]
    #: Wall-clock seconds when the first accepted event's request was sent (its journal
    #: time less its latency: a slow request's event is older than its journal line),
    #: and when the last one was answered.
    first_wall: float
    last_wall: float


@dataclass(frozen=True)
class StormRuns:
    """What one asset's events started: the runs, and per DAG the events still waiting."""

    asset: str
    asset_id: int | None
    workloads: tuple[str, ...]
    events: int
    #: Events that a run of every DAG scheduled on the asset consumed.
    consumed: int
    #: ``(dag_id, run_id)`` of every run that consumed one of the events.
    runs: tuple[tuple[str, str], ...] = field(default=())
    #: The DAGs scheduled on the asset (at the end of the run).
    dags: tuple[str, ...] = field(default=())
    #: Per DAG, the events no run of it consumed (yet): they wait for the asset's next event.
    waiting: dict[str, int] = field(default_factory=dict)
    error: str | None = None


def asset_storms(journal_path: Path) -> list[AssetStorm]:
    """The run's accepted asset events, grouped by asset."""
    return storms_of(events_of_kinds(journal_path, (Kind.DAG_TRIGGERED,)))


def storms_of(journal_events: Iterable[dict[str, Any]]) -> list[AssetStorm]:
    """The accepted asset events among ``journal_events``, grouped by asset."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for e in journal_events:
        accepted = e.get("ok") and e.get("asset_event_id") is not None
        if e.get("kind") == Kind.DAG_TRIGGERED and e.get("asset") and accepted:
            grouped.setdefault(str(e["asset"]), []).append(e)
    storms = []
    for asset, events in sorted(grouped.items()):
        walls = [float(e["wall"]) for e in events]
        sent = [float(e["wall"]) - float(e.get("latency_ms") or 0) / 1000 for e in events]
        storms.append(
            AssetStorm(
                asset=asset,
                workloads=tuple(sorted({str(e.get("workload") or "") for e in events})),
                event_ids=frozenset(int(e["asset_event_id"]) for e in events),
                first_wall=min(sent),
                last_wall=max(walls),
            )
        )
    return storms


def storm_runs(request: Request, storm: AssetStorm) -> StormRuns:
    """The runs that consumed ``storm``'s events, from Airflow's record of each event.

    An event is consumed once per DAG scheduled on the asset: it counts as consumed
    when a run of each of them consumed it; per DAG, the events no run of it consumed
    are ``waiting``.
    """
    base = StormRuns(storm.asset, None, storm.workloads, len(storm.event_ids), 0)
    try:
        asset_id = asset_id_of(request, storm.asset)
        if asset_id is None:
            return _with(base, error=f"asset {storm.asset!r} is gone from Airflow")
        dags = scheduled_dags(request, asset_id)
        events = asset_events(
            request, asset_id, since=_iso(storm.first_wall - SLACK_S), wanted=set(storm.event_ids)
        )
    except (httpx.HTTPError, OSError) as exc:
        return _with(base, error=f"Airflow's asset events could not be read: {exc!r}"[:300])
    ours = {int(e["id"]): e for e in events if int(e.get("id", -1)) in storm.event_ids}
    consumers = {
        event_id: {str(r["dag_id"]) for r in ours.get(event_id, {}).get("created_dagruns") or []}
        for event_id in storm.event_ids
    }
    runs = sorted(
        {
            (str(r["dag_id"]), str(r["run_id"]))
            for e in ours.values()
            for r in e.get("created_dagruns") or []
        }
    )
    waiting = {dag: sum(1 for by in consumers.values() if dag not in by) for dag in dags}
    return StormRuns(
        asset=storm.asset,
        asset_id=asset_id,
        workloads=storm.workloads,
        events=len(storm.event_ids),
        consumed=sum(1 for by in consumers.values() if set(dags) <= by),
        runs=tuple(runs),
        dags=dags,
        waiting={dag: n for dag, n in waiting.items() if n},
    )


def scheduled_dags(request: Request, asset_id: int) -> tuple[str, ...]:
    """The DAGs scheduled on asset ``asset_id``."""
    response = request("GET", f"/api/v2/assets/{asset_id}")
    response.raise_for_status()
    return tuple(sorted({str(d["dag_id"]) for d in response.json().get("scheduled_dags") or []}))


def pending_runs(request: Request, storm: AssetStorm) -> int:
    """Runs around the storm still to finish: queued or running ones, and queued DAGs.

    The asset-triggered runs of the asset's DAGs made since the storm began that
    are queued or running, plus the DAGs queued (from an event in the storm's time)
    whose run the scheduler is yet to create. A run a producer's own update started
    in that time is waited for too: the wait is bounded by the drain.
    """
    asset_id = asset_id_of(request, storm.asset)
    if asset_id is None:
        return 0
    dags = set(scheduled_dags(request, asset_id))
    since = _iso(storm.first_wall - SLACK_S)
    params = {"run_type": "asset_triggered", "state": ["queued", "running"], "run_after_gte": since}
    in_flight = pages(request, "/api/v2/dags/~/dagRuns", "dag_runs", params)
    running = sum(1 for r in in_flight if r.get("dag_id") in dags)
    window = (storm.first_wall - SLACK_S, storm.last_wall + SLACK_S)
    queued = sum(
        1
        for q in queued_runs(request, asset_id)
        if window[0] <= _wall(str(q.get("created_at"))) <= window[1]
    )
    return running + queued


def airflow_request(stack: Stack, client: httpx.Client) -> Request:
    """Authenticated plain requests to ``stack``'s REST API on ``client``."""
    token: list[str] = []

    def value(renew: bool) -> str:
        if renew or not token:
            token[:] = [fetch_token(*stack.airflow_login())]
        return token[0]

    return authenticated(stack.endpoint("airflow"), value, client)


def journal_asset_runs(stack: Stack, journal: RunJournal) -> list[StormRuns]:
    """Join the run's asset events with the runs they started; one ``asset_runs`` event each."""
    storms = asset_storms(journal.path)
    if not storms:
        return []
    found = []
    with httpx.Client(timeout=10.0) as client:
        request = airflow_request(stack, client)
        for storm in storms:
            try:
                runs = storm_runs(request, storm)
            except Exception as exc:  # noqa: BLE001 - a token refused: figures, never a crash
                base = StormRuns(storm.asset, None, storm.workloads, len(storm.event_ids), 0)
                runs = _with(base, error=f"Airflow could not be asked: {exc}"[:300])
            journal.emit(
                AssetRuns(
                    asset=runs.asset,
                    asset_id=runs.asset_id,
                    workloads=list(runs.workloads),
                    events=runs.events,
                    consumed=runs.consumed,
                    runs=[list(r) for r in runs.runs],
                    dags=list(runs.dags),
                    waiting=runs.waiting,
                    error=runs.error,
                )
            )
            found.append(runs)
    return found


def _with(runs: StormRuns, *, error: str) -> StormRuns:
    return StormRuns(runs.asset, runs.asset_id, runs.workloads, runs.events, 0, error=error)


def _iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).isoformat()


def _wall(iso: str) -> float:
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return float("nan")
