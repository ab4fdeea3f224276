"""dagstorm's measures that judge SLOs, by name, and the evidence a judge reads.

An SLO kind's spec names the measure that judges it (``measure``: ``sla``,
``recovery_time``, ``scheduler_throughput``, ``completeness``, …); this module
keeps those judges (:data:`MEASURE_JUDGES`) and :class:`RunEvidence`, what every
judge is given (the :class:`~dagstorm.plugin.slo.SloEvidence` of a run): the
measures, the time compression, the journal's events. A plugin's SLO kind brings
its own judge, which reads the same evidence (docs/plugins.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dagstorm.analysis.measures.compute import Measures
from dagstorm.analysis.measures.sla import SlaCompliance, SlaRun
from dagstorm.analysis.rundata.model import RunData
from dagstorm.analysis.texts import number_text, percent_text, plural
from dagstorm.analysis.verdict.sample_size import sample_note
from dagstorm.core.durations import duration_text
from dagstorm.plugin.slo import SloReading
from dagstorm.scenarios.slos import CountSlo, RecoveryTimeSlo, SchedulerThroughputSlo, SlaSlo

#: A measure's judge: the SLO, the run's measures, the time compression.
MeasureJudge = Callable[[Any, Measures, float], SloReading]


class RunEvidence:
    """What an SLO's judge reads of a run (implements :class:`~dagstorm.plugin.slo.SloEvidence`)."""

    def __init__(self, measures: Measures, *, compression: float, data: RunData | None) -> None:
        self.measures = measures
        self._compression = compression
        self._data = data

    @property
    def compression(self) -> float:
        """Simulated seconds per wall second."""
        return self._compression

    @property
    def end_t(self) -> float:
        """Wall seconds from the start to the end of the run (0 without run data)."""
        return self._data.end_t if self._data is not None else 0.0

    def events(self, kind: str) -> Sequence[Mapping[str, Any]]:
        """The journal's events of ``kind`` (none when judged without run data)."""
        return self._data.events_by_kind.get(kind, ()) if self._data is not None else ()

    def judge_by_measure(self, slo: Any) -> SloReading:
        """``slo`` judged by the measure its spec names."""
        name = getattr(slo, "measure", None)
        judge = MEASURE_JUDGES.get(name) if isinstance(name, str) else None
        if judge is None:
            return SloReading.unmeasured(
                f"{getattr(slo, 'type', slo)!s} names measure {name!r}, which dagstorm does"
                f" not have (known: {', '.join(MEASURE_JUDGES)})"
            )
        return judge(slo, self.measures, self._compression)


def _reading(value: float, text: str, detail: str, *, veto: bool = False) -> SloReading:
    return SloReading(measured=True, value=value, value_text=text, detail=detail, veto=veto)


def _sla(slo: SlaSlo, measures: Measures, compression: float) -> SloReading:
    m = measures.sla_for(slo)
    deadline = (
        f"deadline {duration_text(m.within_sim_s)} sim = {duration_text(m.within_wall_s)} wall"
        f" at ×{number_text(compression)}, from {m.measure_from}"
    )
    if m.runs == 0:
        return SloReading.unmeasured(f"no run of DAG {m.dag_id} in the journal")
    if m.compliance is None:
        return SloReading.unmeasured(
            f"all {plural(m.runs, 'run')} of {m.dag_id} were excluded"
            " (still running within the deadline, or no reference time)",
        )
    counted = m.met + m.missed
    # Runs still going at the end within their deadline are not counted either way:
    # say so where the figure is, or a run the TUI shows "running" goes unmentioned.
    going = [r for r in m.excluded_runs if r.reason == "unfinished within deadline"]
    still = f"; {len(going)} still running at the end, not counted" if going else ""
    text = (
        f"{percent_text(m.compliance)} ({m.met} of {plural(counted, 'run')} within deadline{still})"
    )
    parts = [deadline]
    if m.misses:
        reasons: dict[str, int] = {}
        for miss in m.misses:
            reasons[miss.reason] = reasons.get(miss.reason, 0) + 1
        parts.append(
            f"{m.missed} missed (" + ", ".join(f"{n} {r}" for r, n in reasons.items()) + ")"
        )
        late = [x for x in m.misses if x.over_by_sim_s is not None]
        if late:
            worst = max(late, key=lambda x: x.over_by_sim_s or 0.0)
            parts.append(
                f"worst {worst.run_id} over by {duration_text(worst.over_by_sim_s)} sim"
                f" ({duration_text(worst.over_by_wall_s)} wall)"
            )
    small = sample_note(counted, slo.target())
    if small:
        parts.append(small)
    if m.excluded:
        why: dict[str, int] = {}
        for run in m.excluded_runs:
            why[run.reason] = why.get(run.reason, 0) + 1
        parts.append(
            f"{m.excluded} excluded (" + ", ".join(f"{n} {r}" for r, n in why.items()) + ")"
        )
    if going:
        parts.append("still running at the end: " + ", ".join(_share(r, m) for r in going[:3]))
        if len(going) > 3:
            parts[-1] += f" and {len(going) - 3} more"
    return _reading(m.compliance, text, "; ".join(parts))


