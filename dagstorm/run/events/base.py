"""The catalogue's foundations: the format version, the kinds, the fields base class."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

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
    ASSET_RUNS = "asset_runs"
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
    CELERY_QUEUE = "celery_queue"
    CELERY_WORKERS = "celery_workers"
    CELERY_WORKER_TASKS = "celery_worker_tasks"
    PROBE_ERROR = "probe_error"
    LOCUST_END = "locust_end"
    LOG = "log"


#: The fault lifecycle, in order.
FAULT_EVENT_KINDS = (Kind.FAULT_INTENT, Kind.FAULT_APPLIED, Kind.FAULT_ERROR, Kind.FAULT_REVERTED)
#: How a run can end (``run_end.status``); ``unfinished`` is the readers' word for no run_end.
RunStatus = Literal["completed", "aborted", "interrupted", "error"]
#: A ``log`` event's level.
LogLevel = Literal["debug", "info", "warning", "error"]


class EventFields(BaseModel):
    """The fields of one event kind (the journal adds the envelope).

    Writers build one and hand it to ``RunJournal.emit``: a missing required field,
    a value of the wrong type or a field the kind does not declare raises pydantic's
    ``ValidationError`` where the event is made. The journal writes the fields that
    were given (a field left out is absent from the line, not ``null``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The kind this class describes.
    KIND: ClassVar[Kind]
    #: The format version that introduced the kind.
    SINCE: ClassVar[int] = 1


#: A number as the writer gave it: an int stays an int in the file (``3``, not ``3.0``).
Number = int | float


#: The fields the journal adds to every event.
ENVELOPE = ("v", "seq", "t", "wall", "sim", "kind")
