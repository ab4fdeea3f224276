"""What the TUI knows about a run: windowed aggregates fed one journal event at a time.

Pure Python (no Textual), so it is unit-tested on its own and reused by the bench.
Memory is bounded whatever the run's length or rate: time series are per-second
bins over a sliding window, lists are deques with a maximum length, and the events
kept for the live verdict are the last state per DAG run / task try (a run's
size, not its traffic).
"""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dagstorm.core.durations import stopwatch_text
from dagstorm.tui.series import MinuteCounts, SecondBins

Event = Mapping[str, Any]

#: Kinds sampled on an interval: they feed the panes but stay out of the log pane.
PERIODIC_KINDS = frozenset(
    {"statsd", "process_stats", "workload_stats", "spark_cluster", "kafka_offsets", "kafka_lag"}
)
FINAL_TRY_STATES = frozenset({"success", "failed", "up_for_retry"})
NEVER_RAN_STATES = frozenset({"skipped", "upstream_failed", "removed"})
FAULT_KINDS = ("fault_intent", "fault_applied", "fault_error", "fault_reverted")
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


class RunState:
    """Aggregates of a run's journal; feed events in order with :meth:`feed`."""

    def __init__(self) -> None:
        self.scenario = ""
        self.description = ""
        self.compression = 1.0
        self.duration_s: float | None = None
        self.origin_wall: float | None = None
        self.phases: list[PhaseSpan] = []
        self.slo_specs: list[dict[str, Any]] = []
        self.sla_within_s: dict[str, float] = {}
        self.phase = ""
        self.now_t = 0.0
        self.events = 0
        self.kinds: Counter[str] = Counter()
        self.status = "waiting"  # waiting → running → completed/aborted/interrupted/error
        self.reason = ""
        self.faults: OrderedDict[str, FaultSpan] = OrderedDict()
        self.records = SecondBins(SERIES_WINDOW)
        self.bytes = SecondBins(SERIES_WINDOW)
        self.acked = SecondBins(SERIES_WINDOW)
        self.failed = SecondBins(SERIES_WINDOW)
        self.p99_ms = 0.0
        self.total_records = 0
        self.total_bytes = 0
        self.total_failed = 0
        self.dag_runs: OrderedDict[tuple[str, str], DagRunRow] = OrderedDict()
        self.tries_started = MinuteCounts()
        self.tries_finished = MinuteCounts()
        self.retries = 0
        self._tries_seen: OrderedDict[tuple[Any, ...], tuple[bool, bool]] = OrderedDict()
        self.alerts: deque[LogLine] = deque(maxlen=100)
        self.alerts_by_kind: Counter[str] = Counter()
        self.spark = SparkState()
        self.kafka_lag: dict[tuple[str, str], int] = {}
        self.processes: dict[str, ProcessSample] = {}
        self.statsd: dict[str, float] = {}
        self.slo_checks: dict[str, tuple[bool, Any]] = {}
        self.log: deque[LogLine] = deque(maxlen=LOG_LINES)
        self.probe_errors = 0
        #: The engine reads a control inbox (``run_start.control``) and its fault targets.
        self.control = False
        self.fault_links: tuple[str, ...] = ()
        self.fault_components: tuple[str, ...] = ()
        #: Workloads paused by a control command (acknowledged ``done``).
        self.paused = False
        # Events the live verdict needs, deduplicated: bounded by the run's DAG activity.
        self._run_start: Event | None = None
        self._run_end: Event | None = None
        self._verdict_runs: OrderedDict[tuple[Any, ...], Event] = OrderedDict()
        self._verdict_tries: OrderedDict[tuple[Any, ...], Event] = OrderedDict()
        self._verdict_faults: list[Event] = []
        self._verdict_alerts: deque[Event] = deque(maxlen=MAX_ALERTS)
        self._triggered: OrderedDict[str, Event] = OrderedDict()
        self.verdict_generation = 0

    # ---- feeding -------------------------------------------------------------------

    def feed_all(self, events: Iterable[Event]) -> None:
        """Feed events in journal order."""
        for event in events:
            self.feed(event)

    def feed(self, event: Event) -> None:
        """Update the aggregates with one event (unknown kinds only count)."""
        kind = str(event.get("kind", "?"))
        t = _num(event.get("t"))
        self.events += 1
        self.kinds[kind] += 1
        self.now_t = max(self.now_t, t)
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, event, t)
        if kind not in PERIODIC_KINDS:
            self.log.append(LogLine(t, kind, _level(event), describe(event)))

    def _on_run_start(self, e: Event, t: float) -> None:
        self._run_start = e
        self.verdict_generation += 1
        self.status = "running"
        self.scenario = str(e.get("scenario", ""))
        self.description = str(e.get("description", ""))
        self.compression = _num(e.get("time_compression"), 1.0) or 1.0
        duration = e.get("duration_s")
        self.duration_s = float(duration) if isinstance(duration, int | float) else None
        self.origin_wall = _num(e.get("wall")) - t
        self.phases = [
            PhaseSpan(str(p.get("name")), _num(p.get("start_s")), _num(p.get("end_s")))
            for p in e.get("phases") or []
            if isinstance(p, Mapping)
        ]
        for f in e.get("faults") or []:
            if isinstance(f, Mapping):
                key = str(f.get("key"))
                self.faults[key] = FaultSpan(
                    key, str(f.get("fault", key)), _num(f.get("start_s")), _num(f.get("end_s"))
                )
        self.slo_specs = [dict(s) for s in e.get("slos") or [] if isinstance(s, Mapping)]
        self.control = bool(e.get("control"))
        targets = e.get("fault_targets")
        if isinstance(targets, Mapping):
            self.fault_links = tuple(str(x) for x in targets.get("links") or ())
            self.fault_components = tuple(str(x) for x in targets.get("components") or ())
        for spec in self.slo_specs:
            if spec.get("type") == "sla" and isinstance(spec.get("within"), int | float):
                self.sla_within_s[str(spec.get("dag"))] = float(spec["within"])

    def _on_run_end(self, e: Event, t: float) -> None:
        self._run_end = e
        self.verdict_generation += 1
        self.status = str(e.get("status", "completed"))
        self.reason = str(e.get("reason") or "")

    def _on_phase_start(self, e: Event, t: float) -> None:
        self.phase = str(e.get("phase", ""))

    def _on_fault(self, e: Event, t: float) -> None:
        self._verdict_faults.append(e)
        self.verdict_generation += 1
        key = str(e.get("fault_id"))
        span = self.faults.get(key)
        if span is None:
            span = self.faults[key] = FaultSpan(key, str(e.get("fault", key)))
        kind = e.get("kind")
        if kind == "fault_intent" and e.get("adhoc"):  # an ad-hoc fault: planned from now
            span.planned_start_s = t
            duration = e.get("duration_s")
            span.planned_end_s = t + float(duration) if isinstance(duration, int | float) else None
        if kind == "fault_applied":
            span.applied_t = t - _num(e.get("took_s"))
        elif kind == "fault_reverted":
            span.reverted_t = t
        elif kind == "fault_error":
            span.error = str(e.get("error", ""))

    def _on_workload_stats(self, e: Event, t: float) -> None:
        records = _num(e.get("records"))
        size = _num(e.get("bytes"))
        self.records.add(t, records)
        self.bytes.add(t, size)
        self.acked.add(t, _num(e.get("acked")))
        self.failed.add(t, _num(e.get("failed")))
        self.total_records += int(records)
        self.total_bytes += int(size)
        self.total_failed += int(_num(e.get("failed")))
        if isinstance(e.get("p99_ms"), int | float):
            self.p99_ms = float(e["p99_ms"])

    def _on_dag_triggered(self, e: Event, t: float) -> None:
        if e.get("ok"):
            self._triggered[str(e.get("run_id"))] = e
            _trim(self._triggered, MAX_DAG_RUNS * 10)

    def _on_dag_run(self, e: Event, t: float) -> None:
        key = (str(e.get("dag_id")), str(e.get("run_id")))
        self._verdict_runs[key] = e
        self._verdict_runs.move_to_end(key)
        _trim(self._verdict_runs, MAX_TRIES)
        self.verdict_generation += 1
        self.dag_runs[key] = DagRunRow(
            dag_id=key[0],
            run_id=key[1],
            state=str(e.get("state", "?")),
            run_type=str(e.get("run_type", "")),
            queued_t=self._t_of(e.get("queued_at")),
            start_t=self._t_of(e.get("start_date")),
            end_t=self._t_of(e.get("end_date")),
        )
        self.dag_runs.move_to_end(key)
        _trim(self.dag_runs, MAX_DAG_RUNS)

    def _on_task_try(self, e: Event, t: float) -> None:
        key = tuple(e.get(k) for k in ("dag_id", "run_id", "task_id", "map_index", "try_number"))
        self._verdict_tries[key] = e
        self._verdict_tries.move_to_end(key)
        _trim(self._verdict_tries, MAX_TRIES)
        self.verdict_generation += 1
        started, finished = self._tries_seen.get(key, (False, False))
        state = str(e.get("state", ""))
        if state in NEVER_RAN_STATES:
            return
        start_t = self._t_of(e.get("start_date"))
        if not started and start_t is not None:
            self.tries_started.add(start_t)
            started = True
            if _num(e.get("try_number"), 1) > 1:
                self.retries += 1
        end_t = self._t_of(e.get("end_date"))
        if not finished and state in FINAL_TRY_STATES and end_t is not None:
            self.tries_finished.add(end_t)
            finished = True
        self._tries_seen[key] = (started, finished)
        _trim(self._tries_seen, MAX_TRIES)

    def _on_alert(self, e: Event, t: float) -> None:
        self._verdict_alerts.append(e)
        self.verdict_generation += 1
        kind = str(e.get("alert_kind", "?"))
        self.alerts_by_kind[kind] += 1
        self.alerts.append(LogLine(t, kind, "warning", describe(e)))

    def _on_spark_cluster(self, e: Event, t: float) -> None:
        s = self.spark
        s.status = str(e.get("status", "?"))
        s.workers_alive = int(_num(e.get("workers_alive")))
        s.cores = int(_num(e.get("cores")))
        s.cores_used = int(_num(e.get("cores_used")))
        s.active_apps = int(_num(e.get("active_apps")))

    def _on_spark_executor_lost(self, e: Event, t: float) -> None:
        self.spark.executors_lost += 1
        self.spark.failed_tasks += int(_num(e.get("failed_tasks")))
        when = stopwatch_text(max(t, 0.0))
        self.spark.recent_losses.append(
            f"{when} {e.get('app_name', '?')} exec {e.get('executor_id', '?')}: "
            f"{e.get('reason', '')}"
        )

    def _on_spark_app(self, e: Event, t: float) -> None:
        self.spark.apps_finished += 1
        self.spark.failed_tasks += int(_num(e.get("failed_tasks")))

    def _on_kafka_lag(self, e: Event, t: float) -> None:
        self.kafka_lag[(str(e.get("topic")), str(e.get("group")))] = int(_num(e.get("lag")))

    def _on_process_stats(self, e: Event, t: float) -> None:
        name = str(e.get("component", "?"))
        sample = self.processes.get(name)
        if sample is None:
            sample = self.processes[name] = ProcessSample(name, 0.0, 0.0, 0, t)
        sample.cpu_pct = _num(e.get("cpu_pct"))
        sample.rss_mb = _num(e.get("rss_mb"))
        sample.processes = int(_num(e.get("processes")))
        sample.t = t
        sample.cpu_history.append(sample.cpu_pct)

    def _on_statsd(self, e: Event, t: float) -> None:
        metric = str(e.get("metric", ""))
        if e.get("type") == "gauge" and metric.startswith(("scheduler.", "executor.")):
            self.statsd[metric] = _num(e.get("value"))

    def _on_slo_check(self, e: Event, t: float) -> None:
        self.slo_checks[str(e.get("slo"))] = (bool(e.get("passed")), e.get("value"))

    def _on_probe_error(self, e: Event, t: float) -> None:
        self.probe_errors += 1

    def _on_control_ack(self, e: Event, t: float) -> None:
        if e.get("outcome") == "done" and e.get("command") in ("pause", "resume"):
            self.paused = e.get("command") == "pause"

    # ---- derived -------------------------------------------------------------------

    @property
    def now_sim(self) -> float:
        """Simulated seconds since the start."""
        return self.now_t * self.compression

    @property
    def ended(self) -> bool:
        """The journal has its run_end."""
        return self._run_end is not None

    def current_phase(self) -> str:
        """The phase the journal last started (or the planned one at ``now_t``)."""
        if self.phase:
            return self.phase
        return next((p.name for p in self.phases if p.start_s <= self.now_t < p.end_s), "")

    def active_faults(self) -> list[FaultSpan]:
        """Faults applied and not yet reverted."""
        return [f for f in self.faults.values() if f.active]

    def run_elapsed_sim(self, row: DagRunRow) -> float | None:
        """A DAG run's elapsed simulated seconds since it was queued (to its end or now)."""
        if row.queued_t is None:
            return None
        end = row.end_t if row.end_t is not None else self.now_t
        return max(0.0, end - row.queued_t) * self.compression

    def verdict_events(self) -> list[Event]:
        """The events the live verdict needs (deduplicated), plus a marker at ``now_t``."""
        if self._run_start is None:
            return []
        events: list[Event] = [self._run_start]
        events.extend(self._triggered.values())
        events.extend(self._verdict_runs.values())
        events.extend(self._verdict_tries.values())
        events.extend(self._verdict_faults)
        events.extend(self._verdict_alerts)
        if self._run_end is not None:
            events.append(self._run_end)
        else:
            events.append({"kind": "tui_now", "seq": float("inf"), "t": self.now_t})
        return events

    def _t_of(self, value: Any) -> float | None:
        """An ISO timestamp from another system on the run's axis (epoch − origin)."""
        if not value or self.origin_wall is None:
            return None
        try:
            return datetime.fromisoformat(str(value)).timestamp() - self.origin_wall
        except ValueError:
            return None


