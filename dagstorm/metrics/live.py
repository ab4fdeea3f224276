"""What the Prometheus endpoint knows about a live run, fed one journal event at a time.

Counters and gauges are updated per event; memory is bounded (last state per
DAG run and task try, capped). The SLO values are those of the analysis
(:func:`dagstorm.analysis.measures.compute.compute_measures`) over the events kept so
far, recomputed at most every ``slo_every_s`` seconds of journal time: SLOs that
need the end of the run (lost or duplicate events) read ``measured 0``. The
capacity figures are the analysis' too (:mod:`dagstorm.analysis.capacity`): the
generated traffic per workload live, the ramp's answer once ``run_end`` is in.
Metric names: docs/metrics.md.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from prometheus_client.core import Metric

from dagstorm.analysis.capacity import RampCapacity, WorkloadCapacity, WorkloadTotals
from dagstorm.analysis.capacity.ramp import ramp_capacity
from dagstorm.analysis.capacity.traffic import workload_capacity
from dagstorm.analysis.measures.compute import compute_measures
from dagstorm.analysis.rundata.declared import read_workloads
from dagstorm.analysis.rundata.load import build_run_data
from dagstorm.analysis.rundata.model import RunDirectoryError
from dagstorm.analysis.verdict.judgement import Verdict, evaluate
from dagstorm.metrics.families import WORKLOAD_COUNTS, metric_families
from dagstorm.run.events import FAULT_EVENT_KINDS, Kind
from dagstorm.workloads.kinds import WorkloadSpec

__all__ = ["LiveMetrics"]

Event = Mapping[str, Any]

MAX_DAG_RUNS = 5_000
MAX_TRIES = 50_000
MAX_KEPT = 5_000
#: workload_stats samples kept for the ramp's per-step rates (one per workload interval).
MAX_WORKLOAD_SAMPLES = 50_000


class LiveMetrics:
    """Aggregates of a run's journal, as Prometheus metric families (a collector)."""

    def __init__(self, run_dir: Path, *, slo_every_s: float = 5.0) -> None:
        self.run_dir = run_dir
        self.slo_every_s = slo_every_s
        self.events: Counter[str] = Counter()
        self.start: Event | None = None
        self.finished = False
        self.t = 0.0
        self.sim = 0.0
        self.phase: str | None = None
        self.workload_totals: dict[tuple[str, str], float] = {}
        self.workload_rates: dict[tuple[str, str], float] = {}
        self.workload_kinds: dict[str, str] = {}
        self.workload_active: dict[str, float] = {}
        self.workload_samples: deque[Event] = deque(maxlen=MAX_WORKLOAD_SAMPLES)
        self.end: Event | None = None
        self._workloads: tuple[WorkloadSpec, ...] | None = None
        self._ramp: RampCapacity | None = None
        self._ramp_done = False
        self.dag_runs: OrderedDict[tuple[str, str], Event] = OrderedDict()
        self.tries: OrderedDict[tuple[Any, ...], Event] = OrderedDict()
        self.faults: dict[str, tuple[str, str]] = {}
        self.fault_events: deque[Event] = deque(maxlen=MAX_KEPT)
        self.fault_errors = 0
        self.alerts: Counter[str] = Counter()
        self.alert_events: deque[Event] = deque(maxlen=MAX_KEPT)
        self.triggered: deque[Event] = deque(maxlen=MAX_KEPT)
        self.lag: dict[tuple[str, str], float] = {}
        #: The Celery probe's latest samples: depth per queue, workers per state.
        self.celery_queue: dict[str, float] = {}
        self.celery_workers: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.rss: dict[str, float] = {}
        self.probe_errors: Counter[str] = Counter()
        self._verdict: Verdict | None = None
        self._verdict_t: float | None = None

    def feed(self, events: Iterable[Event]) -> None:
        """Take in new journal events, in order."""
        for event in events:
            self._one(event)

    def _one(self, event: Event) -> None:
        kind = str(event.get("kind"))
        self.events[kind] += 1
        self.t = max(self.t, _num(event.get("t")))
        self.sim = max(self.sim, _num(event.get("sim")))
        match kind:
            case Kind.RUN_START:
                self.start = event
            case Kind.RUN_END:
                self.finished = True
                self.end = event
            case Kind.PHASE_START:
                self.phase = str(event.get("phase") or event.get("name") or "")
            case Kind.WORKLOAD_STATS:
                self._workload(event)
            case Kind.DAG_RUN:
                self._keep(
                    self.dag_runs,
                    (str(event.get("dag_id")), str(event.get("run_id"))),
                    event,
                    MAX_DAG_RUNS,
                )
            case Kind.TASK_TRY:
                key = tuple(
                    event.get(k) for k in ("dag_id", "run_id", "task_id", "map_index", "try_number")
                )
                self._keep(self.tries, key, event, MAX_TRIES)
            case Kind.DAG_TRIGGERED:
                self.triggered.append(event)
            case Kind.ALERT:
                self.alerts[str(event.get("alert_kind"))] += 1
                self.alert_events.append(event)
            case _ if kind in FAULT_EVENT_KINDS:
                self._fault(kind, event)
            case _:
                self._sample(kind, event)

    def _sample(self, kind: str, event: Event) -> None:
        """The probes' samples of the stack: Kafka lag, Celery, processes, probe errors."""
        match kind:
            case Kind.KAFKA_LAG:
                self.lag[(str(event.get("topic")), str(event.get("group")))] = _num(
                    event.get("lag")
                )
            case Kind.CELERY_QUEUE:
                self.celery_queue[str(event.get("queue"))] = _num(event.get("depth"))
            case Kind.CELERY_WORKERS:
                for state in ("alive", "stopped", "total"):
                    self.celery_workers[state] = _num(event.get(state))
            case Kind.PROCESS_STATS:
                component = str(event.get("component"))
                self.cpu[component] = _num(event.get("cpu_pct"))
                self.rss[component] = _num(event.get("rss_mb")) * 1e6
            case Kind.PROBE_ERROR:
                self.probe_errors[str(event.get("probe"))] += 1

    @staticmethod
    def _keep(store: OrderedDict[Any, Event], key: Any, event: Event, cap: int) -> None:
        store.pop(key, None)
        store[key] = event
        while len(store) > cap:
            store.popitem(last=False)

    def _workload(self, event: Event) -> None:
        name = str(event.get("workload"))
        interval = _num(event.get("interval_s"))
        self.workload_kinds[name] = str(event.get("workload_kind"))
        self.workload_active[name] = self.workload_active.get(name, 0.0) + interval
        self.workload_samples.append(event)
        for field in WORKLOAD_COUNTS:
            value = event.get(field)
            if isinstance(value, int | float) and not isinstance(value, bool):
                key = (name, field)
                self.workload_totals[key] = self.workload_totals.get(key, 0.0) + value
                if interval > 0:
                    self.workload_rates[key] = value / interval

    def _fault(self, kind: str, event: Event) -> None:
        self.fault_events.append(event)
        fault_id, name = str(event.get("fault_id")), str(event.get("fault"))
        if kind == Kind.FAULT_APPLIED:
            self.faults[fault_id] = (name, "active")
        elif kind == Kind.FAULT_REVERTED:
            self.faults[fault_id] = (name, "reverted")
        elif kind == Kind.FAULT_ERROR:
            self.fault_errors += 1

    # -- SLOs ------------------------------------------------------------------------

    def verdict(self) -> Verdict | None:
        """The SLO verdict over the events so far (cached for ``slo_every_s``)."""
        if self.start is None:
            return None
        if self._verdict_t is not None and self.t - self._verdict_t < self.slo_every_s:
            return self._verdict
        kept: list[Event] = [
            self.start,
            *self.dag_runs.values(),
            *self.tries.values(),
            *self.fault_events,
            *self.alert_events,
            *self.triggered,
        ]
        try:
            data = build_run_data(kept, run_dir=self.run_dir)
        except RunDirectoryError:
            return None
        data = _with_end(data, self.t)
        self._verdict = evaluate(
            data.scenario.slos, compute_measures(data), compression=data.compression, data=data
        )
        self._verdict_t = self.t
        return self._verdict

    # -- capacity --------------------------------------------------------------------

    def workloads(self) -> tuple[WorkloadSpec, ...]:
        """The scenario's workloads (``scenario.yaml``, typed; read once it is there)."""
        if self._workloads is None:
            workloads, why = read_workloads(self.run_dir)
            if why is None or self.finished:
                self._workloads = workloads
            return workloads
        return self._workloads

    def workload_capacity(self) -> tuple[WorkloadCapacity, ...]:
        """Generated traffic per workload so far (the analysis' figures once the run ended)."""
        compression = _num((self.start or {}).get("time_compression"))
        if compression <= 0:
            return ()
        totals = [
            WorkloadTotals(
                workload=name,
                kind=kind,
                records=self.workload_totals.get((name, "records"), 0.0),
                bytes=self.workload_totals.get((name, "bytes"), 0.0),
                interval_s=self.workload_active.get(name, 0.0),
            )
            for name, kind in self.workload_kinds.items()
        ]
        return workload_capacity(totals, self.workloads(), compression)

    def ramp(self) -> RampCapacity | None:
        """The ramp's answer, once ``run_end`` is in the journal (None before, or no ramp)."""
        if not self.finished or self.start is None:
            return None
        if not self._ramp_done:
            kept: list[Event] = [
                self.start,
                *self.dag_runs.values(),
                *self.tries.values(),
                *self.workload_samples,
                *([self.end] if self.end is not None else []),
            ]
            try:
                data = build_run_data(kept, run_dir=self.run_dir, workloads=self.workloads())
            except RunDirectoryError:
                return None
            self._ramp = ramp_capacity(_with_end(data, self.t))
            self._ramp_done = True
        return self._ramp

    # -- the metric families -------------------------------------------------------------

    def collect(self) -> Iterator[Metric]:
        """The metric families that have samples, in a stable order.

        A ``prometheus_client`` collector: register it in a ``CollectorRegistry``.
        """
        return (family for family in self.families() if family.samples)

    def families(self) -> list[Metric]:
        """Every metric family (some may have no samples yet), in a stable order."""
        return metric_families(self)


def _with_end(data: Any, t: float) -> Any:
    """The run data with its end at the latest journal time (not the last kept event)."""
    return replace(data, end_t=max(data.end_t, t))


def _num(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return 0.0
