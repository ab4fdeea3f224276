"""What the probes saw: Airflow runs and tries, alerts, StatsD, Spark, Kafka, processes."""

from __future__ import annotations

from typing import Any, Literal

from dagstorm.run.events.base import EventFields, Kind, optional, required


class DagRun(EventFields):
    """A DAG run's state changed (one event per change)."""

    KIND = Kind.DAG_RUN
    dag_id: str = required("the DAG")
    run_id: str = required("the run")
    state: str | None = required("Airflow's state")
    run_type: str | None = optional("`manual`, `scheduled`, `asset_triggered`, …")
    queued_at: str | None = optional("ISO time, as Airflow reports it")
    start_date: str | None = optional("ISO time")
    end_date: str | None = optional("ISO time")
    logical_date: str | None = optional("ISO time")
    conf: dict[str, Any] | None = optional("the run's conf")


class TaskTry(EventFields):
    """A task try's state changed (earlier tries reported once the task is final)."""

    KIND = Kind.TASK_TRY
    dag_id: str = required("the DAG")
    run_id: str = required("the run")
    task_id: str = required("the task")
    map_index: int | None = optional("mapped tasks: the index (-1 otherwise)")
    try_number: int | None = optional("1, 2, …")
    state: str | None = required("Airflow's state")
    queued_when: str | None = optional("ISO time")
    start_date: str | None = optional("ISO time")
    end_date: str | None = optional("ISO time")
    duration: float | None = optional("seconds, as Airflow reports it")
    pool: str | None = optional("the pool")
    hostname: str | None = optional("where it ran")


class Alert(EventFields):
    """An alert from the pipeline's callbacks reached dagstorm's alert sink."""

    KIND = Kind.ALERT
    alert_kind: str = required("`retry`, `failure`, `deadline`, …")
    dag_id: str | None = optional("the DAG")
    task_id: str | None = optional("the task")
    run_id: str | None = optional("the run")
    try_number: int | None = optional("the try")
    exception_class: str | None = optional("the exception's class")
    time: str | None = optional("the sender's time, ISO")
    received_at: float = required("epoch seconds")


class Statsd(EventFields):
    """An Airflow StatsD metric over a probe interval."""

    KIND = Kind.STATSD
    metric: str = required("Airflow's name without the `airflow.` prefix")
    type: Literal["counter", "gauge", "timer"] = required("`counter`, `gauge` or `timer`")
    value: float | None = optional("counter: summed over the interval; gauge: the value")
    count: int | None = optional("timer: samples")
    p50_ms: float | None = optional("timer: median")
    p95_ms: float | None = optional("timer: 95th percentile")
    max_ms: float | None = optional("timer: maximum")


class SparkCluster(EventFields):
    """The Spark master's view of the cluster."""

    KIND = Kind.SPARK_CLUSTER
    status: str | None = required("the master's status")
    workers_alive: int = required("workers alive")
    cores: int = required("cores in the cluster")
    cores_used: int = required("cores in use")
    active_apps: int = required("applications running")


class SparkExecutorLost(EventFields):
    """A Spark executor was lost (an OOM, a kill, …)."""

    KIND = Kind.SPARK_EXECUTOR_LOST
    app_id: str = required("the application")
    app_name: str | None = required("its name")
    executor_id: str = required("the executor")
    reason: str | None = required("Spark's remove reason")
    exit_code: int | None = optional("the executor's exit code")
    failed_tasks: int | None = optional("tasks that failed on it")


class SparkApp(EventFields):
    """A Spark application finished."""

    KIND = Kind.SPARK_APP
    app_id: str = required("the application")
    app_name: str | None = required("its name")
    duration_ms: float | None = required("how long it ran")
    failed_tasks: int | None = optional("tasks that failed")
    start: str | None = optional("ISO time")
    end: str | None = optional("ISO time")


class KafkaOffsets(EventFields):
    """A topic's end offsets."""

    KIND = Kind.KAFKA_OFFSETS
    topic: str = required("the topic")
    end_offset_total: int = required("the sum of its partitions' end offsets")
    partitions: int = required("partitions")


class KafkaLag(EventFields):
    """A consumer group's lag on a topic."""

    KIND = Kind.KAFKA_LAG
    topic: str = required("the topic")
    group: str = required("the consumer group")
    lag: int = required("records behind the end offsets")


class ProcessStats(EventFields):
    """CPU and memory of a stack component (or of dagstorm itself)."""

    KIND = Kind.PROCESS_STATS
    component: str = required("a stack component or `dagstorm`")
    cpu_pct: float = required("100 = one core")
    rss_mb: float = required("resident memory")
    processes: int = required("processes counted")


class ProbeError(EventFields):
    """A probe failed one sample and goes on."""

    KIND = Kind.PROBE_ERROR
    probe: str = required("the probe")
    error: str = required("what went wrong")
