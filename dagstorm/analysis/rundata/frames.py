# mypy: disable-error-code="import-untyped"
"""Journal events as typed frames: one row an event, numbers as numbers, times on the run's axis.

:func:`event_frame` keeps ``seq``, ``t``, ``kind`` and the fields asked for;
:func:`last_state` keeps the last event of each key (a state change carries
every field); :func:`with_times` converts ISO-8601 times to wall seconds since
the start. Used by :func:`~.load.build_run_data`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from dagstorm.analysis.rundata.journal_scan import JournalScan
from dagstorm.analysis.rundata.model import WORKLOAD_STATS_FIELDS
from dagstorm.run.events import Kind

STATSD_FIELDS = ("metric", "type", "value", "count", "p50_ms", "p95_ms", "max_ms")
_EPOCH = pd.Timestamp(0, tz="UTC")


def statsd_frame(events: Sequence[Mapping[str, Any]], journal: JournalScan | None) -> pd.DataFrame:
    """The statsd frame, from dict events and the scan's batch-read samples."""
    frame = event_frame(events, STATSD_FIELDS)
    if journal is None or not journal.counts.get(Kind.STATSD):
        return frame
    bulk = journal.frame(Kind.STATSD).copy(deep=False)  # columns are replaced, never written
    bulk.insert(2, "kind", str(Kind.STATSD))
    if len(frame):
        bulk = pd.concat([frame, bulk.astype({"metric": object, "type": object})])
    return coerce(bulk.reset_index(drop=True))


def workload_stats_frame(
    events: Sequence[Mapping[str, Any]], journal: JournalScan | None
) -> pd.DataFrame:
    """The workload_stats samples, from dict events and the scan's batch-read ones."""
    frame = event_frame(events, WORKLOAD_STATS_FIELDS)
    if journal is None or not journal.counts.get(Kind.WORKLOAD_STATS):
        return frame
    bulk = journal.frame(Kind.WORKLOAD_STATS)
    return pd.concat([frame, bulk], ignore_index=True) if len(frame) else bulk


def samples_frame(
    kind: Kind,
    fields: Sequence[str],
    events: Sequence[Mapping[str, Any]],
    journal: JournalScan | None,
) -> pd.DataFrame:
    """A periodic ``kind``'s samples (``seq``, ``t`` and ``fields``), from dicts and the scan."""
    frame = event_frame(events, fields).drop(columns="kind")
    if journal is None or not journal.counts.get(kind):
        return frame
    bulk = journal.frame(kind)
    return pd.concat([frame, bulk], ignore_index=True) if len(frame) else bulk


#: Fields read as numbers (NaN when missing or not a number); integers as Int64.
_FLOATS = frozenset(
    {"t", "took_s", "duration", "value", "p50_ms", "p95_ms", "max_ms", "received_at"}
)
_INTEGERS = frozenset({"seq", "map_index", "try_number", "count", "hour", "records", "valid"})


def event_frame(events: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> pd.DataFrame:
    """``seq``, ``t``, ``kind`` and ``fields`` of each event (missing fields are None)."""
    columns = ["seq", "t", "kind", *fields]
    rows = [[event.get(c) for c in columns] for event in events]
    return coerce(pd.DataFrame(rows, columns=columns, dtype=object))


def coerce(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers as float (NaN when missing or not a number), integers as Int64, text as object."""
    for column in frame.columns:
        if column in _FLOATS:
            if frame[column].dtype != "float64":  # as is: no copy of millions of samples
                frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
        elif column in _INTEGERS:
            numbers = pd.to_numeric(frame[column], errors="coerce")
            frame[column] = numbers.round().astype("Int64")
    return frame


def last_state(
    events: Sequence[Mapping[str, Any]], fields: Sequence[str], key: list[str]
) -> pd.DataFrame:
    """The last event of each key (a state change carries every field), + first_seen_t."""
    frame = event_frame(events, fields)
    first_seen = frame.groupby(key, dropna=False, sort=False)["t"].transform("min")
    frame["first_seen_t"] = first_seen
    frame["changes"] = frame.groupby(key, dropna=False, sort=False)["t"].transform("size")
    last = frame.sort_values("seq", kind="stable").drop_duplicates(key, keep="last")
    return last.sort_values([*key], kind="stable").reset_index(drop=True)


def with_times(frame: pd.DataFrame, fields: Sequence[str], origin: float) -> pd.DataFrame:
    """Add ``<field>_t`` (wall seconds since the start) for each ISO-8601 field."""
    for name in fields:
        stamps = pd.to_datetime(frame[name], utc=True, format="ISO8601", errors="coerce")
        frame[f"{name}_t"] = ((stamps - _EPOCH) / pd.Timedelta(seconds=1)).astype(float) - origin
    return frame
