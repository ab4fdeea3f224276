"""The verdict: every SLO of the scenario judged against the measures, and the findings.

An SLO that cannot be measured (no runs of its DAG, no fault applied, no serving
data, …) fails with ``not measured: <why>`` — never a silent pass. The resilience
score is 100 × (weights of the passed SLOs) / (weights of all SLOs).

:func:`judge` adds the run's findings (:mod:`dagstorm.analysis.verdict.findings`): a run
that did not complete, a fault never reverted or never recovered, a fault error.
Each fails the verdict whether or not an SLO names it. The verdict is the one
source of result.json's ``verdict``, junit.xml, the report's badge, the history
line, the printed lines and the exit code of ``dagstorm run`` / ``analyze``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dagstorm.analysis.measures.compute import Measures
from dagstorm.analysis.rundata.model import RunData, Slo
from dagstorm.analysis.texts import number_text, percent_text, plural
from dagstorm.analysis.verdict.findings import Finding, run_findings, worst_exit_code
from dagstorm.core.durations import duration_text
from dagstorm.core.errors import ExitCode
from dagstorm.scenarios.slos import CountSlo, RecoveryTimeSlo, SchedulerThroughputSlo, SlaSlo


@dataclass(frozen=True)
class SloVerdict:
    """One SLO: what was measured, against what target, and whether it held."""

    name: str
    type: str
    measured: bool
    #: The number compared with the target (a fraction for percentages, seconds for
    #: durations); None when not measured; may be infinite (never recovered).
    value: float | None
    value_text: str
    target: str
    passed: bool
    weight: float
    detail: str


@dataclass(frozen=True)
class Verdict:
    """All SLO verdicts, the findings, the weighted score, and whether the run passed.

    Build it with :func:`verdict_of` (or :func:`judge`, :func:`evaluate`), which
    derive ``passed`` and ``exit_code`` from the SLOs and the findings.
    """

    slos: tuple[SloVerdict, ...]
    #: True only when every SLO passed and there is no finding.
    passed: bool
    #: 0–100 over the SLOs only; None when the scenario declares no SLO.
    score: float | None
    #: The worst of: 1 for a failed SLO, each finding's code (findings.SEVERITY).
    exit_code: ExitCode
    #: What fails the run besides its SLOs (a status other than completed, faults).
    findings: tuple[Finding, ...] = ()

    @property
    def failed(self) -> tuple[SloVerdict, ...]:
        """The SLOs that failed (including the unmeasured)."""
        return tuple(v for v in self.slos if not v.passed)


def verdict_of(
    slos: Sequence[SloVerdict], findings: Sequence[Finding] = (), *, score: float | None
) -> Verdict:
    """The verdict of these SLO verdicts and findings: passed, and the worst exit code."""
    codes = [f.exit_code for f in findings]
    if any(not v.passed for v in slos):
        codes.append(ExitCode.SLO_FAILED)
    exit_code = worst_exit_code(codes)
    return Verdict(
        slos=tuple(slos),
        passed=exit_code == ExitCode.OK,
        score=score,
        exit_code=exit_code,
        findings=tuple(findings),
    )


def evaluate(slos: Sequence[Slo], measures: Measures, *, compression: float) -> Verdict:
    """Judge every SLO of ``slos`` against ``measures`` (the SLOs only: no findings).

    The live views (the TUI, /metrics) use it on a run under way; the
    verdict of a run is :func:`judge`'s.
    """
    verdicts = tuple(_judge(slo, measures, compression) for slo in slos)
    total = sum(v.weight for v in verdicts)
    won = sum(v.weight for v in verdicts if v.passed)
    return verdict_of(verdicts, score=round(100.0 * won / total, 1) if total else None)


def judge(data: RunData, measures: Measures) -> Verdict:
    """The verdict of a run: its SLOs (:func:`evaluate`) and its findings."""
    slos = evaluate(data.scenario.slos, measures, compression=data.compression)
    findings = run_findings(
        status=data.status,
        reason=data.reason,
        recovery=measures.recovery_for(None),
        end_fault_errors=data.end_fault_errors,
    )
    return verdict_of(slos.slos, findings, score=slos.score)


def _judge(slo: Slo, measures: Measures, compression: float) -> SloVerdict:
    match slo:
        case SlaSlo():
            return _sla(slo, measures, compression)
        case RecoveryTimeSlo():
            return _recovery(slo, measures)
        case SchedulerThroughputSlo():
            return _throughput(slo, measures)
        case CountSlo():
            return _count(slo, measures)


def _verdict(slo: Slo, value: float, text: str, detail: str, *, veto: bool = False) -> SloVerdict:
    target = slo.target()
    return SloVerdict(
        name=slo.name,
        type=slo.type,
        measured=True,
        value=value,
        value_text=text,
        target=target.text,
        passed=target.passes(value) and not veto,
        weight=slo.weight,
        detail=detail,
    )


def _unmeasured(slo: Slo, why: str) -> SloVerdict:
    return SloVerdict(
        name=slo.name,
        type=slo.type,
        measured=False,
        value=None,
        value_text="not measured",
        target=slo.target().text,
        passed=False,
        weight=slo.weight,
        detail=f"not measured: {why}",
    )


def _sla(slo: SlaSlo, measures: Measures, compression: float) -> SloVerdict:
    m = measures.sla_for(slo)
    deadline = (
        f"deadline {duration_text(m.within_sim_s)} sim = {duration_text(m.within_wall_s)} wall"
        f" at ×{number_text(compression)}, from {m.measure_from}"
    )
    if m.runs == 0:
        return _unmeasured(slo, f"no run of DAG {m.dag_id} in the journal")
    if m.compliance is None:
        return _unmeasured(
            slo,
            f"all {plural(m.runs, 'run')} of {m.dag_id} were excluded"
            " (still running within the deadline, or no reference time)",
        )
    counted = m.met + m.missed
    text = f"{percent_text(m.compliance)} ({m.met} of {plural(counted, 'run')} within deadline)"
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
    if m.excluded:
        parts.append(f"{m.excluded} excluded (unfinished within the deadline at the end)")
    return _verdict(slo, m.compliance, text, "; ".join(parts))


def _recovery(slo: RecoveryTimeSlo, measures: Measures) -> SloVerdict:
    m = measures.recovery_for(slo.dag)
    scope = f" of DAG {slo.dag}" if slo.dag else ""
    if not m.faults:
        errors = f" ({plural(len(m.fault_errors), 'fault error')})" if m.fault_errors else ""
        return _unmeasured(slo, f"no fault was applied{errors}")
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
    return _verdict(slo, value, text, per_fault, veto=m.unrecovered > 0)


def _throughput(slo: SchedulerThroughputSlo, measures: Measures) -> SloVerdict:
    m = measures.throughput
    if m.tries_started == 0 and m.tries_finished == 0:
        return _unmeasured(slo, "no task try ran in the journal")
    if m.median_finished_per_min is None:
        return _unmeasured(slo, "no complete busy minute (the run is shorter than a minute?)")
    text = (
        f"{number_text(m.median_finished_per_min)}/min"
        f" (median over {plural(m.busy_minutes, 'busy minute')})"
    )
    delay = m.task_queue_delay_s.p95
    detail = (
        f"peak {m.peak_finished_per_min}/min; {m.tries_finished} tries finished,"
        f" {m.tries_started} started; queued→running p95 {duration_text(delay)} wall"
    )
    return _verdict(slo, m.median_finished_per_min, text, detail)


def _count(slo: CountSlo, measures: Measures) -> SloVerdict:
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
        return _unmeasured(slo, "; ".join(reasons) or "no completeness data")
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
    return _verdict(slo, float(value), f"{value} {word} events", "; ".join(parts))
