"""What the workloads did: stats per interval, totals, partitions, triggers, signals."""

from __future__ import annotations

from typing import Any

from dagstorm.run.events.base import EventFields, Kind, optional, required


class WorkloadStats(EventFields):
    """One interval of a workload (docs/workloads.md, docs/locust.md)."""

    KIND = Kind.WORKLOAD_STATS
    workload: str = required("the workload's name")
    workload_kind: str = required(
        "`ad_logs`, `trigger_storm`, `kafka_burst`, `locust`, or a plugin's"
    )
    records: float | None = optional("records generated or sent in the interval")
    bytes: float | None = optional("bytes in the interval")
    acked: float | None = optional("records (or requests) settled as acknowledged")
    failed: float | None = optional("records (or requests) settled as failed")
    retried: float | None = optional("records re-sent")
    p50_ms: float | None = optional("median latency (acks, requests)")
    p99_ms: float | None = optional("99th percentile latency")
    interval_s: float | None = optional("the interval's wall seconds")
    topic: str | None = optional("kafka_burst: the topic")
    dropped: float | None = optional("kafka_burst: records dropped by the buffer policy")
    in_flight: float | None = optional("kafka_burst: records handed over, not settled")
    sim_generated_s: float | None = optional("kafka_burst: simulated time generated up to")
    user: str | None = optional("locust: `kafka` or `trigger`")
    second: float | None = optional("locust: epoch second of the requests (journaled ~6 s later)")
    workers: int | None = optional("locust: workers reporting")
    requests: float | None = optional("locust: requests")
    failures: float | None = optional("locust: failed requests")


class KafkaSignal(EventFields):
    """A completion signal: these acked offsets are complete (docs/workloads.md)."""

    KIND = Kind.KAFKA_SIGNAL
    workload: str = required("the workload")
    signal_id: str = required("the signal")
    topic: str = required("the data topic")
    control_topic: str = required("where the signal went")
    ranges: dict[str, list[int]] = required("`{partition: [start, end)}`, acked offsets only")
    records: int = required("their sum")
    reason: str = required("`burst end`, `records`, `interval`, `end`")
    ok: bool = required("the control topic acknowledged it")
    error: str | None = optional("why not")


class WorkloadDone(EventFields):
    """A workload ended: its totals."""

    KIND = Kind.WORKLOAD_DONE
    workload: str = required("the workload")
    workload_kind: str = required("its kind")
    generated: int | None = optional("records generated")
    sent: int | None = optional("records handed to the client")
    acked: int | None = optional("records acknowledged")
    failed: int | None = optional("records failed, incl. unknown at the end")
    dropped: int | None = optional("records dropped by the buffer policy")
    signalled: int | None = optional("records covered by a completion signal")
    unsignalled: int | None = optional("acked records no signal covers")
    topic: str | None = optional("kafka_burst: the topic")


class PartitionWritten(EventFields):
    """A landing partition was finished (its `_SUCCESS` written)."""

    KIND = Kind.PARTITION_WRITTEN
    workload: str = required("the workload")
    dt: str = required("`YYYY-MM-DD`")
    hour: int = required("0–23")
    records: int = required("records in the partition")
    valid: int = required("of which valid (the rest is deliberate bad data)")
    path: str = required("the partition's directory")


class DagTriggered(EventFields):
    """A DAG run was triggered through Airflow's REST API."""

    KIND = Kind.DAG_TRIGGERED
    dag_id: str = required("the DAG")
    run_id: str | None = required("the run id asked for")
    conf: dict[str, Any] | None = optional("the run's conf")
    ok: bool = required("Airflow accepted it")
    status: int | None = optional("HTTP status (none when no answer came)")
    latency_ms: float | None = optional("the request's latency")
    workload: str | None = optional("the workload that triggered it")
    error: str | None = optional("what went wrong")


class LocustEnd(EventFields):
    """A Locust workload ended (docs/locust.md)."""

    KIND = Kind.LOCUST_END
    workload: str = required("the workload")
    user: str = required("`kafka` or `trigger`")
    workers: int = required("worker processes")
    reason: str = required("`duration`, `max_requests`, `stopped`, or stopped by pid")
    complete: bool = required("every worker's last stats arrived")
    requests: int | None = optional("requests in all")
    records: int | None = optional("records sent")
    acked: int | None = optional("records acknowledged")
    failed: int | None = optional("failed")
    triggered: int | None = required("DAG runs triggered")
    master_exit: int | None = required("the master's exit code")
    stopped: list[str] | None = required("processes stopped by pid")
