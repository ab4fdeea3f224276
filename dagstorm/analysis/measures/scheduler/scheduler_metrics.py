# mypy: disable-error-code="import-untyped"
"""Airflow's own StatsD figures, summarised over the run (``statsd`` events).

The StatsD probe emits one event per metric per interval. Over the run:

- gauge: mean, min and max of the interval values;
- counter: the total;
- timer: samples (sum of counts), the median of the intervals' p50, the highest
  interval p95 (an upper bound of the run's p95) and the highest max, in ms.

Headlines: executable and starving tasks (``scheduler.tasks.*``), open executor
slots (``executor.open_slots*``), running tasks and the scheduler loop duration.

A gauge whose value never changed during the run is **constant**: listed in
``constant_gauges`` with its value, and not a headline figure (LocalExecutor
reports ``executor.open_slots`` and ``executor.running_tasks`` once, unchanged,
while its tasks show in ``pool.running_slots.<pool>``). Running tasks come from
``executor.running_tasks`` when it changed, else from
``pool.running_slots.default_pool`` (``running_tasks_metric`` says which).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dagstorm.analysis.measures.cells import opt_float

EXECUTABLE = "scheduler.tasks.executable"
STARVING = "scheduler.tasks.starving"
OPEN_SLOTS = "executor.open_slots"
LOOP_DURATION = "scheduler.scheduler_loop_duration"
RUNNING_TASKS = ("executor.running_tasks", "pool.running_slots.default_pool")


@dataclass(frozen=True)
class GaugeRange:
    """The lowest and highest value a gauge reported (so far, for a live reader)."""

    low: float
    high: float

    @property
    def constant(self) -> bool:
        """True when the gauge never changed: not a headline figure."""
        return self.low == self.high

    def widened(self, value: float) -> GaugeRange:
        """The range once ``value`` is reported too."""
        return GaugeRange(min(self.low, value), max(self.high, value))


def running_tasks_gauge(ranges: Mapping[str, GaugeRange]) -> str | None:
    """The gauge running tasks are read from: the first of :data:`RUNNING_TASKS` that changed.

    LocalExecutor reports ``executor.running_tasks`` once and never again, while its
    tasks show in ``pool.running_slots.default_pool``; None when neither changed.
    """
    return next((n for n in RUNNING_TASKS if n in ranges and not ranges[n].constant), None)


#: The columns a metric's summary reads (grouping only these keeps millions of rows cheap).
_SUMMARISED = ("metric", "type", "value", "count", "p50_ms", "p95_ms", "max_ms")


@dataclass(frozen=True)
class MetricSummary:
    """One StatsD metric over the run (fields that do not apply to its type are None)."""

    metric: str
    type: str
    intervals: int
    mean: float | None = None
    min: float | None = None
    max: float | None = None
    total: float | None = None
    count: int | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    max_ms: float | None = None
    #: A gauge that never changed during the run (None: not a gauge).
    constant: bool | None = None


@dataclass(frozen=True)
class SchedulerMetrics:
    """StatsD figures; ``measured`` False when the journal has no statsd event."""

    measured: bool
    executable_max: float | None
    executable_mean: float | None
    starving_max: float | None
    starving_mean: float | None
    open_slots_min: float | None
    open_slots_mean: float | None
    loop_duration_p50_ms: float | None
    loop_duration_max_ms: float | None
    metrics: tuple[MetricSummary, ...]
    #: ``{metric: value}`` of the gauges that never changed (not headline figures).
    constant_gauges: dict[str, float | None] | None = None
    #: The gauge running tasks are read from, and its max and mean (None: none changed).
    running_tasks_metric: str | None = None
    running_tasks_max: float | None = None
    running_tasks_mean: float | None = None


def scheduler_metrics(statsd: pd.DataFrame) -> SchedulerMetrics:
    """Summaries of every metric in ``statsd``, and the headline figures."""
    summaries = tuple(
        _summary(str(metric), str(kind), rows)
        for (metric, kind), rows in statsd[list(_SUMMARISED)].groupby(["metric", "type"], sort=True)
    )

    def gauge(prefix: str) -> pd.Series:
        rows = statsd[starts_with(statsd["metric"], prefix)]
        return rows.loc[rows["type"] == "gauge", "value"].dropna()

    loop = statsd[starts_with(statsd["metric"], LOOP_DURATION) & (statsd["type"] == "timer")]
    executable, starving, slots = gauge(EXECUTABLE), gauge(STARVING), gauge(OPEN_SLOTS)
    constant = {m.metric: m.min for m in summaries if m.constant}
    gauges = {m.metric: m for m in summaries if m.type == "gauge" and m.constant is not None}
    ranges = {
        name: GaugeRange(m.min, m.max)
        for name, m in gauges.items()
        if m.min is not None and m.max is not None
    }
    running_name = running_tasks_gauge(ranges)
    running = None if running_name is None else gauges[running_name]
    return SchedulerMetrics(
        measured=len(statsd) > 0,
        executable_max=opt_float(executable.max()),
        executable_mean=opt_float(executable.mean()),
        starving_max=opt_float(starving.max()),
        starving_mean=opt_float(starving.mean()),
        open_slots_min=opt_float(slots.min()),
        open_slots_mean=opt_float(slots.mean()),
        loop_duration_p50_ms=_median(loop["p50_ms"]),
        loop_duration_max_ms=opt_float(loop["max_ms"].max()),
        metrics=summaries,
        constant_gauges=constant,
        running_tasks_metric=None if running is None else running.metric,
        running_tasks_max=None if running is None else running.max,
        running_tasks_mean=None if running is None else running.mean,
    )


def starts_with(names: pd.Series, prefix: str) -> pd.Series:
    """Which of ``names`` begin with ``prefix``, as ``names.astype(str)`` spells them.

    A categorical column (the journal scan's) is tested once per category, not
    once per row: millions of samples share a few dozen metric names.
    """
    if isinstance(names.dtype, pd.CategoricalDtype):
        categories = names.cat.categories.astype(str).str.startswith(prefix)
        hits = np.append(np.asarray(categories, dtype=bool), False)  # code -1: missing
        return pd.Series(hits[names.cat.codes.to_numpy()], index=names.index)
    return names.astype(str).str.startswith(prefix).fillna(False).astype(bool)


def _summary(metric: str, kind: str, rows: pd.DataFrame) -> MetricSummary:
    if kind == "gauge":
        values = rows["value"].dropna()
        return MetricSummary(
            metric,
            kind,
            len(rows),
            mean=opt_float(values.mean()),
            min=opt_float(values.min()),
            max=opt_float(values.max()),
            constant=bool(len(values))
            and GaugeRange(float(values.min()), float(values.max())).constant,
        )
    if kind == "counter":
        return MetricSummary(metric, kind, len(rows), total=float(rows["value"].fillna(0).sum()))
    return MetricSummary(
        metric,
        kind,
        len(rows),
        count=int(rows["count"].fillna(0).sum()),
        p50_ms=_median(rows["p50_ms"]),
        p95_ms=opt_float(rows["p95_ms"].max()),
        max_ms=opt_float(rows["max_ms"].max()),
    )


def _median(values: pd.Series) -> float | None:
    kept = values.dropna().tolist()
    return float(statistics.median(kept)) if kept else None