def _share(run: SlaRun, m: SlaCompliance) -> str:
    """``RUN_ID (running, 65% of its deadline)``: how far an unfinished run had got."""
    used = (
        f", {run.elapsed_sim_s / m.within_sim_s:.0%} of its deadline"
        if run.elapsed_sim_s is not None and m.within_sim_s > 0
        else ""
    )
    return f"{run.run_id} ({run.state}{used})"


def _recovery(slo: RecoveryTimeSlo, measures: Measures) -> SloReading:
    m = measures.recovery_for(slo.dag)
    scope = f" of DAG {slo.dag}" if slo.dag else ""
    if not m.faults:
        errors = f" ({plural(len(m.fault_errors), 'fault error')})" if m.fault_errors else ""
        return SloReading.unmeasured(f"no fault was applied{errors}")
    statistic = "p95" if slo.p95 is not None else "max"
    value = m.p95_sim_s if slo.p95 is not None else m.max_sim_s
    assert value is not None  # there are faults
    n = plural(len(m.faults), "fault")
    if value == float("inf"):
        text = f"never: {m.unrecovered} of {n} not recovered"
    else:
        text = f"{duration_text(value)} sim ({statistic} over {n})"
        if m.unrecovered:
            text += f", {m.unrecovered} never recovered"
    per_fault = "; ".join(
        f"{f.fault} [{f.fault_id}]: "
        + (
            f"first successful run{scope} {duration_text(f.recovery_sim_s)} sim"
            f" ({duration_text(f.recovery_wall_s)} wall) after its end"
            if f.recovered
            else f"no successful run{scope} after its end"
        )
        for f in m.faults
    )
    # A fault never recovered fails the SLO even when it falls outside the p95.
    return _reading(value, text, per_fault, veto=m.unrecovered > 0)


def _throughput(slo: SchedulerThroughputSlo, measures: Measures) -> SloReading:
    m = measures.throughput
    if m.tries_started == 0 and m.tries_finished == 0:
        return SloReading.unmeasured("no task try ran in the journal")
    if m.median_finished_per_min is None:
        return SloReading.unmeasured("no complete busy minute (the run is shorter than a minute?)")
    text = (
        f"{number_text(m.median_finished_per_min)}/min"
        f" (median over {plural(m.busy_minutes, 'busy minute')})"
    )
    delay = m.task_queue_delay_s.p95
    detail = (
        f"peak {m.peak_finished_per_min}/min; {m.tries_finished} tries finished,"
        f" {m.tries_started} started; queued→running p95 {duration_text(delay)} wall"
    )
    return _reading(m.median_finished_per_min, text, detail)


