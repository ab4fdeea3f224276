# mypy: disable-error-code="import-untyped"
"""Data completeness: the ledger's ground truth against what the pipeline loaded.

Counts are events per (campaign_id, ad_id, hour, event_type), where hour is the
UTC hour of the event's time. From the ledger (:func:`expected_counts`: valid and
late lines, each event once):

- generated: what the generator produced;
- acked: what Kafka acknowledged (when the workload sent to Kafka);
- expected: what a correct pipeline loads — acked when the ledger has acked
  counts, else written (in committed landing files). Only partitions that were
  finished (a ``partition_written`` event, i.e. a ``_SUCCESS`` marker) are
  expected when the journal has such events: an unfinished partition can never
  be loaded. Nor is a partition whose DAG run (``conf.partition_hour``) was still
  queued or running when the run ended, with no successful run for it: it is *in
  flight*, not lost (a run stuck for good shows in the SLA instead);
- loaded: ``serving.parquet`` (impressions, clicks, conversions per
  campaign_id, ad_id, hour), restricted to the hours the ledger expects.

lost = Σ max(0, expected − loaded) and duplicated = Σ max(0, loaded − expected),
each over (campaign, ad, hour, event type), so a surplus in one cell never hides
a loss in another. Without ``serving.parquet`` (or a ledger) completeness is *not
measured* — never 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from dagstorm.analysis.measures.cells import is_missing
from dagstorm.workloads.model.schema import COUNTED_LABELS, EVENT_TYPES, Label
from dagstorm.workloads.sinks.ledger import Column, expected_counts

KEY = ["campaign_id", "ad_id", "hour", "event_type"]
COUNTS = ("generated", "acked", "expected", "loaded")
_EVENT_COLUMNS = {f"{t}s": t for t in EVENT_TYPES}


@dataclass(frozen=True)
class CountsRow:
    """Events of one slice (an hour, a campaign, an event type or the total)."""

    key: str
    generated: int
    acked: int | None
    expected: int
    loaded: int | None
    lost: int | None
    duplicated: int | None


@dataclass(frozen=True)
class BadRecords:
    """Bad lines injected into the landing data vs quarantined by the pipeline."""

    #: Broken lines (malformed, drifted) in the expected basis; None without a ledger.
    injected: int | None
    #: Lines per bad label (malformed, drift_*, duplicate).
    injected_by_label: Mapping[str, int]
    duplicates_injected: int | None
    #: From ``partition_loads.parquet`` (bad_records); None when not available.
    quarantined: int | None
    duplicates_dropped: int | None
    #: Why quarantined is None.
    quarantined_absent: str | None


@dataclass(frozen=True)
class DataCompleteness:
    """Lost and duplicated events, per hour and per campaign."""

    measured: bool
    #: Why not measured (None when measured).
    reason: str | None
    #: ``acked`` or ``written``: the ledger column the expected counts come from.
    basis: str | None
    lost_events: int | None
    duplicate_events: int | None
    total: CountsRow | None
    per_hour: tuple[CountsRow, ...]
    per_campaign: tuple[CountsRow, ...]
    per_event_type: tuple[CountsRow, ...]
    #: Partitions in the ledger that were never finished (not expected), and their events.
    unfinished_partitions: int
    unfinished_partition_events: int
    #: Partitions whose load was still in flight at the end (not expected), and their events.
    in_flight_partitions: int
    in_flight_partition_events: int
    #: Serving rows (and their events) outside the hours the ledger expects: ignored.
    ignored_serving_rows: int
    ignored_serving_events: int
    bad_records: BadRecords


def data_completeness(
    ledger: pd.DataFrame | None,
    serving: pd.DataFrame | None,
    *,
    partitions: pd.DataFrame,
    partition_loads: pd.DataFrame | None = None,
    dag_runs: pd.DataFrame | None = None,
    absent: Mapping[str, str] | None = None,
) -> DataCompleteness:
    """Compare the ledger with the serving data (see the module docstring)."""
    absent = absent or {}
    if ledger is None:
        reason = absent.get("ledger", "no ledger in the run directory")
        return _unmeasured(reason, _bad_records(None, None, partition_loads, absent))
    ledger, unfinished = _drop_partitions(ledger, _unfinished_hours(ledger, partitions))
    ledger, in_flight = _drop_partitions(ledger, _in_flight_hours(dag_runs))
    basis = "acked" if len(ledger) and bool(ledger["acked"].notna().all()) else "written"
    cells = _cells(ledger, basis)
    bad = _bad_records(ledger, basis, partition_loads, absent)
    ignored_rows = ignored_events = 0
    measured = serving is not None
    if serving is None:
        cells["loaded"] = 0
    else:
        loaded, ignored_rows, ignored_events = _loaded(serving, set(cells["hour"]))
        cells = cells.merge(loaded, on=KEY, how="outer")
        cells[list(COUNTS)] = cells[list(COUNTS)].fillna(0).astype("int64")
        cells["lost"] = (cells["expected"] - cells["loaded"]).clip(lower=0)
        cells["duplicated"] = (cells["loaded"] - cells["expected"]).clip(lower=0)
    has_acked = basis == "acked"
    total = _total(cells, has_acked, measured)
    return DataCompleteness(
        measured=measured,
        reason=None if measured else absent.get("serving", "no serving.parquet"),
        basis=basis,
        lost_events=total.lost,
        duplicate_events=total.duplicated,
        total=total,
        per_hour=_rows(cells, "hour", has_acked, measured),
        per_campaign=_rows(cells, "campaign_id", has_acked, measured),
        per_event_type=_rows(cells, "event_type", has_acked, measured),
        unfinished_partitions=unfinished[0],
        unfinished_partition_events=unfinished[1],
        in_flight_partitions=in_flight[0],
        in_flight_partition_events=in_flight[1],
        ignored_serving_rows=ignored_rows,
        ignored_serving_events=ignored_events,
        bad_records=bad,
    )


def _unmeasured(reason: str, bad: BadRecords) -> DataCompleteness:
    return DataCompleteness(
        measured=False,
        reason=reason,
        basis=None,
        lost_events=None,
        duplicate_events=None,
        total=None,
        per_hour=(),
        per_campaign=(),
        per_event_type=(),
        unfinished_partitions=0,
        unfinished_partition_events=0,
        in_flight_partitions=0,
        in_flight_partition_events=0,
        ignored_serving_rows=0,
        ignored_serving_events=0,
        bad_records=bad,
    )


def hour_keys(values: pd.Series) -> pd.Series:
    """UTC hours as ``YYYY-MM-DDTHH:00:00Z`` (NaN where unparseable)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = pd.to_datetime(values, utc=True)
    else:
        stamps = pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")
    return stamps.dt.floor("h").dt.strftime("%Y-%m-%dT%H:00:00Z")