_HANDLERS: dict[str, Any] = {
    "run_start": RunState._on_run_start,
    "run_end": RunState._on_run_end,
    "phase_start": RunState._on_phase_start,
    "workload_stats": RunState._on_workload_stats,
    "dag_triggered": RunState._on_dag_triggered,
    "dag_run": RunState._on_dag_run,
    "task_try": RunState._on_task_try,
    "alert": RunState._on_alert,
    "spark_cluster": RunState._on_spark_cluster,
    "spark_executor_lost": RunState._on_spark_executor_lost,
    "spark_app": RunState._on_spark_app,
    "kafka_lag": RunState._on_kafka_lag,
    "process_stats": RunState._on_process_stats,
    "statsd": RunState._on_statsd,
    "slo_check": RunState._on_slo_check,
    "probe_error": RunState._on_probe_error,
    "control_ack": RunState._on_control_ack,
    **dict.fromkeys(FAULT_KINDS, RunState._on_fault),
}


def describe(e: Event) -> str:  # noqa: PLR0912 (one case per kind)
    """A one-line text of an event for the log pane."""
    kind = e.get("kind")
    match kind:
        case "run_start":
            return f"run {e.get('scenario')} started (×{e.get('time_compression')})"
        case "run_end":
            return f"run {e.get('status')} {e.get('reason') or ''}".rstrip()
        case "phase_start" | "phase_end":
            return f"phase {e.get('phase')} {'starts' if kind == 'phase_start' else 'ends'}"
        case "fault_intent" | "fault_applied" | "fault_reverted":
            return f"{e.get('fault_id')}: {e.get('fault')}"
        case "fault_error":
            return f"{e.get('fault_id')}: {e.get('error')}"
        case "dag_run":
            return f"{e.get('dag_id')} {e.get('run_id')} → {e.get('state')}"
        case "dag_triggered":
            return f"{e.get('dag_id')} {e.get('run_id')} HTTP {e.get('status')}"
        case "task_try":
            return (
                f"{e.get('dag_id')}.{e.get('task_id')} try {e.get('try_number')} → {e.get('state')}"
            )
        case "alert":
            return (
                f"{e.get('alert_kind')} {e.get('dag_id')}.{e.get('task_id')} "
                f"try {e.get('try_number')} {e.get('exception_class') or ''}"
            ).rstrip()
        case "spark_executor_lost":
            return f"{e.get('app_name')} executor {e.get('executor_id')}: {e.get('reason')}"
        case "spark_app":
            return f"{e.get('app_name')} finished in {_num(e.get('duration_ms')) / 1000:.0f}s"
        case "partition_written":
            return f"{e.get('dt')} {e.get('hour'):>02} {e.get('records')} records"
        case "slo_check":
            return f"{e.get('slo')} = {e.get('value')} {'ok' if e.get('passed') else 'FAIL'}"
        case "probe_error":
            return f"{e.get('probe')}: {e.get('error')}"
        case "log":
            return str(e.get("message", ""))
        case "control":
            target = e.get("fault") or e.get("fault_id") or ""
            return f"{e.get('command')} {target} by {e.get('by')}".replace("  ", " ")
        case "control_ack":
            detail = e.get("reason") or e.get("fault_id") or ""
            return f"{e.get('command')} {e.get('outcome')} {detail}".rstrip()
    skip = {"v", "seq", "t", "wall", "sim", "kind"}
    return " ".join(f"{k}={v}" for k, v in e.items() if k not in skip)[:200]


def _level(e: Event) -> str:
    kind = e.get("kind")
    if kind == "log":
        return str(e.get("level", "info"))
    if kind in ("fault_error", "probe_error", "spark_executor_lost"):
        return "error"
    if kind in ("alert", "fault_applied", "fault_intent"):
        return "warning"
    if kind == "dag_run" and e.get("state") == "failed":
        return "error"
    if kind == "run_end" and e.get("status") != "completed":
        return "error"
    if kind == "control_ack" and e.get("outcome") != "done":
        return "warning"
    return "info"


def _num(value: Any, default: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return float(value)


def _trim(mapping: OrderedDict[Any, Any], limit: int) -> None:
    while len(mapping) > limit:
        mapping.popitem(last=False)
