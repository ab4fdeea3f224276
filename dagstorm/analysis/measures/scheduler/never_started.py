# mypy: disable-error-code="import-untyped"
"""Task tries that ended without ever starting: work the executor lost.

A try whose last state is ``failed`` or ``up_for_retry`` (or, in principle,
``success``) but that has no ``start_date`` never ran anywhere: typically a queued
try that a restarted scheduler failed (its executor lost it). Scheduler
throughput leaves these out; this measure counts them, per state and per wall
minute of their ``end_date`` (or of when the probe first saw them without one).

A try can also be lost with no trace in Airflow: one failed while queued (its
executor could not take it, a broker down) becomes ``up_for_retry`` and the next
try takes over its row, and Airflow keeps a history row only of a try that ran
(``TaskInstance.handle_failure`` records one for a ``running`` try). When that
happens between two polls the probe never sees the try; its number is skipped
among the tries seen (try 1, then 3). Such a gap is counted too, as
``unrecorded``, at the moment the next try seen was queued: the probe fetches
every try Airflow has a row of, so a number it never saw is a try that never ran.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from dagstorm.analysis.measures.scheduler.throughput import FINISHED, MINUTE

#: How many tries the evidence names.
SHOWN = 20
#: The state of a try known only by its number (see the module docstring).
UNRECORDED = "unrecorded"
#: The columns that name one task instance (its tries differ by ``try_number``).
_INSTANCE = ["dag_id", "run_id", "task_id", "map_index"]


@dataclass(frozen=True)
class TriesNeverStarted:
    """Tries that ended in a finished state with no ``start_date``."""

    count: int
    by_state: dict[str, int]
    #: ``{minute, count}`` per wall minute of the end (minutes with none left out).
    per_minute: tuple[dict[str, int], ...]
    #: The first :data:`SHOWN` of them: ``dag_id/run_id/task_id[map]#try``.
    tries: tuple[str, ...]
    #: Of ``count``: tries known only by their number, skipped among the tries seen.
    unrecorded: int = 0


def tries_never_started(task_tries: pd.DataFrame, *, end_t: float) -> TriesNeverStarted:
    """The tries of ``task_tries`` that finished without having started, during the run.

    A try counts when its end (or, without one, when the probe first saw it) lies
    in ``[0, end_t]``: one a leftover run ended just before the run began, or the
    last sample saw end after observation stopped, is not this run's.
    """
    lost = task_tries[task_tries["state"].isin(FINISHED) & task_tries["start_date_t"].isna()]
    lost = lost.assign(moment=lost["end_date_t"].fillna(lost["first_seen_t"]))
    gaps = unrecorded_tries(task_tries)
    lost = pd.concat([lost, gaps]) if len(gaps) else lost
    lost = lost[(lost["moment"] >= 0) & (lost["moment"] <= end_t)]
    lost = lost.sort_values(["moment", "dag_id", "run_id", "task_id"], kind="stable")
    when = lost["moment"]
    minutes: dict[int, int] = {}
    for t in when.dropna():
        m = math.floor(float(t) / MINUTE)
        minutes[m] = minutes.get(m, 0) + 1
    return TriesNeverStarted(
        count=len(lost),
        by_state={str(k): int(v) for k, v in lost["state"].value_counts().sort_index().items()},
        per_minute=tuple({"minute": m, "count": c} for m, c in sorted(minutes.items())),
        tries=tuple(_name(r) for r in lost.head(SHOWN).to_dict("records")),
        unrecorded=int((lost["state"] == UNRECORDED).sum()),
    )


def unrecorded_tries(task_tries: pd.DataFrame) -> pd.DataFrame:
    """The try numbers skipped among each task instance's tries seen, as rows.

    One row per missing number below the highest seen (try 0, a task instance not
    scheduled yet, is not a try): state :data:`UNRECORDED`, no dates, ``moment`` the
    next try seen's ``queued_when`` (or when the probe first saw it).
    """
    columns = [*_INSTANCE, "try_number", "state", "moment"]
    tries = task_tries[task_tries["try_number"].fillna(0) >= 1]
    shape = tries.groupby(_INSTANCE, dropna=False, sort=False)["try_number"].agg(["max", "nunique"])
    gapped = shape[shape["max"] > shape["nunique"]]
    if gapped.empty:
        return pd.DataFrame(columns=columns)
    rows: list[dict[str, object]] = []
    by_instance = tries.set_index(_INSTANCE).sort_index()
    for key in gapped.index:
        mine = by_instance.loc[[key]].sort_values("try_number")
        seen = [int(n) for n in mine["try_number"]]
        for missing in sorted(set(range(1, max(seen))) - set(seen)):
            later = mine[mine["try_number"] > missing].iloc[0]
            queued = later["queued_when_t"]
            moment = float(queued) if pd.notna(queued) else float(later["first_seen_t"])
            rows.append(
                {
                    **dict(zip(_INSTANCE, key, strict=True)),
                    "try_number": missing,
                    "state": UNRECORDED,
                    "moment": moment,
                }
            )
    return pd.DataFrame(rows, columns=columns)


def _name(row: dict[str, object]) -> str:
    index = row.get("map_index")
    mapped = "" if index is None or pd.isna(index) or int(str(index)) < 0 else f"[{index}]"
    return f"{row['dag_id']}/{row['run_id']}/{row['task_id']}{mapped}#{row['try_number']}"
