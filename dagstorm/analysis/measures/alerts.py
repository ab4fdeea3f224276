# mypy: disable-error-code="import-untyped"
"""Time from a task failure to its alert.

A failure is a task try whose last state is ``failed`` or ``up_for_retry``; its
time is the try's ``end_date``. An alert matches it when ``dag_id``, ``run_id``,
``task_id`` and ``try_number`` are equal (mapped tries with the same key are
paired in order of time with the alerts in order of receipt). Latency = the
alert's ``received_at`` − the failure's ``end_date``, wall seconds, floored at 0
(a callback may post before Airflow stamps the end). Alerts without a
``task_id`` or ``try_number`` (deadline alerts) are counted by kind, not matched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from dagstorm.analysis.measures.cells import opt_float, opt_int, opt_str
from dagstorm.analysis.measures.percentiles import Percentiles

FAILED_TRY_STATES = ("failed", "up_for_retry")
_KEY = ["dag_id", "run_id", "task_id", "try_number"]


@dataclass(frozen=True)
class AlertedFailure:
    """A failed task try and the alert that reported it (None: no alert)."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int | None
    try_number: int | None
    state: str
    failed_t: float | None
    alert_kind: str | None
    alert_t: float | None
    latency_wall_s: float | None


@dataclass(frozen=True)
class AlertLatency:
    """Failures, how many were alerted, and the latency (wall seconds) of the alerted."""

    failures: int
    alerted: int
    latency_wall_s: Percentiles
    unalerted: tuple[AlertedFailure, ...]
    #: Alerts received (in the same time range) per ``alert_kind``.
    alerts_by_kind: Mapping[str, int]


def match_alerts(task_tries: pd.DataFrame, alerts: pd.DataFrame) -> pd.DataFrame:
    """One row per failed try: the try's key, ``failed_t``, and its alert's columns."""
    failed = task_tries[task_tries["state"].isin(FAILED_TRY_STATES)].copy()
    failed["failed_t"] = failed["end_date_t"]
    failed = failed.sort_values([*_KEY, "failed_t", "map_index"], kind="stable")
    failed["rank"] = failed.groupby(_KEY, dropna=False).cumcount()
    task_alerts = alerts[alerts["task_id"].notna() & alerts["try_number"].notna()].copy()
    task_alerts = task_alerts.sort_values([*_KEY, "received_t", "seq"], kind="stable")
    task_alerts["rank"] = task_alerts.groupby(_KEY).cumcount()
    task_alerts = task_alerts[[*_KEY, "rank", "alert_kind", "received_t"]]
    columns = [*_KEY, "map_index", "state", "failed_t", "rank"]
    matched = failed[columns].merge(task_alerts, on=[*_KEY, "rank"], how="left")
    latency = (matched["received_t"] - matched["failed_t"]).clip(lower=0.0)
    matched["latency_wall_s"] = latency
    return matched.sort_values(["failed_t", *_KEY], kind="stable").reset_index(drop=True)


def alert_latency(
    matched: pd.DataFrame,
    alerts: pd.DataFrame,
    *,
    since_t: float | None = None,
    until_t: float | None = None,
) -> AlertLatency:
    """Summary of the failures in ``[since_t, until_t)`` (everything when None)."""
    rows = matched
    kinds = alerts
    if since_t is not None:
        rows = rows[rows["failed_t"] >= since_t]
        kinds = kinds[kinds["received_t"] >= since_t]
    if until_t is not None:
        rows = rows[rows["failed_t"] < until_t]
        kinds = kinds[kinds["received_t"] < until_t]
    alerted = rows["alert_kind"].notna()
    counts = kinds["alert_kind"].fillna("unknown").astype(str).value_counts()
    return AlertLatency(
        failures=len(rows),
        alerted=int(alerted.sum()),
        latency_wall_s=Percentiles.of(rows.loc[alerted, "latency_wall_s"].tolist()),
        unalerted=tuple(_row(r) for r in rows[~alerted].to_dict("records")),
        alerts_by_kind={str(k): int(counts[k]) for k in sorted(counts.index)},
    )


def _row(row: dict[str, object]) -> AlertedFailure:
    return AlertedFailure(
        dag_id=str(row["dag_id"]),
        run_id=str(row["run_id"]),
        task_id=str(row["task_id"]),
        map_index=opt_int(row["map_index"]),
        try_number=opt_int(row["try_number"]),
        state=str(row["state"]),
        failed_t=opt_float(row["failed_t"]),
        alert_kind=opt_str(row["alert_kind"]),
        alert_t=opt_float(row["received_t"]),
        latency_wall_s=opt_float(row["latency_wall_s"]),
    )
