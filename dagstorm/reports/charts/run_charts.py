"""The report's charts: one function per chart, each a :class:`Chart` or a "not measured" note."""

from __future__ import annotations

from collections.abc import Mapping

from dagstorm.analysis.outputs.result import Result
from dagstorm.analysis.texts import number_text
from dagstorm.core.durations import duration_text
from dagstorm.reports.charts.chart import Chart, Series
from dagstorm.reports.charts.series import Points, RunSeries
from dagstorm.reports.charts.svg import render_chart
from dagstorm.reports.markup import Markup, el, join

__all__ = ["all_charts"]

#: Components beyond this many (by peak) are left out of the CPU/RSS charts.
MAX_COMPONENTS = 8
_OUTCOME_COLORS = {
    "met": "#009e73",
    "late": "#e69f00",
    "failed": "#d55e00",
    "unfinished": "#999999",
}


def all_charts(series: RunSeries, result: Result) -> Markup:
    """Every chart, in reading order."""
    return join(
        [
            traffic_chart(series),
            volume_chart(series),
            run_duration_charts(series, result),
            task_tries_chart(series),
            throughput_chart(series, result),
            queue_delay_chart(series, result),
            scheduler_gauges_chart(series, result),
            executor_losses_chart(series),
            kafka_lag_chart(series),
            component_charts(series),
        ]
    )


def not_measured(title: str, why: str) -> Markup:
    """A placeholder where a chart has no data: says so instead of drawing an empty axis."""
    return el(
        "figure",
        el("figcaption", el("strong", title)),
        el("p", f"not measured: {why}", class_="not-measured"),
        class_="chart-box empty",
    )


def _chart(
    run: RunSeries,
    *,
    title: str,
    y_label: str,
    curves: tuple[Series, ...],
    threshold: tuple[float, str] | None = None,
    note: str = "",
) -> Markup:
    """A chart over the whole run, with its phases and fault windows shaded."""
    chart = Chart(
        title=title,
        y_label=y_label,
        series=curves,
        x_end=run.end_t,
        bands=run.bands,
        threshold=threshold,
        note=note,
    )
    return render_chart(chart)


def traffic_chart(series: RunSeries) -> Markup:
    """Records per second generated, acknowledged and failed (workload_stats)."""
    title = "Traffic: records/s"
    if not series.records_per_s:
        return not_measured(title, "no workload_stats events in the journal")
    return _chart(
        series,
        title=title,
        y_label="records/s",
        curves=tuple(Series(name, points) for name, points in series.records_per_s.items()),
        note=f"Summed over workloads ({', '.join(series.workload_kinds)}), "
        f"mean per {number_text(series.bucket_s)} s bucket.",
    )


def volume_chart(series: RunSeries) -> Markup:
    """Megabytes per second generated (workload_stats ``bytes``)."""
    title = "Traffic: MB/s"
    if not series.mb_per_s:
        return not_measured(title, "no workload_stats events with bytes in the journal")
    return _chart(
        series,
        title=title,
        y_label="MB/s",
        curves=(Series("generated MB/s", series.mb_per_s),),
        note=f"Bytes written by the generators, mean per {number_text(series.bucket_s)} s bucket.",
    )


def run_duration_charts(series: RunSeries, result: Result) -> Markup:
    """DAG run durations (simulated) against the SLA deadline, one chart per SLA SLO."""
    if not result.measures.sla:
        return not_measured("DAG run durations vs SLA", "the scenario declares no sla SLO")
    compression = result.scenario.time_compression
    charts = []
    for sla in result.measures.sla:
        title = f"DAG run durations vs SLA: {sla.dag_id}"
        runs = [r for r in series.runs if r.dag_id == sla.dag_id]
        if not runs:
            charts.append(not_measured(title, f"no run of DAG {sla.dag_id} in the journal"))
            continue
        groups: dict[str, list[tuple[float, float]]] = {}
        for run in runs:
            minutes = run.elapsed_wall_s * compression / 60
            if not run.finished:
                outcome = "unfinished"
            elif run.state == "failed":
                outcome = "failed"
            elif run.state == "success" and minutes * 60 <= sla.within_sim_s + 1e-6:
                outcome = "met"
            else:
                outcome = "late"
            groups.setdefault(outcome, []).append((run.queued_t, minutes))
        charts.append(
            _chart(
                series,
                title=title,
                y_label="sim minutes",
                curves=tuple(
                    Series(name, tuple(groups[name]), "points", _OUTCOME_COLORS[name])
                    for name in _OUTCOME_COLORS
                    if name in groups
                ),
                threshold=(sla.within_sim_s / 60, f"SLA {duration_text(sla.within_sim_s)} sim"),
                note="Each point is a run at its queue time; its height is queued → end in "
                f"simulated minutes (wall × {number_text(compression)}); unfinished runs are "
                "measured to the end of the run.",
            )
        )
    return join(charts)


def task_tries_chart(series: RunSeries) -> Markup:
    """Task tries started, retries and failures per minute."""
    title = "Task tries and retries per minute"
    if not series.tries_per_min:
        return not_measured(title, "no task_try events in the journal")
    return _chart(
        series,
        title=title,
        y_label="tries/min",
        curves=tuple(Series(n, p, "step") for n, p in series.tries_per_min.items()),
        note="From the last state of each task try: starts by start_date, failures by end_date.",
    )


