# mypy: disable-error-code="import-untyped"
"""API triggers that errored, and whether Airflow created their run anyway.

Each ``dag_triggered`` event with ``ok: false`` is a trigger error. dagstorm's
triggers ask for their own ``dag_run_id`` (``dagstorm__<stamp>_<rand>__<workload>_<n>``),
so the journal's ``dag_run`` events say whether the run appeared anyway (a
``ReadTimeout`` after Airflow committed the run):

- **created anyway**: a run with that id appeared — it is just a run;
- **never created**: no run with that id appeared by the end of the run — the SLA
  counts it as missed (``trigger failed``);
- **unknown**: the trigger named no run id — an event posted on an asset (the
  scheduler, not the request, starts its runs), or an older journal — the SLA
  excludes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dagstorm.analysis.measures.cells import opt_float, opt_str


@dataclass(frozen=True)
class TriggerError:
    """One trigger that errored."""

    t: float
    dag_id: str
    run_id: str | None
    workload: str | None
    status: int | None
    error: str | None
    #: The run appeared anyway (True), never did (False), or no run id to tell (None).
    created: bool | None


@dataclass(frozen=True)
class TriggerErrors:
    """The run's API triggers and their errors."""

    triggers: int
    errors: int
    created_anyway: int
    never_created: int
    unknown: int
    #: Errors by what went wrong (``ReadTimeout``, ``HTTP 409``, …).
    by_error: dict[str, int]
    rows: tuple[TriggerError, ...]

    def for_dag(self, dag_id: str) -> tuple[TriggerError, ...]:
        """The errors of ``dag_id``'s triggers."""
        return tuple(r for r in self.rows if r.dag_id == dag_id)


def trigger_errors(triggers: pd.DataFrame, dag_runs: pd.DataFrame) -> TriggerErrors:
    """Trigger errors of ``triggers`` (``dag_triggered`` events) against the runs seen."""
    seen = set(zip(dag_runs["dag_id"].astype(str), dag_runs["run_id"].astype(str), strict=True))
    rows: list[TriggerError] = []
    for row in triggers[triggers["ok"] != True].to_dict("records"):  # noqa: E712 - NaN is not ok
        run_id = opt_str(row["run_id"])
        dag_id = str(row["dag_id"])
        status = opt_float(row["status"])
        rows.append(
            TriggerError(
                t=float(row["t"]),
                dag_id=dag_id,
                run_id=run_id,
                workload=opt_str(row["workload"]),
                status=int(status) if status else None,
                error=opt_str(row["error"]),
                created=None if run_id is None else (dag_id, run_id) in seen,
            )
        )
    by_error: dict[str, int] = {}
    for r in rows:
        key = _what(r)
        by_error[key] = by_error.get(key, 0) + 1
    return TriggerErrors(
        triggers=len(triggers),
        errors=len(rows),
        created_anyway=sum(1 for r in rows if r.created is True),
        never_created=sum(1 for r in rows if r.created is False),
        unknown=sum(1 for r in rows if r.created is None),
        by_error=dict(sorted(by_error.items())),
        rows=tuple(rows),
    )


def _what(row: TriggerError) -> str:
    if row.status:
        return f"HTTP {row.status}"
    return (row.error or "error").split(":")[0][:60]
