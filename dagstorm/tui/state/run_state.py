"""The run state: the TUI's aggregates of a journal, fed one event at a time.

Each kind of event has a handler in the module of its domain (:mod:`.lifecycle`,
:mod:`.faults`, :mod:`.workloads`, :mod:`.runs`, :mod:`.stack_health`); this
module holds the aggregates, dispatches to the handlers and derives what the panes
show.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from dagstorm.analysis.measures.scheduler.scheduler_metrics import GaugeRange
from dagstorm.tui.series import MinuteCounts, RecentTimes, SecondBins
from dagstorm.tui.state import faults, lifecycle, runs, stack_health, workloads
from dagstorm.tui.state.describe import describe, level
from dagstorm.tui.state.records import (
    LOG_LINES,
    PERIODIC_KINDS,
    SERIES_WINDOW,
    DagRunRow,
    Event,
    FaultSpan,
    LogLine,
    PhaseSpan,
    ProcessSample,
    SparkState,
    num,
)
from dagstorm.tui.state.verdict_events import VerdictEvents

#: A handler of one kind of event: ``(state, event, t)``.
Handler = Callable[["RunState", Event, float], None]


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
        #: The same starts and finishes, for the last 60 s at any moment (not per minute).
        self.recent_started = RecentTimes()
        self.recent_finished = RecentTimes()
        self.retries = 0
        #: Per task try: its start and its finish counted yet (each counts once).
        self.tries_seen: OrderedDict[tuple[Any, ...], tuple[bool, bool]] = OrderedDict()
        self.alerts: deque[LogLine] = deque(maxlen=100)
        self.alerts_by_kind: Counter[str] = Counter()
        self.spark = SparkState()
        self.kafka_lag: dict[tuple[str, str], int] = {}
        self.processes: dict[str, ProcessSample] = {}
        #: The last value of each scheduler, executor and pool gauge, and its range so
        #: far (a gauge that never changed is shown as constant, not as a headline).
        self.statsd: dict[str, float] = {}
        self.statsd_ranges: dict[str, GaugeRange] = {}
        self.log: deque[LogLine] = deque(maxlen=LOG_LINES)
        self.probe_errors = 0
        #: The engine reads a control inbox (``run_start.control``) and its fault targets.
        self.control = False
        self.fault_links: tuple[str, ...] = ()
        self.fault_components: tuple[str, ...] = ()
        #: Workloads paused by a control command (acknowledged ``done``).
        self.paused = False
        #: The events the live verdict needs, deduplicated.
        self.verdict = VerdictEvents()

    # ---- feeding -------------------------------------------------------------------

    def feed_all(self, events: Iterable[Event]) -> None:
        """Feed events in journal order."""
        for event in events:
            self.feed(event)

    def feed(self, event: Event) -> None:
        """Update the aggregates with one event (unknown kinds only count)."""
        kind = str(event.get("kind", "?"))
        t = num(event.get("t"))
        self.events += 1
        self.kinds[kind] += 1
        self.now_t = max(self.now_t, t)
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, event, t)
        if kind not in PERIODIC_KINDS:
            self.log.append(LogLine(t, kind, level(event), describe(event)))

    # ---- derived -------------------------------------------------------------------

    @property
    def now_sim(self) -> float:
        """Simulated seconds since the start."""
        return self.now_t * self.compression

    @property
    def ended(self) -> bool:
        """The journal has its run_end."""
        return self.verdict.run_end is not None

    @property
    def verdict_generation(self) -> int:
        """Grows whenever an event the live verdict depends on arrives."""
        return self.verdict.generation

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
        return self.verdict.events(self.now_t)

    def t_of(self, value: Any) -> float | None:
        """An ISO timestamp from another system on the run's axis (epoch − origin)."""
        if not value or self.origin_wall is None:
            return None
        try:
            return datetime.fromisoformat(str(value)).timestamp() - self.origin_wall
        except ValueError:
            return None


_HANDLERS: dict[str, Handler] = {
    **lifecycle.HANDLERS,
    **faults.HANDLERS,
    **workloads.HANDLERS,
    **runs.HANDLERS,
    **stack_health.HANDLERS,
}
