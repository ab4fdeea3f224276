"""What the workloads did: stats per interval, totals, partitions, triggers, signals."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from dagstorm.run.events.base import EventFields, Kind, Number


class WorkloadStats(EventFields):
    """One interval of a workload (docs/workloads.md, docs/locust.md)."""

    KIND = Kind.WORKLOAD_STATS
    workload: str = Field(description="the workload's name")
    workload_kind: str = Field(
        description="`ad_logs`, `trigger_storm`, `kafka_burst`, `locust`, or a plugin's"
    )
    records: Number | None = Field(None, description="records generated or sent in the interval")
    bytes: Number | None = Field(None, description="bytes in the interval")
    acked: Number | None = Field(None, description="records (or requests) settled as acknowledged")
    failed: Number | None = Field(None, description="records (or requests) settled as failed")
    retried: Number | None = Field(None, description="records re-sent")
    p50_ms: Number | None = Field(None, description="median latency (acks, requests)")
    p99_ms: Number | None = Field(None, description="99th percentile latency")
    interval_s: Number | None = Field(None, description="the interval's wall seconds")
    topic: str | None = Field(None, description="kafka_burst: the topic")
    dropped: Number | None = Field(
        None, description="kafka_burst: records dropped by the buffer policy"
    )
    in_flight: Number | None = Field(
        None, description="kafka_burst: records handed over, not settled"
    )
    sim_generated_s: Number | None = Field(
        None, description="kafka_burst: simulated time generated up to"
    )
    user: str | None = Field(None, description="locust: `kafka` or `trigger`")
    second: Number | None = Field(
        None, description="locust: epoch second of the requests (journaled ~6 s later)"
    )
    workers: int | None = Field(None, description="locust: workers reporting")
    requests: Number | None = Field(None, description="locust: requests")
    failures: Number | None = Field(None, description="locust: failed requests")


class KafkaSignal(EventFields):
    """A completion signal: these acked offsets are complete (docs/workloads.md)."""

    KIND = Kind.KAFKA_SIGNAL
    workload: str = Field(description="the workload")
    signal_id: str = Field(description="the signal")
    topic: str = Field(description="the data topic")
    control_topic: str = Field(description="where the signal went")
    ranges: dict[str, list[int]] = Field(
        description="`{partition: [start, end)}`, acked offsets only"
    )
    records: int = Field(description="their sum")
    reason: str = Field(description="`burst end`, `records`, `interval`, `end`")
    ok: bool = Field(description="the control topic acknowledged it")
    error: str | None = Field(None, description="why not")


class WorkloadDone(EventFields):
    """A workload ended: its totals."""

    KIND = Kind.WORKLOAD_DONE
    workload: str = Field(description="the workload")
    workload_kind: str = Field(description="its kind")
    generated: int | None = Field(None, description="records generated")
    sent: int | None = Field(None, description="records handed to the client")
    acked: int | None = Field(None, description="records acknowledged")
    failed: int | None = Field(None, description="records failed, incl. unknown at the end")
    dropped: int | None = Field(None, description="records dropped by the buffer policy")
    signalled: int | None = Field(None, description="records covered by a completion signal")
    unsignalled: int | None = Field(None, description="acked records no signal covers")
    topic: str | None = Field(None, description="kafka_burst: the topic")


class PartitionWritten(EventFields):
    """A landing partition was finished (its `_SUCCESS` written)."""

    KIND = Kind.PARTITION_WRITTEN
    workload: str = Field(description="the workload")
    dt: str = Field(description="`YYYY-MM-DD`")
    hour: int = Field(description="0–23")
    records: int = Field(description="records in the partition")
    valid: int = Field(description="of which valid (the rest is deliberate bad data)")
    path: str = Field(description="the partition's directory")


class DagTriggered(EventFields):
    """A DAG run was triggered through Airflow's REST API (or an event posted on its asset)."""

    KIND = Kind.DAG_TRIGGERED
    dag_id: str = Field(description="the DAG")
    run_id: str | None = Field(description="the run id asked for (none for an asset event)")
    conf: dict[str, Any] | None = Field(None, description="the run's conf")
    ok: bool = Field(description="Airflow accepted it")
    status: int | None = Field(None, description="HTTP status (none when no answer came)")
    latency_ms: Number | None = Field(None, description="the request's latency")
    workload: str | None = Field(None, description="the workload that triggered it")
    error: str | None = Field(None, description="what went wrong")
    asset: str | None = Field(
        None, description="the asset an event was posted on, instead of a run trigger"
    )
    asset_event_id: int | None = Field(None, description="the asset event's id in Airflow")


class AssetRuns(EventFields):
    """The DAG runs that consumed the run's events on one asset (joined at its end)."""

    KIND = Kind.ASSET_RUNS
    asset: str = Field(description="the asset (name or URI, as the scenario gave it)")
    asset_id: int | None = Field(description="its id in Airflow (none when not found)")
    workloads: list[str] = Field(description="the workloads that posted the events")
    events: int = Field(description="events Airflow accepted")
    consumed: int = Field(description="of which a run of every DAG on the asset consumed")
    runs: list[list[str]] = Field(description="`[dag_id, run_id]` of each run that consumed one")
    dags: list[str] = Field(default_factory=list, description="the DAGs scheduled on the asset")
    waiting: dict[str, int] = Field(
        default_factory=dict, description="per DAG, events no run of it consumed (yet)"
    )
    error: str | None = Field(None, description="why Airflow's record could not be read")


class LocustEnd(EventFields):
    """A Locust workload ended (docs/locust.md)."""

    KIND = Kind.LOCUST_END
    workload: str = Field(description="the workload")
    user: str = Field(description="`kafka` or `trigger`")
    workers: int = Field(description="worker processes")
    reason: str = Field(description="`duration`, `max_requests`, `stopped`, or stopped by pid")
    complete: bool = Field(description="every worker's last stats arrived")
    requests: int | None = Field(None, description="requests in all")
    records: int | None = Field(None, description="records sent")
    acked: int | None = Field(None, description="records acknowledged")
    failed: int | None = Field(None, description="failed")
    triggered: int | None = Field(description="DAG runs triggered")
    master_exit: int | None = Field(description="the master's exit code")
    stopped: list[str] | None = Field(description="processes stopped by pid")
