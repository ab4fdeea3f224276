"""The one-line story of a run, e.g.

``broker kill at 2m (sim 48m): 3 runs retried (failed tries: load 4, queueing 1),
recovered in 6m sim, SLA 97.9%, 0 lost — 5 of 5 SLOs passed``; a fault that caused
no retry, no failed run and no failed try says ``no visible impact (0 retries, 0
failed runs); next success after 22m sim`` instead. A fault that cut the finished
tries per minute by 10% or more says so whatever else it did (``throughput −86.7% at
worst, back to ≥90% 1m10s wall after the revert``): a slowed scheduler whose runs all
succeeded is an impact, not "no visible impact".

The failed tries are those of the fault windows, by the stage of the pipeline's
stage map they belonged to (``queueing``: failed before they started;
:mod:`~dagstorm.analysis.measures.faults.stage_tries`). A backlog of runs queued before
the start that took 5% or more of the tries says so (``12.0% of tries from 40 runs
queued before the start``).
"""

from __future__ import annotations

from dagstorm.analysis.measures.compute import Measures
from dagstorm.analysis.measures.data.output_checks import OutputCheckMeasure
from dagstorm.analysis.measures.faults.recovery import FaultRecovery, RetryRecovery
from dagstorm.analysis.outputs.next_steps import VISIBLE_DROP, inherited_is_notable
from dagstorm.analysis.texts import percent_text, plural
from dagstorm.analysis.verdict.judgement import Verdict
from dagstorm.core.durations import duration_text

#: Faults named in the story; the rest are counted.
NAMED_FAULTS = 2
#: Output checks named in the story (where there is no ledger); the rest are counted.
NAMED_CHECKS = 2


def run_story(measures: Measures, verdict: Verdict, *, status: str) -> str:
    """What happened, in one line: faults, retries, recovery, SLA, loss, verdict."""
    recovery = measures.recovery_for(None)
    parts: list[str] = []
    if recovery.faults:
        named = ", ".join(
            f"{f.fault} at {duration_text(f.start_t)} (sim {duration_text(f.start_sim_s)})"
            for f in recovery.faults[:NAMED_FAULTS]
        )
        extra = len(recovery.faults) - NAMED_FAULTS
        head = named + (f" and {plural(extra, 'more fault')}" if extra > 0 else "")
        parts.extend(_recovery_parts(recovery))
    else:
        head = "no fault applied"
    if recovery.fault_errors:
        parts.append(plural(len(recovery.fault_errors), "fault error"))
    several = len({m.dag_id for m in measures.sla}) > 1
    for sla in measures.sla:
        label = f"SLA {sla.dag_id}" if several else "SLA"
        parts.append(f"{label} {percent_text(sla.compliance)}")
    paths = [("", measures.completeness)]
    if measures.stream_completeness is not None:
        paths = [("landing ", measures.completeness), ("stream ", measures.stream_completeness)]
        paths = [p for p in paths if p[1].measured] or paths[1:]
    checked = [c for c in measures.output_checks if c.lost is not None]
    for label, completeness in paths:
        if completeness.measured:
            loss = f"{label}{completeness.lost_events} lost"
            if completeness.duplicate_events:
                loss += f", {completeness.duplicate_events} duplicated"
            parts.append(loss)
        elif not checked:
            parts.append(f"{label}loss not measured")
    if checked and not any(c.measured for _, c in paths):
        # No ledger to compare with: the pipeline profile's output checks measured it.
        parts.extend(_check_loss(c) for c in checked[:NAMED_CHECKS])
        if len(checked) > NAMED_CHECKS:
            parts.append(plural(len(checked) - NAMED_CHECKS, "more output check"))
    parts.extend(_inherited_part(measures))
    total = len(verdict.slos)
    outcome = (
        f"{total - len(verdict.failed)} of {plural(total, 'SLO')} passed" if total else "no SLOs"
    )
    if verdict.findings:
        outcome += f", {plural(len(verdict.findings), 'finding')}"
    prefix = "" if status == "completed" else f"run {status}; "
    return f"{prefix}{head}: {', '.join(parts)} — {outcome}"


def _inherited_part(measures: Measures) -> list[str]:
    inherited = measures.inherited
    if not inherited_is_notable(inherited):
        return []
    runs = plural(inherited.runs, "run")
    return [f"{percent_text(inherited.share)} of tries from {runs} queued before the start"]


def _check_loss(check: OutputCheckMeasure) -> str:
    """``orders_loaded: 0 lost, 2 duplicated`` (an output check's loss)."""
    text = f"{check.name}: {check.lost} lost"
    if check.duplicated:
        text += f", {check.duplicated} duplicated"
    return text


def _recovery_parts(recovery: RetryRecovery) -> list[str]:
    """Retries (with the failed tries' stages) and recovery.

    A fault that cost nothing has no recovery to speak of.
    """
    failed = failed_by_stage(recovery.faults)
    where = f" (failed tries: {stage_counts_text(failed)})" if failed else ""
    retried = f"{plural(recovery.runs_retried, 'run')} retried{where}{_delays_text(recovery)}"
    slowed = _throughput_part(recovery.faults)
    if recovery.unrecovered:
        never = f"{recovery.unrecovered} of {len(recovery.faults)} never recovered"
        return [retried, never, *slowed]
    if recovery.retries == 0 and recovery.failed_runs == 0 and not failed:
        # Nothing to recover from: the time to the next success is not a recovery.
        next_success = f"next success after {duration_text(recovery.max_sim_s)} sim"
        if not slowed:
            return [f"no visible impact (0 retries, 0 failed runs); {next_success}"]
        return ["0 retries, 0 failed runs", *slowed, next_success]
    return [retried, f"recovered in {duration_text(recovery.max_sim_s)} sim", *slowed]


def _delays_text(recovery: RetryRecovery) -> str:
    """``, 6.1s–20.3s wall before a retry`` (the backoff lived), or '' without retries."""
    delays = [d for f in recovery.faults for d in f.retry_delays_wall_s]
    if not delays or recovery.retries == 0:
        return ""
    low, high = min(delays), max(delays)
    span = duration_text(low)
    if high - low >= 0.05:
        span += f"–{duration_text(high)}"
    return f", {span} wall before a retry"


def _throughput_part(faults: tuple[FaultRecovery, ...]) -> list[str]:
    """The largest visible drop in finished tries per minute, and when it came back (or none)."""
    dropped = [
        f for f in faults if f.throughput_drop is not None and f.throughput_drop >= VISIBLE_DROP
    ]
    if not dropped:
        return []
    worst = max(dropped, key=lambda f: f.throughput_drop or 0.0)
    back = (
        f"back to ≥90% {duration_text(worst.throughput_recovery_wall_s)} wall after the revert"
        if worst.throughput_recovered and worst.throughput_recovery_wall_s is not None
        else "never back to ≥90%"
    )
    return [f"throughput −{percent_text(worst.throughput_drop)} at worst, {back}"]


def failed_by_stage(faults: tuple[FaultRecovery, ...]) -> dict[str, int]:
    """Failed tries per stage over ``faults``' windows, in stage order (none: left out)."""
    counts: dict[str, int] = {}
    for fault in faults:
        for stage in fault.stages:
            if stage.failed:
                counts[stage.stage] = counts.get(stage.stage, 0) + stage.failed
    return counts


def stage_counts_text(counts: dict[str, int]) -> str:
    """``load 4, queueing 1``: the stages with the most first (ties in stage order)."""
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    return ", ".join(f"{stage} {count}" for stage, count in ranked)
