# mypy: disable-error-code="import-untyped"
"""SLA compliance of one DAG, computed from run timings (Airflow 3 has no SLA misses).

A run's clock starts at its ``queued_at`` (or its ``logical_date`` with
``measure_from: logical_date``). Its elapsed time is wall seconds × the time
compression, compared with ``within`` in simulated seconds:

- ``success`` with ``end_date``: met if elapsed ≤ within, else missed (``late``);
- ``failed``: missed (``failed``);
- anything else (queued, running) when the run ended: missed (``unfinished past
  deadline``) if the deadline had already passed at the end of the run, else
  excluded (``unfinished within deadline``) — it could still have made it;
- no reference time: excluded;
- an API trigger of the DAG that errored and whose run never appeared: missed
  (``trigger failed``); one that named no run id, so the journal cannot tell:
  excluded (``trigger failed, run unknown``). One whose run appeared is that run.

Compliance = met / (met + missed); None when no run counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from dagstorm.analysis.measures.cells import opt_float, opt_str
from dagstorm.analysis.measures.trigger_errors import TriggerError

#: Slack for float noise when a run ends exactly on its deadline.
_EPSILON = 1e-6

Reason = Literal[
    "late",
    "failed",
    "unfinished past deadline",
    "unfinished within deadline",
    "no reference",
    "trigger failed",
    "trigger failed, run unknown",
]
#: A run still going at the end, not yet past its deadline: it could still have made it.
UNFINISHED_IN_TIME: Reason = "unfinished within deadline"
_EXCLUDED = (UNFINISHED_IN_TIME, "no reference", "trigger failed, run unknown")


@dataclass(frozen=True)
class SlaRun:
    """A run that missed the SLA or was excluded, and by how much (None: not known)."""

    dag_id: str
    run_id: str
    state: str
    reason: Reason
    #: The reference time as Airflow reported it (queued_at or logical_date).
    reference: str | None
    end_date: str | None
    elapsed_wall_s: float | None
    elapsed_sim_s: float | None
    over_by_wall_s: float | None
    over_by_sim_s: float | None


@dataclass(frozen=True)
class SlaCompliance:
    """SLA compliance of one DAG against a deadline in simulated seconds."""

    dag_id: str
    within_sim_s: float
    within_wall_s: float
    measure_from: Literal["queued", "logical_date"]
    #: Runs of the DAG in the journal, and triggers of it that errored with no run.
    runs: int
    met: int
    missed: int
    excluded: int
    #: met / (met + missed), None if no run counted.
    compliance: float | None
    misses: tuple[SlaRun, ...]
    excluded_runs: tuple[SlaRun, ...]


def sla_compliance(
    dag_runs: pd.DataFrame,
    *,
    dag_id: str,
    within_s: float,
    compression: float,
    end_t: float,
    measure_from: Literal["queued", "logical_date"] = "queued",
    failed_triggers: Sequence[TriggerError] = (),
) -> SlaCompliance:
    """SLA compliance of ``dag_id``'s runs (the last state of each run).

    ``failed_triggers``: the DAG's trigger errors (:mod:`.trigger_errors`); those
    whose run never appeared count as missed, those with no run id are excluded.
    """
    field = "queued_at" if measure_from == "queued" else "logical_date"
    runs = dag_runs[dag_runs["dag_id"] == dag_id].sort_values(
        [f"{field}_t", "run_id"], kind="stable", na_position="last"
    )
    met = 0
    misses: list[SlaRun] = []
    excluded: list[SlaRun] = []
    for row in runs.to_dict("records"):
        outcome = _classify(row, field, within_s, compression, end_t)
        if outcome is None:
            met += 1
        elif outcome.reason in _EXCLUDED:
            excluded.append(outcome)
        else:
            misses.append(outcome)
    lost = [t for t in failed_triggers if t.dag_id == dag_id and t.created is not True]
    for trigger in lost:
        outcome = _not_created(trigger)
        (excluded if outcome.reason in _EXCLUDED else misses).append(outcome)
    counted = met + len(misses)
    return SlaCompliance(
        dag_id=dag_id,
        within_sim_s=within_s,
        within_wall_s=within_s / compression,
        measure_from=measure_from,
        runs=len(runs) + len(lost),
        met=met,
        missed=len(misses),
        excluded=len(excluded),
        compliance=met / counted if counted else None,
        misses=tuple(misses),
        excluded_runs=tuple(excluded),
    )


def _not_created(trigger: TriggerError) -> SlaRun:
    """A trigger that errored and left no run: missed, or excluded when it named none."""
    what = trigger.error or (f"HTTP {trigger.status}" if trigger.status else "error")
    return SlaRun(
        dag_id=trigger.dag_id,
        run_id=trigger.run_id or f"(trigger at {trigger.t:.1f}s: {what})",
        state="not created",
        reason="trigger failed" if trigger.created is False else "trigger failed, run unknown",
        reference=None,
        end_date=None,
        elapsed_wall_s=None,
        elapsed_sim_s=None,
        over_by_wall_s=None,
        over_by_sim_s=None,
    )


def _classify(
    row: dict[str, Any], field: str, within_s: float, compression: float, end_t: float
) -> SlaRun | None:
    """None if the run met the SLA, else why it missed or was excluded."""
    reference_t = opt_float(row[f"{field}_t"])
    ended_t = opt_float(row["end_date_t"])
    state = str(row["state"])

    def run(reason: Reason, until_t: float | None) -> SlaRun:
        elapsed = None if until_t is None or reference_t is None else until_t - reference_t
        over = None if elapsed is None else elapsed * compression - within_s
        late = over is not None and over > _EPSILON
        return SlaRun(
            dag_id=str(row["dag_id"]),
            run_id=str(row["run_id"]),
            state=state,
            reason=reason,
            reference=opt_str(row[field]),
            end_date=opt_str(row["end_date"]),
            elapsed_wall_s=elapsed,
            elapsed_sim_s=None if elapsed is None else elapsed * compression,
            over_by_wall_s=over / compression if late and over is not None else None,
            over_by_sim_s=over if late else None,
        )

    if reference_t is None:
        return run("no reference", ended_t)
    if state == "success" and ended_t is not None:
        outcome = run("late", ended_t)
        return outcome if outcome.over_by_sim_s is not None else None
    if state == "failed":
        return run("failed", ended_t)
    at_end = run("unfinished past deadline", end_t)
    if at_end.over_by_sim_s is not None:
        return at_end
    return run(UNFINISHED_IN_TIME, end_t)
