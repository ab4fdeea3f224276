"""What a run's asset events did: events posted, failed, consumed, and the runs they started.

A trigger storm with ``asset`` posts events on an asset; the scheduler starts the
runs of every DAG scheduled on it from the events queued up to its next loop. At
the end of the run the engine joins the journal's event ids with Airflow's record
of each event (``asset_runs``); here, per asset: how many events Airflow accepted
and refused, how many a run of every DAG on the asset consumed, per DAG the events
still waiting, and the runs per DAG. A waiting event is not lost data: Airflow
keeps it for the asset's next update (an event that arrives after a DAG was queued,
before its run is created, waits for the next one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class AssetStormMeasure:
    """One asset's events in this run."""

    asset: str
    workloads: tuple[str, ...]
    #: Events Airflow accepted, and requests that failed (refused or unanswered).
    posted: int
    failed: int
    #: Events a run of every DAG on the asset consumed.
    consumed: int
    #: Per DAG, the events no run of it consumed by the end (they wait for the next event).
    waiting: dict[str, int]
    #: Runs that consumed one of the events, in all and per DAG.
    runs: int
    runs_by_dag: dict[str, int]
    #: Why Airflow's record could not be read (then nothing is consumed, as far as known).
    error: str | None


def asset_storm_measures(
    asset_runs: Sequence[Mapping[str, Any]], triggers: pd.DataFrame
) -> tuple[AssetStormMeasure, ...]:
    """One measure per asset of the run's ``asset_runs`` events and asset ``dag_triggered`` ones."""
    failed: dict[str, int] = {}
    if "asset" in triggers and len(triggers):
        mine = triggers[triggers["asset"].notna() & (triggers["ok"] != True)]  # noqa: E712
        for asset, count in mine.groupby("asset").size().items():
            failed[str(asset)] = int(count)
    found: list[AssetStormMeasure] = []
    for event in asset_runs:
        asset = str(event.get("asset"))
        runs = [tuple(r) for r in event.get("runs") or [] if len(r) == 2]
        by_dag: dict[str, int] = {}
        for dag_id, _ in runs:
            by_dag[str(dag_id)] = by_dag.get(str(dag_id), 0) + 1
        posted, consumed = int(event.get("events") or 0), int(event.get("consumed") or 0)
        found.append(
            AssetStormMeasure(
                asset=asset,
                workloads=tuple(str(w) for w in event.get("workloads") or ()),
                posted=posted,
                failed=failed.pop(asset, 0),
                consumed=consumed,
                waiting={str(k): int(v) for k, v in (event.get("waiting") or {}).items()},
                runs=len(runs),
                runs_by_dag=dict(sorted(by_dag.items())),
                error=event.get("error"),
            )
        )
    # Assets whose every request failed have no asset_runs event: still a measure.
    for asset, count in sorted(failed.items()):
        found.append(AssetStormMeasure(asset, (), 0, count, 0, {}, 0, {}, None))
    return tuple(found)
