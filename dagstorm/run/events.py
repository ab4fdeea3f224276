"""The journal's event kinds: one class per kind, with its fields and the format version.

This catalogue is the definition of what ``journal.jsonl`` holds (the event table of
docs/journal.md is generated from it: ``python -m dagstorm.run.events``). Writers pass
a catalogued kind; readers compare ``event["kind"]`` with :class:`Kind` members (a
``StrEnum``, so they equal the plain strings in the file).

Every event also has the envelope the journal adds: ``v`` (format version), ``seq``,
``t`` (wall seconds since the start), ``wall`` (epoch seconds), ``sim`` (simulated
seconds) and ``kind``. Readers ignore kinds and fields they do not know: new ones may
be added within a format version; removing or redefining a field bumps it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

#: The journal's format version (the ``v`` of every event).
FORMAT_VERSION = 1


class Kind(StrEnum):
    """Every event kind a journal may hold."""

    RUN_START = "run_start"
    RUN_END = "run_end"
    CONTROL = "control"
    CONTROL_ACK = "control_ack"
    PHASE_START = "phase_start"
    PHASE_END = "phase_end"
    FAULT_INTENT = "fault_intent"
    FAULT_APPLIED = "fault_applied"
    FAULT_ERROR = "fault_error"
    FAULT_REVERTED = "fault_reverted"
    WORKLOAD_STATS = "workload_stats"
    KAFKA_SIGNAL = "kafka_signal"
    WORKLOAD_DONE = "workload_done"
    PARTITION_WRITTEN = "partition_written"
    DAG_TRIGGERED = "dag_triggered"
    DAG_RUN = "dag_run"
    TASK_TRY = "task_try"
    ALERT = "alert"
    STATSD = "statsd"
    SPARK_CLUSTER = "spark_cluster"
    SPARK_EXECUTOR_LOST = "spark_executor_lost"
    SPARK_APP = "spark_app"
    KAFKA_OFFSETS = "kafka_offsets"
    KAFKA_LAG = "kafka_lag"
    PROCESS_STATS = "process_stats"
    PROBE_ERROR = "probe_error"
    LOCUST_END = "locust_end"
    LOG = "log"


#: The fault lifecycle, in order.
FAULT_KINDS = (Kind.FAULT_INTENT, Kind.FAULT_APPLIED, Kind.FAULT_ERROR, Kind.FAULT_REVERTED)
#: How a run can end (``run_end.status``); ``unfinished`` is the readers' word for no run_end.
RunStatus = Literal["completed", "aborted", "interrupted", "error"]


class EventFields(BaseModel):
    """The fields of one event kind (the journal adds the envelope)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    #: The kind this class describes.
    KIND: ClassVar[Kind]
    #: The format version that introduced the kind.
    SINCE: ClassVar[int] = 1


def _f(description: str) -> Any:
    """A required field with its description (the docs table's text)."""
    return Field(description=description)


def _opt(description: str) -> Any:
    """An optional field (missing where it does not apply)."""
    return Field(None, description=description)


class RunStart(EventFields):
    """The run began: the scenario, its plan and the environment."""

    KIND = Kind.RUN_START
    scenario: str = _f("the scenario's name")
    description: str | None = _opt("the scenario's description")
    seed: int = _f("the seed every generator derives from")
    time_compression: float = _f("simulated seconds per wall second")
    duration_s: float = _f("planned wall duration")
    stack_kind: str = _f("`embedded`, `compose` or `external`")
    dagstorm_version: str = _f("the version that ran")
    phases: list[dict[str, Any]] = _f("`{name, start_s, end_s}` (wall) per phase")
    faults: list[dict[str, Any]] | None = _opt("`{key, fault, start_s, end_s}` per scheduled fault")
    slos: list[dict[str, Any]] = _f("the SLO specs")
    environment: dict[str, Any] = _f("versions of the stack's parts, machine")
    control: bool | None = _opt("true: the engine reads the control inbox")
    fault_targets: dict[str, list[str]] | None = _opt("`{links, components}` the stack declares")


class RunEnd(EventFields):
    """The run ended (absent when dagstorm was killed: readers say `unfinished`)."""

    KIND = Kind.RUN_END
    status: RunStatus = _f(
        "`completed`; `aborted` (an SLO with `abort: true` failed); `interrupted`"
        " (Ctrl-C / SIGTERM, or an `abort` command); `error`"
    )
    reason: str | None = _opt("why, when not completed (`aborted by <who>`, the error, …)")
    fault_errors: list[str] | None = _opt("faults that could not be applied or reverted")