def throughput_chart(series: RunSeries, result: Result) -> Markup:
    """Scheduler throughput: task tries finished per minute (the SLO's series)."""
    title = "Scheduler throughput: tries finished per minute"
    m = result.measures.throughput
    if not m.minutes or m.tries_finished == 0:
        return not_measured(title, "no task try finished in the journal")
    finished: Points = tuple((float(x.start_t), float(x.finished)) for x in m.minutes)
    started: Points = tuple((float(x.start_t), float(x.started)) for x in m.minutes)
    median = m.median_finished_per_min
    return _chart(
        series,
        title=title,
        y_label="tries/min",
        curves=(Series("finished", finished, "bars"), Series("started", started, "step")),
        threshold=(median, f"median {number_text(median)}/min") if median is not None else None,
        note=f"Median over busy, complete minutes: {number_text(median)}/min; "
        f"queued → running p95 {duration_text(m.task_queue_delay_s.p95)} wall.",
    )


def queue_delay_chart(series: RunSeries, result: Result) -> Markup:
    """Scheduling delay: a try's queued → running, p50/p95 per minute of its start."""
    title = "Scheduling delay: queued → running"
    if not series.queue_delay_s:
        return not_measured(title, "no task try with a queued and a start time in the journal")
    m = result.measures.throughput
    return _chart(
        series,
        title=title,
        y_label="wall seconds",
        curves=tuple(Series(name, points, "step") for name, points in series.queue_delay_s.items()),
        note="Per minute of the tries' start (nearest-rank percentiles); over the run: p50 "
        f"{_short(m.task_queue_delay_s.p50)}, p95 {_short(m.task_queue_delay_s.p95)}; "
        f"dag-run queued → running p95 {_short(m.run_start_delay_s.p95)}.",
    )


def _short(seconds: float | None) -> str:
    """A delay that is often well under a second: milliseconds below 1 s."""
    if seconds is not None and abs(seconds) < 1:
        return f"{seconds * 1000:.0f} ms"
    return duration_text(seconds)


def scheduler_gauges_chart(series: RunSeries, result: Result) -> Markup:
    """Airflow's StatsD gauges: executable and starving tasks, open executor slots."""
    title = "Scheduler (StatsD): executable, starving tasks, open slots and running tasks"
    metrics = result.measures.scheduler_metrics
    constant = "; ".join(
        f"{name} {number_text(value)}" for name, value in (metrics.constant_gauges or {}).items()
    )
    constant_note = f" Constant all run (not drawn): {constant}." if constant else ""
    if not series.scheduler_gauges:
        return not_measured(
            title,
            "no StatsD scheduler gauge changed in the journal"
            + (f" ({constant_note.strip()})" if constant else ""),
        )
    return _chart(
        series,
        title=title,
        y_label="tasks / slots",
        curves=tuple(
            Series(name, points, "step") for name, points in series.scheduler_gauges.items()
        ),
        note=f"Mean per {number_text(series.bucket_s)} s bucket. Scheduler loop duration: "
        f"p50 {number_text(metrics.loop_duration_p50_ms)} ms, "
        f"max {number_text(metrics.loop_duration_max_ms)} ms.{constant_note}",
    )


def executor_losses_chart(series: RunSeries) -> Markup:
    """Spark executors lost, cumulative."""
    title = "Spark executor losses"
    if not series.executor_losses:
        return not_measured(title, "no spark_executor_lost event in the journal")
    cumulative: list[tuple[float, float]] = [(0.0, 0.0)]
    for count, loss in enumerate(series.executor_losses, start=1):
        cumulative.append((loss.t, float(count)))
    cumulative.append((series.end_t, float(len(series.executor_losses))))
    return _chart(
        series,
        title=title,
        y_label="executors lost",
        curves=(
            Series("executors lost (cumulative)", tuple(cumulative), "step"),
            Series(
                "loss",
                tuple((loss.t, float(i)) for i, loss in enumerate(series.executor_losses, start=1)),
                "points",
            ),
        ),
    )


def kafka_lag_chart(series: RunSeries) -> Markup:
    """Kafka consumer lag per topic and group."""
    title = "Kafka consumer lag"
    if not series.kafka_lag:
        return not_measured(title, "no kafka_lag events in the journal")
    return _chart(
        series,
        title=title,
        y_label="messages",
        curves=tuple(Series(name, points) for name, points in series.kafka_lag.items()),
    )


def component_charts(series: RunSeries) -> Markup:
    """CPU and RSS of each stack component (process_stats)."""
    return join(
        [
            _components(series, series.cpu_pct, "Component CPU", "% of one core"),
            _components(series, series.rss_mb, "Component memory (RSS)", "MB"),
        ]
    )


def _components(series: RunSeries, data: Mapping[str, Points], title: str, unit: str) -> Markup:
    if not data:
        return not_measured(title, "no process_stats events in the journal")
    ranked = sorted(data, key=lambda name: (-max(v for _, v in data[name]), name))
    shown = sorted(ranked[:MAX_COMPONENTS])
    left_out = sorted(ranked[MAX_COMPONENTS:])
    note = f"Mean per {number_text(series.bucket_s)} s bucket."
    if left_out:
        note += f" Not shown (smaller peaks): {', '.join(left_out)}."
    return _chart(
        series,
        title=title,
        y_label=unit,
        curves=tuple(Series(name, data[name]) for name in shown),
        note=note,
    )
