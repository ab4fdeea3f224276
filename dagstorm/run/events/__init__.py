"""The journal's event kinds: one class per kind, with its fields and the format version.

This catalogue is the definition of what ``journal.jsonl`` holds (the event table of
docs/journal.md is generated from it: ``python -m dagstorm.run.events``). Writers make
an instance of a kind's class and hand it to ``RunJournal.emit`` (its fields are
validated where it is made: a missing or wrongly typed field raises); readers
compare ``event["kind"]`` with :class:`Kind` members (a ``StrEnum``, so they equal
the plain strings in the file).

Every event also has the envelope the journal adds: ``v`` (format version), ``seq``,
``t`` (wall seconds since the start), ``wall`` (epoch seconds), ``sim`` (simulated
seconds) and ``kind``. Readers ignore kinds and fields they do not know: new ones may
be added within a format version; removing or redefining a field bumps it.
"""

from __future__ import annotations

from typing import Any

from dagstorm.run.events.base import (
    ENVELOPE,
    FAULT_EVENT_KINDS,
    FORMAT_VERSION,
    EventFields,
    Kind,
    LogLevel,
    RunStatus,
)
from dagstorm.run.events.lifecycle import (
    Control,
    ControlAck,
    FaultApplied,
    FaultErrorEvent,
    FaultIntent,
    FaultReverted,
    Log,
    PhaseEnd,
    PhaseStart,
    RunEnd,
    RunStart,
)
from dagstorm.run.events.load import (
    AssetRuns,
    DagTriggered,
    KafkaSignal,
    LocustEnd,
    PartitionWritten,
    WorkloadDone,
    WorkloadStats,
)
from dagstorm.run.events.observed import (
    Alert,
    CeleryQueue,
    CeleryWorkers,
    CeleryWorkerTasks,
    DagRun,
    KafkaLag,
    KafkaOffsets,
    ProbeError,
    ProcessStats,
    SparkApp,
    SparkCluster,
    SparkExecutorLost,
    Statsd,
    TaskTry,
)

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
        AssetRuns,
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
        CeleryQueue,
        CeleryWorkers,
        CeleryWorkerTasks,
        ProbeError,
        LocustEnd,
        Log,
    )
}


def validate_event(event: dict[str, Any]) -> EventFields:
    """A journal line's fields as its kind's class (pydantic's ValidationError if they do not fit).

    Fields the kind does not declare are left out (a later writer of the same format
    version may add some); a kind that is not catalogued raises ``ValueError``.
    """
    cls = CATALOGUE[Kind(event["kind"])]
    fields = {k: v for k, v in event.items() if k in cls.model_fields}
    return cls.model_validate(fields)


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


__all__ = [
    "CATALOGUE",
    "ENVELOPE",
    "FAULT_EVENT_KINDS",
    "FORMAT_VERSION",
    "Alert",
    "AssetRuns",
    "CeleryQueue",
    "CeleryWorkerTasks",
    "CeleryWorkers",
    "Control",
    "ControlAck",
    "DagRun",
    "DagTriggered",
    "EventFields",
    "FaultApplied",
    "FaultErrorEvent",
    "FaultIntent",
    "FaultReverted",
    "KafkaLag",
    "KafkaOffsets",
    "KafkaSignal",
    "Kind",
    "LocustEnd",
    "Log",
    "LogLevel",
    "PartitionWritten",
    "PhaseEnd",
    "PhaseStart",
    "ProbeError",
    "ProcessStats",
    "RunEnd",
    "RunStart",
    "RunStatus",
    "SparkApp",
    "SparkCluster",
    "SparkExecutorLost",
    "Statsd",
    "TaskTry",
    "WorkloadDone",
    "WorkloadStats",
    "markdown_table",
    "validate_event",
]
