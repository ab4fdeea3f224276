# mypy: disable-error-code="import-untyped"
"""What a fault on a DAG did to that DAG's runs: deploys, broken files, pauses, reruns.

For each applied ``airflow`` fault that names a DAG through the REST API
(``deploy_dag``, ``break_dag``, ``pause_dag``, ``clear_runs``), from the journal
alone: when it took effect (``took_s`` of its ``fault_applied``: inject plus the
wait until the API showed it), the DAG's runs that started inside its window and
how many of those failed, the runs that straddled the moment it was applied
(started before, ended after or never), and the DAG versions the runs before and
after ran on — Airflow 3 records them per run, so a deploy's runs show which
version each one used.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dagstorm.analysis.measures.faults.fault_windows import FaultWindows

__all__ = ["DAG_ACTIONS", "DagFaultImpact", "dag_fault_impacts"]

#: The ``airflow`` fault actions that act on one DAG (``spec.dag_id``).
DAG_ACTIONS = ("deploy_dag", "break_dag", "pause_dag", "clear_runs")


@dataclass(frozen=True)
class DagFaultImpact:
    """One DAG fault and what its DAG's runs did around it (wall seconds since the start)."""

    fault_id: str
    fault: str
    action: str
    dag_id: str
    applied_t: float
    #: Inject plus verification: until Airflow's API showed the effect.
    effect_s: float | None
    #: When the revert was journaled (None: never reverted in the journal).
    reverted_t: float | None
    #: Runs of the DAG that started inside the fault's window.
    runs_started: int
    #: Of those, the runs that failed.
    runs_failed: int
    #: Runs that started before the fault was applied and ended after it (or never).
    straddling: tuple[str, ...]
    #: DAG versions of the runs that started before the fault, and inside or after it.
    versions_before: tuple[int, ...]
    versions_after: tuple[int, ...]


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _versions(values: Iterable[Any]) -> tuple[int, ...]:
    found: set[int] = set()
    for value in values:
        if isinstance(value, list | tuple):
            found.update(int(v) for v in value)
    return tuple(sorted(found))


def dag_fault_impacts(
    intents: Iterable[Mapping[str, Any]], windows: FaultWindows, dag_runs: pd.DataFrame
) -> tuple[DagFaultImpact, ...]:
    """The impact of every applied DAG fault (``intents``: the ``fault_intent`` events)."""
    specs = {str(e.get("fault_id")): e.get("spec") or {} for e in intents}
    impacts: list[DagFaultImpact] = []
    for window in windows.windows:
        spec = specs.get(window.fault_id, {})
        action, dag_id = spec.get("action"), spec.get("dag_id")
        if spec.get("kind") != "airflow" or action not in DAG_ACTIONS or not dag_id:
            continue
        runs = dag_runs[dag_runs["dag_id"] == dag_id] if "dag_id" in dag_runs else dag_runs
        start = runs["start_date_t"] if "start_date_t" in runs else pd.Series(dtype=float)
        end = runs["end_date_t"] if "end_date_t" in runs else pd.Series(dtype=float)
        inside = runs[(start >= window.start_t) & (start <= window.end_t)]
        before = runs[start < window.applied_t]
        straddle = before[
            end.reindex(before.index).isna() | (end.reindex(before.index) > window.applied_t)
        ]
        after = runs[start >= window.start_t]
        versions = runs["dag_versions"] if "dag_versions" in runs else pd.Series(dtype=object)
        impacts.append(
            DagFaultImpact(
                fault_id=window.fault_id,
                fault=window.fault,
                action=str(action),
                dag_id=str(dag_id),
                applied_t=round(window.applied_t, 3),
                effect_s=_number(window.applied_t - window.start_t),
                reverted_t=round(window.end_t, 3) if window.reverted else None,
                runs_started=len(inside),
                runs_failed=int((inside["state"] == "failed").sum()) if "state" in inside else 0,
                straddling=tuple(str(r) for r in straddle["run_id"])
                if "run_id" in straddle
                else (),
                versions_before=_versions(versions.reindex(before.index)),
                versions_after=_versions(versions.reindex(after.index)),
            )
        )
    return tuple(impacts)
