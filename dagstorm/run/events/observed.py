"""What the probes saw: Airflow runs and tries, alerts, StatsD, Spark, Kafka, processes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from dagstorm.run.events.base import EventFields, Kind, Number


class DagRun(EventFields):
    """A DAG run's state changed (one event per change)."""

    KIND = Kind.DAG_RUN
    dag_id: str = Field(description="the DAG")
    run_id: str = Field(description="the run")
    state: str | None = Field(description="Airflow's state")
    run_type: str | None = Field(None, description="`manual`, `scheduled`, `asset_triggered`, …")
    queued_at: str | None = Field(None, description="ISO time, as Airflow reports it")
    start_date: str | None = Field(None, description="ISO time")
    end_date: str | None = Field(None, description="ISO time")
    logical_date: str | None = Field(None, description="ISO time")
    conf: dict[str, Any] | None = Field(None, description="the run's conf")
    dag_versions: list[int] | None = Field(
        None, description="the DAG versions the run ran on (Airflow 3 keeps them per run)"
    )


class TaskTry(EventFields):
    """A task try's state changed (earlier tries reported once the task is final)."""

    KIND = Kind.TASK_TRY
    dag_id: str = Field(description="the DAG")
    run_id: str = Field(description="the run")
    task_id: str = Field(description="the task")
    map_index: int | None = Field(None, description="mapped tasks: the index (-1 otherwise)")
    try_number: int | None = Field(None, description="1, 2, …")
    state: str | None = Field(description="Airflow's state")
    queued_when: str | None = Field(None, description="ISO time")
    start_date: str | None = Field(None, description="ISO time")
    end_date: str | None = Field(None, description="ISO time")
    duration: Number | None = Field(None, description="seconds, as Airflow reports it")
    pool: str | None = Field(None, description="the pool")
    hostname: str | None = Field(None, description="where it ran")


class Alert(EventFields):
    """An alert from the pipeline's callbacks reached dagstorm's alert sink."""

    KIND = Kind.ALERT
    alert_kind: str = Field(description="`retry`, `failure`, `deadline`, …")
    dag_id: str | None = Field(None, description="the DAG")
    task_id: str | None = Field(None, description="the task")
    run_id: str | None = Field(None, description="the run")
    try_number: int | None = Field(None, description="the try")
    exception_class: str | None = Field(None, description="the exception's class")
    time: str | None = Field(None, description="the sender's time, ISO")
    received_at: Number = Field(description="epoch seconds")


class Statsd(EventFields):
    """An Airflow StatsD metric over a probe interval."""

    KIND = Kind.STATSD
    metric: str = Field(description="Airflow's name without the `airflow.` prefix")
    type: Literal["counter", "gauge", "timer"] = Field(description="`counter`, `gauge` or `timer`")
    value: Number | None = Field(
        None, description="counter: summed over the interval; gauge: the value"
    )
    count: int | None = Field(None, description="timer: samples")
    p50_ms: Number | None = Field(None, description="timer: median")
    p95_ms: Number | None = Field(None, description="timer: 95th percentile")
    max_ms: Number | None = Field(None, description="timer: maximum")


class SparkCluster(EventFields):
    """The Spark master's view of the cluster."""

    KIND = Kind.SPARK_CLUSTER
    status: str | None = Field(description="the master's status")
    workers_alive: int = Field(description="workers alive")
    cores: int = Field(description="cores in the cluster")
    cores_used: int = Field(description="cores in use")
    active_apps: int = Field(description="applications running")


class SparkExecutorLost(EventFields):
    """A Spark executor was lost (an OOM, a kill, …)."""

    KIND = Kind.SPARK_EXECUTOR_LOST
    app_id: str = Field(description="the application")
    app_name: str | None = Field(description="its name")
    executor_id: str = Field(description="the executor")
    reason: str | None = Field(description="Spark's remove reason")
    exit_code: int | None = Field(None, description="the executor's exit code")
    failed_tasks: int | None = Field(None, description="tasks that failed on it")


class SparkApp(EventFields):
    """A Spark application finished."""

    KIND = Kind.SPARK_APP
    app_id: str = Field(description="the application")
    app_name: str | None = Field(description="its name")
    duration_ms: Number | None = Field(description="how long it ran")
    failed_tasks: int | None = Field(None, description="tasks that failed")
    start: str | None = Field(None, description="ISO time")
    end: str | None = Field(None, description="ISO time")


class KafkaOffsets(EventFields):
    """A topic's end offsets."""

    KIND = Kind.KAFKA_OFFSETS
    topic: str = Field(description="the topic")
    end_offset_total: int = Field(description="the sum of its partitions' end offsets")
    partitions: int = Field(description="partitions")


class KafkaLag(EventFields):
    """A consumer group's lag on a topic."""

    KIND = Kind.KAFKA_LAG
    topic: str = Field(description="the topic")
    group: str = Field(description="the consumer group")
    lag: int = Field(description="records behind the end offsets")


class ProcessStats(EventFields):
    """CPU and memory of a stack component (or of dagstorm itself)."""

    KIND = Kind.PROCESS_STATS
    component: str = Field(description="a stack component or `dagstorm`")
    cpu_pct: Number = Field(description="100 = one core")
    rss_mb: Number = Field(description="resident memory")
    processes: int = Field(description="processes counted")


class CeleryQueue(EventFields):
    """Messages waiting in a Celery queue on the broker (a Redis list's length)."""

    KIND = Kind.CELERY_QUEUE
    queue: str = Field(description="the Celery queue (Airflow's `default` unless configured)")
    depth: int = Field(description="messages waiting (sent, not yet taken by a worker)")


class CeleryWorkers(EventFields):
    """The embedded stack's Celery worker processes: how many are alive."""

    KIND = Kind.CELERY_WORKERS
    alive: int = Field(description="workers whose process is alive and not stopped")
    total: int = Field(description="workers the stack declares")
    stopped: int = Field(description="workers alive but stopped (SIGSTOP: a `pause` fault)")


class CeleryWorkerTasks(EventFields):
    """Tasks one Celery worker took and returned since the probe started (from its log)."""

    KIND = Kind.CELERY_WORKER_TASKS
    worker: str = Field(description="the worker component (`airflow-celery-worker-<n>`)")
    received: int = Field(description="tasks it took from the broker")
    succeeded: int = Field(description="tasks that returned (whatever the try's state)")
    raised: int = Field(description="tasks that raised in Celery")


class ProbeError(EventFields):
    """A probe failed one sample and goes on."""

    KIND = Kind.PROBE_ERROR
    probe: str = Field(description="the probe")
    error: str = Field(description="what went wrong")