class Control(EventFields):
    """A control command taken from the inbox (docs/control.md)."""

    KIND = Kind.CONTROL
    command_id: str = _f("the command file's id")
    command: str | None = _f("`pause`, `resume`, `abort`, `inject`, `revert`")
    by: str | None = _f("who sent it")
    fault: str | None = _opt("inject: the fault's description")
    spec: dict[str, Any] | None = _opt("inject: the fault spec")
    duration_s: float | None = _opt("inject: how long to hold it")
    fault_id: str | None = _opt("revert: the fault")


class ControlAck(EventFields):
    """A control command's outcome."""

    KIND = Kind.CONTROL_ACK
    command_id: str = _f("the command file's id")
    command: str | None = _f("the command")
    outcome: Literal["done", "rejected", "failed"] = _f("`done`, `rejected`, `failed`")
    reason: str | None = _opt("why it was rejected or failed")
    fault_id: str | None = _opt("the fault injected or reverted")
    workloads: list[str] | None = _opt("pause/resume: the workloads that pause")
    not_pausable: list[str] | None = _opt("pause/resume: workloads whose loop does not pause")


class PhaseStart(EventFields):
    """A phase of the scenario began."""

    KIND = Kind.PHASE_START
    phase: str = _f("the phase's name")


class PhaseEnd(EventFields):
    """A phase ended (the `drain` phase reports the runs still unfinished)."""

    KIND = Kind.PHASE_END
    phase: str = _f("the phase's name")
    unfinished_runs: int | None = _opt("drain: DAG runs still unfinished at its end")


class FaultIntent(EventFields):
    """A fault is about to be injected (journaled before anything is touched)."""

    KIND = Kind.FAULT_INTENT
    fault_id: str = _f("`f1`, `f2`, …; ad-hoc faults `adhoc1`, …")
    fault: str = _f("the fault's description")
    spec: dict[str, Any] = _f("the fault spec")
    adhoc: bool | None = _opt("true for a fault injected by a control command")
    by: str | None = _opt("ad-hoc: who asked")
    duration_s: float | None = _opt("ad-hoc: how long it is held")


class FaultApplied(EventFields):
    """The fault is in effect and verified."""

    KIND = Kind.FAULT_APPLIED
    fault_id: str = _f("the fault")
    fault: str = _f("its description")
    evidence: str = _f("what verify saw")
    took_s: float = _f("inject + verify, wall seconds")
    journal_id: str | None = _opt("its id in the stack's fault journal (for `recover`)")


class FaultErrorEvent(EventFields):
    """A fault could not be applied or reverted."""

    KIND = Kind.FAULT_ERROR
    fault_id: str = _f("the fault")
    fault: str = _f("its description")
    error: str = _f("what went wrong")


class FaultReverted(EventFields):
    """The fault was reverted."""

    KIND = Kind.FAULT_REVERTED
    fault_id: str = _f("the fault")
    fault: str = _f("its description")
    took_s: float = _f("wall seconds the revert took")
    by: str | None = _opt("a `revert` command: who asked")


class WorkloadStats(EventFields):
    """One interval of a workload (docs/workloads.md, docs/locust.md)."""

    KIND = Kind.WORKLOAD_STATS
    workload: str = _f("the workload's name")
    workload_kind: str = _f("`ad_logs`, `trigger_storm`, `kafka_burst`, `locust`, or a plugin's")
    records: float | None = _opt("records generated or sent in the interval")
    bytes: float | None = _opt("bytes in the interval")
    acked: float | None = _opt("records (or requests) settled as acknowledged")
    failed: float | None = _opt("records (or requests) settled as failed")
    retried: float | None = _opt("records re-sent")
    p50_ms: float | None = _opt("median latency (acks, requests)")
    p99_ms: float | None = _opt("99th percentile latency")
    interval_s: float | None = _opt("the interval's wall seconds")
    topic: str | None = _opt("kafka_burst: the topic")
    dropped: float | None = _opt("kafka_burst: records dropped by the buffer policy")
    in_flight: float | None = _opt("kafka_burst: records handed over, not settled")
    sim_generated_s: float | None = _opt("kafka_burst: simulated time generated up to")
    user: str | None = _opt("locust: `kafka` or `trigger`")
    second: float | None = _opt("locust: epoch second of the requests (journaled ~6 s later)")
    workers: int | None = _opt("locust: workers reporting")
    requests: float | None = _opt("locust: requests")
    failures: float | None = _opt("locust: failed requests")


class KafkaSignal(EventFields):
    """A completion signal: these acked offsets are complete (docs/workloads.md)."""

    KIND = Kind.KAFKA_SIGNAL
    workload: str = _f("the workload")
    signal_id: str = _f("the signal")
    topic: str = _f("the data topic")
    control_topic: str = _f("where the signal went")
    ranges: dict[str, list[int]] = _f("`{partition: [start, end)}`, acked offsets only")
    records: int = _f("their sum")
    reason: str = _f("`burst end`, `records`, `interval`, `end`")
    ok: bool = _f("the control topic acknowledged it")
    error: str | None = _opt("why not")


