"""Live SLO checks while a run is under way (the runner's ``live_check`` hook).

Only SLOs marked ``abort: true`` are checked, and only on what is already
certain, so an SLO that could still pass never stops a run:

- sla: compliance over the runs so far (a run unfinished past its deadline has
  missed it for good; one still within its deadline is left out);
- recovery_time: recovered faults count with their recovery time; a reverted,
  not yet recovered fault counts only once the time since its end already fails
  the target; a fault still in effect is left out;
- scheduler_throughput: the median over the complete busy minutes so far;
- lost_events / duplicate_events: never live (the serving data is read at the end).

Not measured yet is never a failure here; the final verdict is :func:`analyze`'s.

A run's checks come every ``abort.slo_check_interval`` (10 s): :class:`LiveChecks`
reads the journal incrementally, keeping only the kinds the checks use (runs, task
tries, triggers, faults, alerts; not the periodic samples, the bulk of a long
soak's journal), plus its latest event for the time "now".
"""

from __future__ import annotations

from pathlib import Path

from dagstorm.analysis.measures.alerts import match_alerts
from dagstorm.analysis.measures.faults.fault_windows import fault_windows
from dagstorm.analysis.measures.faults.recovery import retry_recovery
from dagstorm.analysis.measures.scheduler.throughput import scheduler_throughput
from dagstorm.analysis.measures.sla import sla_compliance
from dagstorm.analysis.rundata.load import build_run_data
from dagstorm.analysis.rundata.model import RunData, Slo
from dagstorm.core.quantiles import quantile
from dagstorm.run.events import FAULT_EVENT_KINDS, Kind
from dagstorm.run.follow import Event, JournalFollower, last_event
from dagstorm.scenarios.slos import RecoveryTimeSlo, SchedulerThroughputSlo, SlaSlo

#: The kinds the live checks read (what :func:`build_run_data` makes their frames of).
LIVE_KINDS = frozenset(
    {
        Kind.RUN_START,
        Kind.RUN_END,
        Kind.DAG_RUN,
        Kind.TASK_TRY,
        Kind.DAG_TRIGGERED,
        Kind.ASSET_RUNS,
        Kind.ALERT,
        Kind.PARTITION_WRITTEN,
        *FAULT_EVENT_KINDS,
    }
)


class LiveChecks:
    """The runner's live-check hook for one run: each call reads only what is new."""

    def __init__(self) -> None:
        self._follower: JournalFollower | None = None
        self._events: list[Event] = []

    def __call__(self, journal_path: Path) -> list[str]:
        """Names of the ``abort: true`` SLOs that have already failed."""
        path = Path(journal_path)
        if self._follower is None or self._follower.path != path:
            self._follower, self._events = JournalFollower(path, kinds=LIVE_KINDS), []
        for events in self._follower.chunks():
            self._events += events
        # The time "now": the journal's latest event, of whatever kind (one of the kinds
        # kept is among them already, or comes with the next read).
        now = last_event(path)
        fresh = now is not None and now.get("kind") not in LIVE_KINDS
        events = [*self._events, now] if fresh and now is not None else self._events
        data = build_run_data(events, run_dir=path.parent)
        return [slo.name for slo in data.scenario.slos if slo.abort and failed_live(slo, data)]


def live_check(journal_path: Path) -> list[str]:
    """Names of the ``abort: true`` SLOs that have already failed (one check, from scratch)."""
    return LiveChecks()(journal_path)


def failed_live(slo: Slo, data: RunData) -> bool:
    """True if ``slo`` has certainly failed on the journal so far."""
    target = slo.target()
    match slo:
        case SlaSlo():
            measure = sla_compliance(
                data.dag_runs,
                dag_id=slo.dag,
                within_s=slo.deadline_s,
                compression=data.compression,
                end_t=data.end_t,
                measure_from=slo.reference,
            )
            return measure.compliance is not None and not target.passes(measure.compliance)
        case RecoveryTimeSlo():
            return _recovery_failed(slo, data)
        case SchedulerThroughputSlo():
            median = scheduler_throughput(
                data.task_tries, data.dag_runs, end_t=data.end_t
            ).median_finished_per_min
            return median is not None and not target.passes(median)
        case _:
            return False


def _recovery_failed(slo: RecoveryTimeSlo, data: RunData) -> bool:
    target = slo.target()
    recovery = retry_recovery(
        fault_windows(data.faults, data.end_t),
        dag_runs=data.dag_runs,
        task_tries=data.task_tries,
        matched_alerts=match_alerts(data.task_tries, data.alerts),
        alerts=data.alerts,
        compression=data.compression,
        end_t=data.end_t,
        dag_id=slo.dag,
    )
    values: list[float] = []
    for fault in recovery.faults:
        if fault.recovered:
            values.append(fault.recovery_sim_s)
        elif fault.reverted:
            waited = (data.end_t - fault.end_t) * data.compression
            if not target.passes(waited):
                values.append(waited)
    if not values:
        return False
    value = quantile(values, 0.95) if slo.p95 is not None else max(values)
    return value is not None and not target.passes(value)
