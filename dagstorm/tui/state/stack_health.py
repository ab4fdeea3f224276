"""Handlers of the stack's samples: Spark, Kafka lag, processes and scheduler gauges."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagstorm.analysis.measures.scheduler.scheduler_metrics import GaugeRange
from dagstorm.core.durations import stopwatch_text
from dagstorm.run.events import Kind
from dagstorm.tui.state.records import Event, ProcessSample, num

if TYPE_CHECKING:
    from dagstorm.tui.state.run_state import Handler, RunState


def on_spark_cluster(state: RunState, e: Event, t: float) -> None:
    """The Spark master's status, workers and cores."""
    s = state.spark
    s.status = str(e.get("status", "?"))
    s.workers_alive = int(num(e.get("workers_alive")))
    s.cores = int(num(e.get("cores")))
    s.cores_used = int(num(e.get("cores_used")))
    s.active_apps = int(num(e.get("active_apps")))


def on_spark_executor_lost(state: RunState, e: Event, t: float) -> None:
    """Count a lost executor and keep a line about it."""
    state.spark.executors_lost += 1
    state.spark.failed_tasks += int(num(e.get("failed_tasks")))
    when = stopwatch_text(max(t, 0.0))
    state.spark.recent_losses.append(
        f"{when} {e.get('app_name', '?')} exec {e.get('executor_id', '?')}: {e.get('reason', '')}"
    )


def on_spark_app(state: RunState, e: Event, t: float) -> None:
    """Count a finished Spark application and its failed tasks."""
    state.spark.apps_finished += 1
    state.spark.failed_tasks += int(num(e.get("failed_tasks")))


def on_kafka_lag(state: RunState, e: Event, t: float) -> None:
    """The lag of a consumer group on a topic."""
    state.kafka_lag[(str(e.get("topic")), str(e.get("group")))] = int(num(e.get("lag")))


def on_process_stats(state: RunState, e: Event, t: float) -> None:
    """A component's CPU, memory and process count, with a short CPU history."""
    name = str(e.get("component", "?"))
    sample = state.processes.get(name)
    if sample is None:
        sample = state.processes[name] = ProcessSample(name, 0.0, 0.0, 0, t)
    sample.cpu_pct = num(e.get("cpu_pct"))
    sample.rss_mb = num(e.get("rss_mb"))
    sample.processes = int(num(e.get("processes")))
    sample.t = t
    sample.cpu_history.append(sample.cpu_pct)


#: The gauges the scheduler pane reads (pools: their running and open slots).
GAUGE_PREFIXES = ("scheduler.", "executor.", "pool.running_slots.", "pool.open_slots.")


def on_statsd(state: RunState, e: Event, t: float) -> None:
    """The scheduler's, executor's and pools' gauges: the last value and the range."""
    metric = str(e.get("metric", ""))
    value = e.get("value")
    if e.get("type") != "gauge" or not metric.startswith(GAUGE_PREFIXES):
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    state.statsd[metric] = float(value)
    seen = state.statsd_ranges.get(metric)
    state.statsd_ranges[metric] = (
        GaugeRange(float(value), float(value)) if seen is None else seen.widened(float(value))
    )


HANDLERS: dict[str, Handler] = {
    Kind.SPARK_CLUSTER: on_spark_cluster,
    Kind.SPARK_EXECUTOR_LOST: on_spark_executor_lost,
    Kind.SPARK_APP: on_spark_app,
    Kind.KAFKA_LAG: on_kafka_lag,
    Kind.PROCESS_STATS: on_process_stats,
    Kind.STATSD: on_statsd,
}
