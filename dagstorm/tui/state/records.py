"""The records the run state keeps: phases, fault windows, DAG runs, samples, log lines.

Also the bounds that keep its memory fixed whatever the run's length or rate.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dagstorm.run.events import Kind

Event = Mapping[str, Any]

#: Kinds sampled on an interval: they feed the panes but stay out of the log pane.
PERIODIC_KINDS = frozenset(
    {
        Kind.STATSD,
        Kind.PROCESS_STATS,
        Kind.WORKLOAD_STATS,
        Kind.SPARK_CLUSTER,
        Kind.KAFKA_OFFSETS,
        Kind.KAFKA_LAG,
        Kind.CELERY_QUEUE,
        Kind.CELERY_WORKERS,
        Kind.CELERY_WORKER_TASKS,
    }
)
FINAL_TRY_STATES = frozenset({"success", "failed", "up_for_retry"})
NEVER_RAN_STATES = frozenset({"skipped", "upstream_failed", "removed"})
MAX_DAG_RUNS = 200
MAX_TRIES = 20_000
MAX_ALERTS = 5_000
LOG_LINES = 1_000
SERIES_WINDOW = 120


@dataclass(frozen=True)
class PhaseSpan:
    """A planned phase, in wall seconds since the start."""

    name: str
    start_s: float
    end_s: float


@dataclass
class FaultSpan:
    """A fault window: planned, then applied and reverted as the journal says."""

    fault_id: str
    fault: str
    planned_start_s: float | None = None
    planned_end_s: float | None = None
    applied_t: float | None = None
    reverted_t: float | None = None
    error: str | None = None

    @property
    def active(self) -> bool:
        """Applied and not reverted yet."""
        return self.applied_t is not None and self.reverted_t is None


@dataclass
class DagRunRow:
    """The last known state of one DAG run."""

    dag_id: str
    run_id: str
    state: str
    run_type: str
    queued_t: float | None
    start_t: float | None
    end_t: float | None


@dataclass
class ProcessSample:
    """The last process_stats sample of a component, with a short CPU history."""

    component: str
    cpu_pct: float
    rss_mb: float
    processes: int
    t: float
    cpu_history: deque[float] = field(default_factory=lambda: deque(maxlen=60))


@dataclass(frozen=True)
class LogLine:
    """One line of the log pane."""

    t: float
    kind: str
    level: str
    text: str

    def matches(self, needle: str) -> bool:
        """Case-insensitive substring match on kind and text ('' matches everything)."""
        if not needle:
            return True
        needle = needle.lower()
        return needle in self.kind.lower() or needle in self.text.lower()


@dataclass
class SparkState:
    """Spark cluster and executor figures."""

    status: str = "?"
    workers_alive: int = 0
    cores: int = 0
    cores_used: int = 0
    active_apps: int = 0
    apps_finished: int = 0
    executors_lost: int = 0
    failed_tasks: int = 0
    recent_losses: deque[str] = field(default_factory=lambda: deque(maxlen=10))


def num(value: Any, default: float = 0.0) -> float:
    """A journal field as a float (``default`` when it is missing, a bool or not a number)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return float(value)


def trim(mapping: OrderedDict[Any, Any], limit: int) -> None:
    """Drop the oldest entries of ``mapping`` until it holds at most ``limit``."""
    while len(mapping) > limit:
        mapping.popitem(last=False)