def id_keys(values: pd.Series) -> pd.Series:
    """Campaign / ad ids as text (the ledger has integers, the serving DB text)."""
    if pd.api.types.is_numeric_dtype(values):
        return values.round().astype("Int64").astype(str)
    return values.astype(str).str.strip()


def _unfinished_hours(ledger: pd.DataFrame, partitions: pd.DataFrame) -> set[str]:
    """Partition hours of the ledger without a ``partition_written`` event (none if no events)."""
    if partitions.empty or ledger.empty:
        return set()
    finished = {
        f"{dt}T{int(hour):02d}:00:00Z"
        for dt, hour in zip(partitions["dt"], partitions["hour"], strict=True)
        if not is_missing(dt) and not is_missing(hour)
    }
    return set(hour_keys(ledger["partition_hour"])) - finished


def _in_flight_hours(dag_runs: pd.DataFrame | None) -> set[str]:
    """Partition hours with a DAG run queued or running at the end and none succeeded.

    Only the runs this run asked for count (``triggered``, where the frame says): a run
    a previous run left queued may load the same hour (the same seed writes the same
    hours) while this run's own load of it is still under way.
    """
    if dag_runs is None or dag_runs.empty:
        return set()
    runs = dag_runs[dag_runs["partition_hour"].notna()]
    if "triggered" in runs.columns:
        runs = runs[runs["triggered"].fillna(False).astype(bool)]
    runs = runs.copy()
    runs["key"] = hour_keys(runs["partition_hour"].astype(str).str.slice(0, 13) + ":00:00Z")
    loaded = set(runs.loc[runs["state"] == "success", "key"].dropna())
    pending = set(runs.loc[runs["state"].isin(("queued", "running")), "key"].dropna())
    return pending - loaded


def _drop_partitions(ledger: pd.DataFrame, hours: set[str]) -> tuple[pd.DataFrame, tuple[int, int]]:
    """The ledger without partitions ``hours``, and (partitions dropped, their events)."""
    if not hours or ledger.empty:
        return ledger, (0, 0)
    keys = hour_keys(ledger["partition_hour"])
    drop = keys.isin(hours)
    dropped = ledger[drop]
    counted = dropped[dropped["label"].isin([label.slug for label in COUNTED_LABELS])]
    return ledger[~drop], (int(keys[drop].nunique()), int(counted["generated"].sum()))


