# mypy: disable-error-code="import-untyped"
"""Task tries that ended without ever starting: work the executor lost.

A try whose last state is ``failed`` or ``up_for_retry`` (or, in principle,
``success``) but that has no ``start_date`` never ran anywhere: typically a queued
try that a restarted scheduler failed (its executor lost it). Scheduler
throughput leaves these out; this measure counts them, per state and per wall
minute of their ``end_date`` (or of when the probe first saw them without one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from dagstorm.analysis.measures.scheduler.throughput import FINISHED, MINUTE

#: How many tries the evidence names.
SHOWN = 20


@dataclass(frozen=True)
class TriesNeverStarted:
    """Tries that ended in a finished state with no ``start_date``."""

    count: int
    by_state: dict[str, int]
    #: ``{minute, count}`` per wall minute of the end (minutes with none left out).
    per_minute: tuple[dict[str, int], ...]
    #: The first :data:`SHOWN` of them: ``dag_id/run_id/task_id[map]#try``.
    tries: tuple[str, ...]


def tries_never_started(task_tries: pd.DataFrame, *, end_t: float) -> TriesNeverStarted:
    """The tries of ``task_tries`` that finished without having started, during the run.

    A try counts when its end (or, without one, when the probe first saw it) lies
    in ``[0, end_t]``: one a leftover run ended just before the run began, or the
    last sample saw end after observation stopped, is not this run's.
    """
    lost = task_tries[task_tries["state"].isin(FINISHED) & task_tries["start_date_t"].isna()]
    moment = lost["end_date_t"].fillna(lost["first_seen_t"])
    lost = lost[(moment >= 0) & (moment <= end_t)]
    lost = lost.sort_values(["end_date_t", "dag_id", "run_id", "task_id"], kind="stable")
    when = lost["end_date_t"].fillna(lost["first_seen_t"])
    minutes: dict[int, int] = {}
    for t in when.dropna():
        m = math.floor(float(t) / MINUTE)
        minutes[m] = minutes.get(m, 0) + 1
    return TriesNeverStarted(
        count=len(lost),
        by_state={str(k): int(v) for k, v in lost["state"].value_counts().sort_index().items()},
        per_minute=tuple({"minute": m, "count": c} for m, c in sorted(minutes.items())),
        tries=tuple(_name(r) for r in lost.head(SHOWN).to_dict("records")),
    )


def _name(row: dict[str, object]) -> str:
    index = row.get("map_index")
    mapped = "" if index is None or pd.isna(index) or int(str(index)) < 0 else f"[{index}]"
    return f"{row['dag_id']}/{row['run_id']}/{row['task_id']}{mapped}#{row['try_number']}"