def _count(slo: CountSlo, measures: Measures) -> SloReading:
    """Lost / duplicate events over every measured path (landing, and stream when any)."""
    paths = [("landing", measures.completeness)]
    if measures.stream_completeness is not None:
        paths.append(("stream", measures.stream_completeness))
    judged = [(n, c) for n, c in paths if c.measured and c.total is not None and c.total.expected]
    lost = slo.type == "lost_events"
    word = "lost" if lost else "duplicate"
    checks = [m for m in measures.output_checks if (m.lost if lost else m.duplicated) is not None]
    if not judged and not checks:
        reasons = [c.reason for _, c in paths if c.reason]
        reasons += [f"{m.name}: {m.reason}" for m in measures.output_checks if m.reason]
        if any(c.measured for _, c in paths):
            reasons = ["the ledger expects no event (nothing in finished partitions)"]
        return SloReading.unmeasured("; ".join(reasons) or "no completeness data")
    value = 0
    parts = []
    for check in checks:
        count = check.lost if lost else check.duplicated
        assert count is not None
        value += count
        against = f"of {check.expected} expected" if check.expected is not None else "by ids"
        parts.append(f"{check.name}: {check.found} found {against} ({check.basis}), {count} {word}")
    for name, c in judged:
        assert c.total is not None
        count = c.lost_events if lost else c.duplicate_events
        assert count is not None  # measured
        value += count
        label = f"{name}: " if len(paths) > 1 else ""
        detail = f"{label}of {c.total.expected} expected ({c.basis}), {c.total.loaded} loaded"
        if len(paths) > 1:
            detail += f", {count} {word}"
        parts.append(detail)
        hours = [h for h in c.per_hour if (h.lost if lost else h.duplicated)]
        if hours:
            shown = ", ".join(f"{h.key} ({h.lost if lost else h.duplicated})" for h in hours[:5])
            more = f" and {len(hours) - 5} more" if len(hours) > 5 else ""
            parts.append(f"in {plural(len(hours), 'hour')}: {shown}{more}")
        if c.in_flight_partitions:
            unit = "signal" if name == "stream" else "partition"
            parts.append(
                f"{plural(c.in_flight_partitions, unit)} still loading at the end "
                f"({c.in_flight_partition_events} events) left out"
            )
        if c.ignored_serving_rows:
            parts.append(f"{c.ignored_serving_rows} serving rows outside the run's hours ignored")
    return _reading(float(value), f"{value} {word} events", "; ".join(parts))


def _trigger_errors(slo: CountSlo, measures: Measures, _compression: float) -> SloReading:
    m = measures.trigger_errors
    if m is None or m.triggers == 0:
        return SloReading.unmeasured("no API trigger in the journal (no trigger_storm workload?)")
    kinds = ", ".join(f"{n} {what}" for what, n in m.by_error.items())
    detail = f"{m.errors} of {plural(m.triggers, 'trigger')} errored" + (
        f" ({kinds})" if kinds else ""
    )
    if m.errors:
        detail += f"; {m.created_anyway} created the run anyway, {m.never_created} never did"
        if m.unknown:
            detail += f", {m.unknown} named no run id"
    return _reading(float(m.errors), plural(m.errors, "trigger error"), detail)


def _never_started(slo: CountSlo, measures: Measures, _compression: float) -> SloReading:
    m = measures.tries_never_started
    t = measures.throughput
    if m is None or (t.tries_finished == 0 and m.count == 0):
        return SloReading.unmeasured("no task try finished in the journal")
    detail = f"{t.tries_finished} tries started and finished"
    if m.count:
        states = ", ".join(f"{n} {s}" for s, n in m.by_state.items())
        minutes = ", ".join(f"minute {p['minute']} ({p['count']})" for p in m.per_minute[:5])
        detail += f"; {m.count} ended without a start ({states}) in {minutes}"
    return _reading(
        float(m.count), f"{m.count} {'try' if m.count == 1 else 'tries'} never started", detail
    )


#: dagstorm's measures that judge SLOs, by the name a spec's ``measure`` gives.
MEASURE_JUDGES: dict[str, MeasureJudge] = {
    "sla": _sla,
    "recovery_time": lambda slo, measures, _: _recovery(slo, measures),
    "scheduler_throughput": lambda slo, measures, _: _throughput(slo, measures),
    "completeness": lambda slo, measures, _: _count(slo, measures),
    "trigger_errors": _trigger_errors,
    "tries_never_started": _never_started,
}
