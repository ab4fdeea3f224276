# mypy: disable-error-code="import-untyped"
"""The time series the report charts, read from the run directory's journal.

Charts are downsampled into fixed buckets (at most :data:`MAX_POINTS` per series)
so a 24 h soak gives a small file; exact numbers stay in the tables, which come
from the analysis :class:`~dagstorm.analysis.Result`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from dagstorm.analysis.load import JOURNAL, build_run_data
from dagstorm.analysis.measures import in_scope
from dagstorm.analysis.result import Result
from dagstorm.engine.journal import read_journal
from dagstorm.reports.svg import Band

__all__ = ["MAX_POINTS", "Points", "RunSeries", "RunTiming", "read_series", "series_of"]

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
    executor_losses: tuple[ExecutorLoss, ...]
    #: Per ``topic / group``.
    kafka_lag: Mapping[str, Points]
    #: Per component.
    cpu_pct: Mapping[str, Points]
    rss_mb: Mapping[str, Points]
    environment: Mapping[str, str]
    event_counts: Mapping[str, int]


def read_series(run_dir: Path, result: Result) -> RunSeries:
    """Read ``run_dir/journal.jsonl`` into chartable series (reads only)."""
    return series_of(read_journal(Path(run_dir) / JOURNAL), run_dir, result)


def series_of(events: Sequence[Mapping[str, Any]], run_dir: Path, result: Result) -> RunSeries:
    """Chartable series of the journal ``events`` of the run analysed as ``result``."""
    end_t = max(result.run.wall_s, 1.0)
    bucket = float(max(1, math.ceil(end_t / MAX_POINTS)))
    by_kind: dict[str, list[Mapping[str, Any]]] = {}
    for event in sorted(events, key=lambda e: (_float(e.get("seq")), _float(e.get("t")))):
        by_kind.setdefault(str(event.get("kind")), []).append(event)
    start = (by_kind.get("run_start") or [{}])[0]
    stats = by_kind.get("workload_stats", [])
    data = build_run_data(events, run_dir=Path(run_dir))
    return RunSeries(
        end_t=end_t,
        bucket_s=bucket,
        bands=_bands(by_kind, result, end_t),
        records_per_s={
            name: _rate(stats, field, bucket)
            for name, field in (("generated", "records"), ("acked", "acked"), ("failed", "failed"))
            if any(e.get(field) is not None for e in stats)
        },
        mb_per_s=tuple((t, v / 1e6) for t, v in _rate(stats, "bytes", bucket)),
        workload_kinds=tuple(sorted({str(e.get("workload_kind")) for e in stats})),
        runs=_runs(data.dag_runs, result, end_t),
        tries_per_min=_tries_per_minute(data.task_tries, end_t),
        executor_losses=tuple(
            ExecutorLoss(
                t=_float(e.get("t")),
                app_name=str(e.get("app_name") or e.get("app_id") or "?"),
                executor_id=str(e.get("executor_id") or "?"),
                reason=str(e.get("reason") or ""),
                failed_tasks=_int(e.get("failed_tasks")),
            )
            for e in by_kind.get("spark_executor_lost", [])
        ),
        kafka_lag=_grouped(
            by_kind.get("kafka_lag", []),
            key=lambda e: f"{e.get('topic')} / {e.get('group')}",
            field="lag",
            bucket=bucket,
        ),
        cpu_pct=_grouped(
            by_kind.get("process_stats", []),
            key=lambda e: str(e.get("component")),
            field="cpu_pct",
            bucket=bucket,
        ),
        rss_mb=_grouped(
            by_kind.get("process_stats", []),
            key=lambda e: str(e.get("component")),
            field="rss_mb",
            bucket=bucket,
        ),
        environment={str(k): str(v) for k, v in (start.get("environment") or {}).items()},
        event_counts={k: len(v) for k, v in sorted(by_kind.items())},
    )


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
    for event in [*by_kind.get("phase_start", []), *by_kind.get("phase_end", [])]:
        name = str(event.get("phase"))
        if event.get("kind") == "phase_start":
            opened[name] = _float(event.get("t"))
    ends = {str(e.get("phase")): _float(e.get("t")) for e in by_kind.get("phase_end", [])}
    for name, start in sorted(opened.items(), key=lambda item: item[1]):
        bands.append(Band(start, ends.get(name, end_t), name, "phase"))
    if not bands:
        bands = [Band(p.start_s, p.end_s, p.name, "phase") for p in result.scenario.phases]
    if result.measures.recovery:
        for fault in result.measures.recovery[0].faults:
            bands.append(Band(fault.start_t, fault.end_t, fault.fault, "fault"))
    return tuple(bands)


def _bucketed(pairs: Iterable[tuple[float, float]], bucket: float, how: str) -> Points:
    """Sum or mean of ``(t, value)`` per bucket, at each bucket's start."""
    sums: dict[int, float] = {}
    counts: dict[int, int] = {}
    for t, value in pairs:
        if not math.isfinite(value):
            continue
        index = int(t // bucket)
        sums[index] = sums.get(index, 0.0) + value
        counts[index] = counts.get(index, 0) + 1
    return tuple(
        (index * bucket, sums[index] if how == "sum" else sums[index] / counts[index])
        for index in sorted(sums)
    )


def _rate(stats: Sequence[Mapping[str, Any]], field: str, bucket: float) -> Points:
    """Per-second rate of ``field`` per bucket, summed over workloads.

    Each workload's rate in a bucket is its ``field`` total over the seconds its
    intervals cover (not the bucket width), so a bucket that happens to hold one
    sample instead of two does not show a false dip.
    """
    totals: dict[tuple[int, str], list[float]] = {}
    for event in stats:
        if event.get(field) is None:
            continue
        key = (int(_float(event.get("t")) // bucket), str(event.get("workload")))
        row = totals.setdefault(key, [0.0, 0.0])
        row[0] += _float(event.get(field))
        row[1] += _float(event.get("interval_s")) or 1.0
    rates: dict[int, float] = {}
    for (index, _), (amount, seconds) in sorted(totals.items()):
        rates[index] = rates.get(index, 0.0) + amount / seconds
    return tuple((index * bucket, rates[index]) for index in sorted(rates))


def _grouped(
    events: Sequence[Mapping[str, Any]], *, key: Any, field: str, bucket: float
) -> dict[str, Points]:
    """Mean of ``field`` per bucket, for each group ``key(event)`` (sorted by name)."""
    groups: dict[str, list[tuple[float, float]]] = {}
    for event in events:
        value = event.get(field)
        if isinstance(value, int | float) and not isinstance(value, bool):
            groups.setdefault(key(event), []).append((_float(event.get("t")), float(value)))
    return {name: _bucketed(groups[name], bucket, "mean") for name in sorted(groups)}


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