def _cells(ledger: pd.DataFrame, basis: str) -> pd.DataFrame:
    """Generated, acked and expected events per (campaign, ad, hour, event type)."""
    columns: list[Column] = ["generated", "acked" if basis == "acked" else "written"]
    parts = []
    for column in columns:
        long = _long(expected_counts(ledger, column) if len(ledger) else None, "event_hour")
        parts.append(long.rename(columns={"n": column}).set_index(KEY))
    cells = pd.concat(parts, axis=1).fillna(0).astype("int64").reset_index()
    cells["expected"] = cells[basis]
    if basis != "acked":
        cells["acked"] = 0
        cells = cells.drop(columns=[basis])
    return cells


def _long(frame: pd.DataFrame | None, hour_column: str) -> pd.DataFrame:
    """Wide impressions/clicks/conversions → one row per event type (column ``n``)."""
    if frame is None or frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in KEY}).assign(n=0)
    wide = pd.DataFrame(
        {
            "campaign_id": id_keys(frame["campaign_id"]),
            "ad_id": id_keys(frame["ad_id"]),
            "hour": hour_keys(frame[hour_column]),
        }
    )
    present = [c for c in _EVENT_COLUMNS if c in frame.columns]
    for column in present:
        wide[column] = pd.to_numeric(frame[column], errors="coerce").fillna(0).astype("int64")
    long = wide.melt(id_vars=["campaign_id", "ad_id", "hour"], value_vars=present, value_name="n")
    long["event_type"] = long["variable"].map(_EVENT_COLUMNS)
    grouped = long.groupby(KEY, as_index=False, dropna=False)["n"].sum()
    return grouped[grouped["n"] != 0] if len(grouped) else grouped


def _loaded(serving: pd.DataFrame, hours: set[str]) -> tuple[pd.DataFrame, int, int]:
    """Loaded counts in the expected hours; (rows, events) outside them are ignored."""
    keys = hour_keys(serving["hour"])
    inside = keys.isin(hours)
    outside = serving[~inside]
    events = sum(
        int(pd.to_numeric(outside[c], errors="coerce").fillna(0).sum()) for c in _EVENT_COLUMNS
    )
    loaded = _long(serving[inside], "hour").rename(columns={"n": "loaded"})
    return loaded, int((~inside).sum()), events


def _total(cells: pd.DataFrame, has_acked: bool, measured: bool) -> CountsRow:
    rows = _rows(cells.assign(total="total"), "total", has_acked, measured)
    if rows:
        return rows[0]
    zero = 0 if measured else None
    return CountsRow("total", 0, 0 if has_acked else None, 0, zero, zero, zero)


def _rows(cells: pd.DataFrame, by: str, has_acked: bool, measured: bool) -> tuple[CountsRow, ...]:
    if cells.empty:
        return ()
    columns = [c for c in (*COUNTS, "lost", "duplicated") if c in cells.columns]
    sums = cells.groupby(by, sort=True)[columns].sum()
    return tuple(
        CountsRow(
            key=str(key),
            generated=int(row["generated"]),
            acked=int(row["acked"]) if has_acked else None,
            expected=int(row["expected"]),
            loaded=int(row["loaded"]) if measured else None,
            lost=int(row["lost"]) if measured else None,
            duplicated=int(row["duplicated"]) if measured else None,
        )
        for key, row in sums.iterrows()
    )


def _bad_records(
    ledger: pd.DataFrame | None,
    basis: str | None,
    partition_loads: pd.DataFrame | None,
    absent: Mapping[str, str],
) -> BadRecords:
    by_label: dict[str, int] = {}
    injected = duplicates = None
    if ledger is not None and basis is not None:
        column = basis if basis in ledger.columns else "written"
        bad = ledger[~ledger["label"].isin([label.slug for label in COUNTED_LABELS])]
        sums = bad.groupby("label")[column].sum()
        by_label = {str(k): int(sums[k]) for k in sorted(sums.index) if int(sums[k])}
        injected = sum(n for label, n in by_label.items() if label != Label.DUPLICATE.slug)
        duplicates = by_label.get(Label.DUPLICATE.slug, 0)
    quarantined = dropped = None
    why: str | None = absent.get("partition_loads", "no partition_loads.parquet")
    if partition_loads is not None:
        why = None
        if "bad_records" in partition_loads.columns:
            quarantined = int(pd.to_numeric(partition_loads["bad_records"]).fillna(0).sum())
        else:
            why = "partition_loads.parquet has no bad_records column"
        if "duplicate_records" in partition_loads.columns:
            dropped = int(pd.to_numeric(partition_loads["duplicate_records"]).fillna(0).sum())
    return BadRecords(injected, by_label, duplicates, quarantined, dropped, why)