class WorkloadDone(EventFields):
    """A workload ended: its totals."""

    KIND = Kind.WORKLOAD_DONE
    workload: str = _f("the workload")
    workload_kind: str = _f("its kind")
    generated: int | None = _opt("records generated")
    sent: int | None = _opt("records handed to the client")
    acked: int | None = _opt("records acknowledged")
    failed: int | None = _opt("records failed, incl. unknown at the end")
    dropped: int | None = _opt("records dropped by the buffer policy")
    signalled: int | None = _opt("records covered by a completion signal")
    unsignalled: int | None = _opt("acked records no signal covers")
    topic: str | None = _opt("kafka_burst: the topic")


class PartitionWritten(EventFields):
    """A landing partition was finished (its `_SUCCESS` written)."""

    KIND = Kind.PARTITION_WRITTEN
    workload: str = _f("the workload")
    dt: str = _f("`YYYY-MM-DD`")
    hour: int = _f("0–23")
    records: int = _f("records in the partition")
    valid: int = _f("of which valid (the rest is deliberate bad data)")
    path: str = _f("the partition's directory")


class DagTriggered(EventFields):
    """A DAG run was triggered through Airflow's REST API."""

    KIND = Kind.DAG_TRIGGERED
    dag_id: str = _f("the DAG")
    run_id: str | None = _f("the run id asked for")
    conf: dict[str, Any] | None = _opt("the run's conf")
    ok: bool = _f("Airflow accepted it")
    status: int | None = _opt("HTTP status (none when no answer came)")
    latency_ms: float | None = _opt("the request's latency")
    workload: str | None = _opt("the workload that triggered it")
    error: str | None = _opt("what went wrong")


class DagRun(EventFields):
    """A DAG run's state changed (one event per change)."""

    KIND = Kind.DAG_RUN
    dag_id: str = _f("the DAG")
    run_id: str = _f("the run")
    state: str | None = _f("Airflow's state")
    run_type: str | None = _opt("`manual`, `scheduled`, `asset_triggered`, …")
    queued_at: str | None = _opt("ISO time, as Airflow reports it")
    start_date: str | None = _opt("ISO time")
    end_date: str | None = _opt("ISO time")
    logical_date: str | None = _opt("ISO time")
    conf: dict[str, Any] | None = _opt("the run's conf")


class TaskTry(EventFields):
    """A task try's state changed (earlier tries reported once the task is final)."""

    KIND = Kind.TASK_TRY
    dag_id: str = _f("the DAG")
    run_id: str = _f("the run")
    task_id: str = _f("the task")
    map_index: int | None = _opt("mapped tasks: the index (-1 otherwise)")
    try_number: int | None = _opt("1, 2, …")
    state: str | None = _f("Airflow's state")
    queued_when: str | None = _opt("ISO time")
    start_date: str | None = _opt("ISO time")
    end_date: str | None = _opt("ISO time")
    duration: float | None = _opt("seconds, as Airflow reports it")
    pool: str | None = _opt("the pool")
    hostname: str | None = _opt("where it ran")


class Alert(EventFields):
    """An alert from the pipeline's callbacks reached dagstorm's alert sink."""

    KIND = Kind.ALERT
    alert_kind: str = _f("`retry`, `failure`, `deadline`, …")
    dag_id: str | None = _opt("the DAG")
    task_id: str | None = _opt("the task")
    run_id: str | None = _opt("the run")
    try_number: int | None = _opt("the try")
    exception_class: str | None = _opt("the exception's class")
    time: str | None = _opt("the sender's time, ISO")
    received_at: float = _f("epoch seconds")


class Statsd(EventFields):
    """An Airflow StatsD metric over a probe interval."""

    KIND = Kind.STATSD
    metric: str = _f("Airflow's name without the `airflow.` prefix")
    type: Literal["counter", "gauge", "timer"] = _f("`counter`, `gauge` or `timer`")
    value: float | None = _opt("counter: summed over the interval; gauge: the value")
    count: int | None = _opt("timer: samples")
    p50_ms: float | None = _opt("timer: median")
    p95_ms: float | None = _opt("timer: 95th percentile")
    max_ms: float | None = _opt("timer: maximum")


class SparkCluster(EventFields):
    """The Spark master's view of the cluster."""

    KIND = Kind.SPARK_CLUSTER
    status: str | None = _f("the master's status")
    workers_alive: int = _f("workers alive")
    cores: int = _f("cores in the cluster")
    cores_used: int = _f("cores in use")
    active_apps: int = _f("applications running")


