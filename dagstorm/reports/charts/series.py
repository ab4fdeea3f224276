# mypy: disable-error-code="import-untyped"
"""The time series the report charts, read from the run directory's journal.

Charts are downsampled into fixed buckets (at most :data:`MAX_POINTS` per series)
so a 24 h soak gives a small file; exact numbers stay in the tables, which come
from the analysis :class:`~dagstorm.analysis.Result`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dagstorm.analysis.measures.compute import in_scope
from dagstorm.analysis.measures.scheduler.scheduler_metrics import (
    EXECUTABLE,
    OPEN_SLOTS,
    STARVING,
    starts_with,
)
from dagstorm.analysis.outputs.result import Result
from dagstorm.analysis.rundata.journal_scan import JournalScan
from dagstorm.analysis.rundata.load import load_run
from dagstorm.analysis.rundata.model import RunData
from dagstorm.core.quantiles import quantile
from dagstorm.reports.charts.chart import Band
from dagstorm.run.events import Kind

__all__ = [
    "MAX_POINTS",
    "Points",
    "RunSeries",
    "RunTiming",
    "read_series",
    "run_data_of",
    "series_of",
]

#: At most this many points per charted series.
MAX_POINTS = 240

Points = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class RunTiming:
    """One DAG run for the durations chart: its clock from queued to end (or the run's end)."""

    dag_id: str
    run_id: str
    state: str
    queued_t: float
    #: Wall seconds from queued to its end; to the end of the run when unfinished.
    elapsed_wall_s: float
    finished: bool


@dataclass(frozen=True)
class ExecutorLoss:
    """A ``spark_executor_lost`` event."""

    t: float
    app_name: str
    executor_id: str
    reason: str
    failed_tasks: int | None


@dataclass(frozen=True)
class RunSeries:
    """Everything the charts and the environment block read from the journal."""

    end_t: float
    #: Width of a chart bucket in wall seconds.
    bucket_s: float
    bands: tuple[Band, ...]
    #: Per series name (``generated``, ``acked``, ``failed``): records per second.
    records_per_s: Mapping[str, Points]
    mb_per_s: Points
    workload_kinds: tuple[str, ...]
    runs: tuple[RunTiming, ...]
    #: Per minute: tries started, retries started (try > 1), tries failed / up for retry.
    tries_per_min: Mapping[str, Points]
    #: Per minute of a try's start: its queued → running delay, p50 and p95 (wall s).
    queue_delay_s: Mapping[str, Points]
    #: StatsD scheduler gauges (executable / starving tasks, open slots): bucket means.
    scheduler_gauges: Mapping[str, Points]
    executor_losses: tuple[ExecutorLoss, ...]
    #: Per ``topic / group``.
    kafka_lag: Mapping[str, Points]
    #: Per component.
    cpu_pct: Mapping[str, Points]
    rss_mb: Mapping[str, Points]
    environment: Mapping[str, str]
    event_counts: Mapping[str, int]


def run_data_of(run_dir: Path, result: Result) -> RunData:
    """The run data ``result`` was computed from, or the run directory read again."""
    if result.data is not None and result.data.journal is not None:
        return result.data
    return load_run(Path(run_dir))


def read_series(run_dir: Path, result: Result) -> RunSeries:
    """Read ``run_dir/journal.jsonl`` into chartable series (reads only)."""
    return series_of(run_data_of(run_dir, result), result)


def series_of(data: RunData, result: Result) -> RunSeries:
    """Chartable series of the run ``data`` (from :func:`load_run`) analysed as ``result``."""
    end_t = max(result.run.wall_s, 1.0)
    bucket = float(max(1, math.ceil(end_t / MAX_POINTS)))
    scan = data.journal or JournalScan()
    by_kind: dict[str, list[Mapping[str, Any]]] = {}
    for event in sorted(scan.events, key=lambda e: (_float(e.get("seq")), _float(e.get("t")))):
        by_kind.setdefault(str(event.get("kind")), []).append(event)
    start = (by_kind.get(Kind.RUN_START) or [{}])[0]
    stats = scan.frame(Kind.WORKLOAD_STATS)
    return RunSeries(
        end_t=end_t,
        bucket_s=bucket,
        bands=_bands(by_kind, result, end_t),
        records_per_s={
            name: _rate(stats, field, bucket)
            for name, field in (("generated", "records"), ("acked", "acked"), ("failed", "failed"))
            if stats[field].notna().any()
        },
        mb_per_s=tuple((t, v / 1e6) for t, v in _rate(stats, "bytes", bucket)),
        workload_kinds=tuple(sorted({_text(k) for k in stats["workload_kind"].unique()})),
        runs=_runs(data.dag_runs, result, end_t),
        tries_per_min=_tries_per_minute(data.task_tries, end_t),
        queue_delay_s=_queue_delay_per_minute(data.task_tries),
        scheduler_gauges=_scheduler_gauges(data.statsd, bucket),
        executor_losses=tuple(
            ExecutorLoss(
                t=_float(e.get("t")),
                app_name=str(e.get("app_name") or e.get("app_id") or "?"),
                executor_id=str(e.get("executor_id") or "?"),
                reason=str(e.get("reason") or ""),
                failed_tasks=_int(e.get("failed_tasks")),
            )
            for e in by_kind.get(Kind.SPARK_EXECUTOR_LOST, [])
        ),
        kafka_lag=_grouped(
            scan.frame(Kind.KAFKA_LAG),
            names=_text_column(scan.frame(Kind.KAFKA_LAG), "topic")
            + " / "
            + _text_column(scan.frame(Kind.KAFKA_LAG), "group"),
            field="lag",
            bucket=bucket,
        ),
        cpu_pct=_grouped(
            scan.frame(Kind.PROCESS_STATS),
            names=_text_column(scan.frame(Kind.PROCESS_STATS), "component"),
            field="cpu_pct",
            bucket=bucket,
        ),
        rss_mb=_grouped(
            scan.frame(Kind.PROCESS_STATS),
            names=_text_column(scan.frame(Kind.PROCESS_STATS), "component"),
            field="rss_mb",
            bucket=bucket,
        ),
        environment={str(k): str(v) for k, v in (start.get("environment") or {}).items()},
        event_counts={k: n for k, n in sorted(scan.counts.items()) if n},
    )


def _text(value: Any) -> str:
    """A journal text field as str() of its JSON value gives it (a missing one is "None")."""
    return (
        "None" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    )


def _text_column(frame: pd.DataFrame, column: str) -> pd.Series:
    """The column as str() of each JSON value ("None" for a missing one), as objects."""
    codes, uniques = pd.factorize(frame[column])
    names = np.array([*(_text(u) for u in uniques), "None"], dtype=object)
    return pd.Series(names[codes], index=frame.index)


def _float(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return 0.0


def _int(value: Any) -> int | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return int(value)
    return None


def _bands(
    by_kind: Mapping[str, list[Mapping[str, Any]]], result: Result, end_t: float
) -> tuple[Band, ...]:
    """Phases as they happened (phase_start/phase_end, drain included), then fault windows."""
    opened: dict[str, float] = {}
    bands: list[Band] = []
    for event in [*by_kind.get(Kind.PHASE_START, []), *by_kind.get(Kind.PHASE_END, [])]:
        name = str(event.get("phase"))
        if event.get("kind") == Kind.PHASE_START:
            opened[name] = _float(event.get("t"))
    ends = {str(e.get("phase")): _float(e.get("t")) for e in by_kind.get(Kind.PHASE_END, [])}
    for name, start in sorted(opened.items(), key=lambda item: item[1]):
        bands.append(Band(start, ends.get(name, end_t), name, "phase"))
    if not bands:
        bands = [Band(p.start_s, p.end_s, p.name, "phase") for p in result.scenario.phases]
    if result.measures.recovery:
        for fault in result.measures.recovery[0].faults:
            bands.append(Band(fault.start_t, fault.end_t, fault.fault, "fault"))
    return tuple(bands)


def _rate(stats: pd.DataFrame, field: str, bucket: float) -> Points:
    """Per-second rate of ``field`` per bucket, summed over workloads.

    Each workload's rate in a bucket is its ``field`` total over the seconds its
    intervals cover (not the bucket width), so a bucket that happens to hold one
    sample instead of two does not show a false dip.
    """
    rows = stats[stats[field].notna()]
    if rows.empty:
        return ()
    seconds = pd.to_numeric(rows["interval_s"], errors="coerce").fillna(0.0)
    frame = pd.DataFrame(
        {
            "index": (pd.to_numeric(rows["t"], errors="coerce").fillna(0.0) // bucket).astype(int),
            "workload": _text_column(rows, "workload"),
            "amount": pd.to_numeric(rows[field], errors="coerce").fillna(0.0),
            "seconds": seconds.where(seconds != 0.0, 1.0),
        }
    )
    rates: dict[int, float] = {}
    for (index, _), (amount, spent), _ in _folds(
        frame, ["index", "workload"], ["amount", "seconds"]
    ):
        rates[int(index)] = rates.get(int(index), 0.0) + amount / spent
    return tuple((index * bucket, rates[index]) for index in sorted(rates))


def _grouped(
    frame: pd.DataFrame, *, names: pd.Series, field: str, bucket: float
) -> dict[str, Points]:
    """Mean of ``field`` per bucket, for each group name (sorted by name)."""
    values = pd.to_numeric(frame[field], errors="coerce").astype(float)
    keep = pd.Series(np.isfinite(values.to_numpy()), index=values.index)
    if not keep.any():
        return {}
    rows = pd.DataFrame(
        {
            "name": names[keep],
            "index": (
                pd.to_numeric(frame.loc[keep, "t"], errors="coerce").fillna(0.0) // bucket
            ).astype(int),
            "value": values[keep].astype(float),
        }
    )
    out: dict[str, list[tuple[float, float]]] = {}
    for (name, index), (total,), count in _folds(rows, ["name", "index"], ["value"]):
        out.setdefault(str(name), []).append((int(index) * bucket, total / count))
    return {name: tuple(points) for name, points in sorted(out.items())}


def _folds(
    frame: pd.DataFrame, keys: list[str], values: list[str]
) -> list[tuple[tuple[Any, ...], list[float], int]]:
    """Per group (sorted by ``keys``): each value column summed left to right, and the count.

    A plain left fold in journal order (``cumsum`` is sequential), as a loop over the
    events adds them, so the charts do not change in the last digit with how the
    frame was built.
    """
    arrays = {c: frame[c].to_numpy(dtype=float) for c in values}
    groups = frame.groupby(keys, sort=True).indices
    out = []
    for key in sorted(groups):
        rows = groups[key]
        sums = [float(np.cumsum(arrays[c][rows])[-1]) for c in values]
        out.append((tuple(key), sums, len(rows)))
    return out


def _runs(dag_runs: pd.DataFrame, result: Result, end_t: float) -> tuple[RunTiming, ...]:
    """The runs of every DAG an SLA SLO names (the runs the SLA is judged on), by queue time."""
    dags = sorted({m.dag_id for m in result.measures.sla})
    timings: list[RunTiming] = []
    for dag in dags:
        for row in in_scope(dag_runs, dag).to_dict("records"):
            queued = row.get("queued_at_t")
            if queued is None or not math.isfinite(float(queued)):
                continue
            ended = row.get("end_date_t")
            finished = ended is not None and math.isfinite(float(ended))
            until = float(ended) if finished else end_t
            timings.append(
                RunTiming(
                    dag_id=str(row["dag_id"]),
                    run_id=str(row["run_id"]),
                    state=str(row["state"]),
                    queued_t=float(queued),
                    elapsed_wall_s=max(until - float(queued), 0.0),
                    finished=finished,
                )
            )
    return tuple(sorted(timings, key=lambda r: (r.queued_t, r.dag_id, r.run_id)))


def _queue_delay_per_minute(tries: pd.DataFrame) -> dict[str, Points]:
    """p50 and p95 (nearest rank) of queued → running, by the minute tries started."""
    if tries.empty:
        return {}
    start = pd.to_numeric(tries["start_date_t"], errors="coerce")
    delay = start - pd.to_numeric(tries["queued_when_t"], errors="coerce")
    frame = pd.DataFrame({"minute": start // 60, "delay": delay}).dropna()
    frame = frame[frame["minute"] >= 0]
    if frame.empty:
        return {}
    out: dict[str, list[tuple[float, float]]] = {"p50": [], "p95": []}
    for minute, rows in frame.groupby("minute", sort=True):
        values = rows["delay"].tolist()
        for name, q in (("p50", 0.50), ("p95", 0.95)):
            value = quantile(values, q)
            if value is not None:
                out[name].append((float(minute) * 60.0, value))
    return {name: tuple(points) for name, points in out.items() if points}


#: StatsD gauges charted, by metric-name prefix (Airflow may add a pool or executor suffix).
SCHEDULER_GAUGES = (
    ("executable tasks", EXECUTABLE),
    ("starving tasks", STARVING),
    ("open executor slots", OPEN_SLOTS),
    ("running tasks (default pool)", "pool.running_slots.default_pool"),
)


def _scheduler_gauges(statsd: pd.DataFrame, bucket: float) -> dict[str, Points]:
    """Bucket means of the scheduler's StatsD gauges (summed over suffixes per sample time)."""
    if statsd.empty:
        return {}
    gauges = statsd[statsd["type"] == "gauge"]
    out: dict[str, Points] = {}
    for name, prefix in SCHEDULER_GAUGES:
        rows = gauges[starts_with(gauges["metric"], prefix)]
        if rows.empty or rows["value"].nunique(dropna=True) <= 1:
            continue  # a gauge that never changed is named in the note, not drawn
        per_t = rows.groupby("t", sort=True)["value"].sum()
        frame = pd.DataFrame({"index": (per_t.index.to_series() // bucket).astype(int)})
        frame["value"] = per_t.to_numpy(dtype=float)
        means = frame.groupby("index", sort=True)["value"].mean()
        out[name] = tuple((int(i) * bucket, float(v)) for i, v in means.items())
    return out


def _tries_per_minute(tries: pd.DataFrame, end_t: float) -> dict[str, Points]:
    """Task tries started, retries started and failures, per minute of the run."""
    if tries.empty:
        return {}
    minutes = int(end_t // 60) + 1

    def per_minute(times: pd.Series) -> Points:
        counts = [0] * minutes
        for t in times.dropna():
            if 0 <= t < minutes * 60:
                counts[int(t // 60)] += 1
        return tuple((m * 60.0, float(c)) for m, c in enumerate(counts))

    tries_number = pd.to_numeric(tries["try_number"], errors="coerce")
    failed = tries["state"].isin(["failed", "up_for_retry"])
    return {
        "tries started": per_minute(tries["start_date_t"]),
        "retries started (try > 1)": per_minute(tries.loc[tries_number > 1, "start_date_t"]),
        "tries failed / up for retry": per_minute(tries.loc[failed, "end_date_t"]),
    }