class SparkExecutorLost(EventFields):
    """A Spark executor was lost (an OOM, a kill, …)."""

    KIND = Kind.SPARK_EXECUTOR_LOST
    app_id: str = _f("the application")
    app_name: str | None = _f("its name")
    executor_id: str = _f("the executor")
    reason: str | None = _f("Spark's remove reason")
    exit_code: int | None = _opt("the executor's exit code")
    failed_tasks: int | None = _opt("tasks that failed on it")


class SparkApp(EventFields):
    """A Spark application finished."""

    KIND = Kind.SPARK_APP
    app_id: str = _f("the application")
    app_name: str | None = _f("its name")
    duration_ms: float | None = _f("how long it ran")
    failed_tasks: int | None = _opt("tasks that failed")
    start: str | None = _opt("ISO time")
    end: str | None = _opt("ISO time")


class KafkaOffsets(EventFields):
    """A topic's end offsets."""

    KIND = Kind.KAFKA_OFFSETS
    topic: str = _f("the topic")
    end_offset_total: int = _f("the sum of its partitions' end offsets")
    partitions: int = _f("partitions")


class KafkaLag(EventFields):
    """A consumer group's lag on a topic."""

    KIND = Kind.KAFKA_LAG
    topic: str = _f("the topic")
    group: str = _f("the consumer group")
    lag: int = _f("records behind the end offsets")


class ProcessStats(EventFields):
    """CPU and memory of a stack component (or of dagstorm itself)."""

    KIND = Kind.PROCESS_STATS
    component: str = _f("a stack component or `dagstorm`")
    cpu_pct: float = _f("100 = one core")
    rss_mb: float = _f("resident memory")
    processes: int = _f("processes counted")


class ProbeError(EventFields):
    """A probe failed one sample and goes on."""

    KIND = Kind.PROBE_ERROR
    probe: str = _f("the probe")
    error: str = _f("what went wrong")


class LocustEnd(EventFields):
    """A Locust workload ended (docs/locust.md)."""

    KIND = Kind.LOCUST_END
    workload: str = _f("the workload")
    user: str = _f("`kafka` or `trigger`")
    workers: int = _f("worker processes")
    reason: str = _f("`duration`, `max_requests`, `stopped`, or stopped by pid")
    complete: bool = _f("every worker's last stats arrived")
    requests: int | None = _opt("requests in all")
    records: int | None = _opt("records sent")
    acked: int | None = _opt("records acknowledged")
    failed: int | None = _opt("failed")
    triggered: int | None = _f("DAG runs triggered")
    master_exit: int | None = _f("the master's exit code")
    stopped: list[str] | None = _f("processes stopped by pid")


class Log(EventFields):
    """A note from the engine."""

    KIND = Kind.LOG
    level: Literal["debug", "info", "warning", "error"] = _f("`info`, `warning`, `error`")
    message: str = _f("the note")


CATALOGUE: dict[Kind, type[EventFields]] = {
    cls.KIND: cls
    for cls in (
        RunStart,
        RunEnd,
        Control,
        ControlAck,
        PhaseStart,
        PhaseEnd,
        FaultIntent,
        FaultApplied,
        FaultErrorEvent,
        FaultReverted,
        WorkloadStats,
        KafkaSignal,
        WorkloadDone,
        PartitionWritten,
        DagTriggered,
        DagRun,
        TaskTry,
        Alert,
        Statsd,
        SparkCluster,
        SparkExecutorLost,
        SparkApp,
        KafkaOffsets,
        KafkaLag,
        ProcessStats,
        ProbeError,
        LocustEnd,
        Log,
    )
}


def validate_event(event: dict[str, Any]) -> EventFields:
    """The event's fields as its kind's class (pydantic's ValidationError if they do not fit).

    A kind that is not catalogued raises ``KeyError``: readers skip those, tests do not.
    """
    cls = CATALOGUE[Kind(event["kind"])]
    fields = {k: v for k, v in event.items() if k not in ENVELOPE}
    return cls.model_validate(fields)


#: The fields the journal adds to every event.
ENVELOPE = ("v", "seq", "t", "wall", "sim", "kind")


def markdown_table() -> str:
    """The event table of docs/journal.md, generated from the catalogue."""
    rows = ["| kind | what | fields |", "|---|---|---|"]
    for kind, cls in CATALOGUE.items():
        fields = []
        for name, info in cls.model_fields.items():
            optional = "" if info.is_required() else " (optional)"
            fields.append(f"`{name}`{optional}: {info.description}")
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        rows.append(f"| `{kind}` | {doc} | {'<br>'.join(fields)} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
