# mypy: disable-error-code="import-untyped"
"""What next: the SLO closest to failing, the fault that hurt most, the stage that grew first.

Derived from the verdict, the measures and the capacity (nothing new is measured),
so ``result.json`` (``next_steps``) and the report say the same. Every finding
comes with advice. Nothing here names a DAG, task or fault of any pipeline: the
texts use the names the run itself carries (docs/measures.md, section What next).

- **margin** of an SLO, and the one closest to failing: :mod:`dagstorm.analysis.verdict.margins`;
- **impact** of a fault window (all DAGs): never recovered first, then failed runs
  plus SLA misses of runs that overlapped the window up to its horizon, then the
  throughput drop, the retries and the recovery time; the fault that hurt most is
  the highest, when any fault had a visible impact;
- **first growth**: the capacity ramp's bottleneck (the stage whose time grew first);
- **inherited work**: runs queued before the run began (a backlog) that took at least
  :data:`INHERITED_SHARE` of the tries started during it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from dagstorm.analysis.capacity import Bottleneck, RampCapacity
from dagstorm.analysis.measures.compute import Measures
from dagstorm.analysis.measures.faults.recovery import FaultRecovery
from dagstorm.analysis.measures.scheduler.inherited import InheritedRuns
from dagstorm.analysis.rundata.model import Slo
from dagstorm.analysis.texts import percent_text, plain_number, plural
from dagstorm.analysis.verdict.judgement import Verdict
from dagstorm.analysis.verdict.margins import SloMargin, closest_slo, slo_margins
from dagstorm.core.durations import duration_text

__all__ = [
    "Advice",
    "FaultImpact",
    "NextSteps",
    "SloMargin",
    "StageGrowth",
    "inherited_is_notable",
    "next_steps",
]

#: A drop in finished tries per minute at least this large is a visible impact.
VISIBLE_DROP = 0.1
#: Runs from before the run that took at least this share of its tries are worth a word.
INHERITED_SHARE = 0.05


@dataclass(frozen=True)
class FaultImpact:
    """What one fault window cost (over all DAGs)."""

    fault_id: str
    fault: str
    recovered: bool
    failed_runs: int
    sla_misses: int
    retries: int
    throughput_drop: float | None
    recovery_sim_s: float
    throughput_recovery_wall_s: float | None
    #: Any retry, failed run, SLA miss, drop ≥ :data:`VISIBLE_DROP`, or no recovery.
    visible: bool
    text: str


@dataclass(frozen=True)
class StageGrowth:
    """The stage whose time grew first under a capacity ramp."""

    stage: str
    #: 1-based ramp step and its rate factor.
    step: int
    factor: float
    rise_sim_s: float
    text: str


@dataclass(frozen=True)
class Advice:
    """One finding and what to do about it."""

    #: ``failed_slo``, ``closest_slo``, ``sample``, ``fault``, ``stage`` or ``inherited``.
    topic: str
    finding: str
    advice: str


@dataclass(frozen=True)
class NextSteps:
    """The report's "What next" (``result.json`` ``next_steps``)."""

    margins: tuple[SloMargin, ...]
    closest_slo: SloMargin | None
    faults: tuple[FaultImpact, ...]
    worst_fault: FaultImpact | None
    first_growth: StageGrowth | None
    advice: tuple[Advice, ...]


def next_steps(
    slos: Sequence[Slo],
    verdict: Verdict,
    measures: Measures,
    ramp: RampCapacity | None,
    dag_runs: pd.DataFrame | None = None,
) -> NextSteps:
    """What next, from the scenario's SLOs, the verdict, the measures and the ramp."""
    specs = {slo.name: slo for slo in slos}
    margins = slo_margins(specs, verdict, measures)
    closest = closest_slo(margins)
    spans = _run_spans(dag_runs)  # once: a long soak has tens of thousands of runs
    faults = tuple(_impact(f, measures, spans) for f in measures.recovery_for(None).faults)
    visible = [f for f in faults if f.visible]
    worst = max(visible, key=_impact_rank) if visible else None
    growth = _growth(ramp)
    advice = _advice(margins, closest=closest, faults=faults, worst=worst, ramp=ramp, growth=growth)
    advice.extend(_inherited_advice(measures.inherited))
    return NextSteps(margins, closest, faults, worst, growth, tuple(advice))


def _impact(f: FaultRecovery, measures: Measures, spans: RunSpans) -> FaultImpact:
    misses = _sla_misses_in(f, measures, spans)
    drop = f.throughput_drop
    visible = (
        not f.recovered
        or f.retries > 0
        or bool(f.failed_runs)
        or misses > 0
        or (drop is not None and drop >= VISIBLE_DROP)
    )
    if not f.recovered:
        what = "never recovered: no successful run after its end"
    elif visible:
        what = f"recovered {duration_text(f.recovery_sim_s)} sim after its end"
    else:
        what = (
            f"no visible impact; next success {duration_text(f.recovery_sim_s)} sim after its end"
        )
    costs = [
        plural(len(f.failed_runs), "failed run"),
        _counted(misses, "SLA miss", "SLA misses"),
        _counted(f.retries, "retry", "retries"),
    ]
    if drop is not None:
        costs.append(f"throughput −{percent_text(max(drop, 0.0))} at worst")
    return FaultImpact(
        fault_id=f.fault_id,
        fault=f.fault,
        recovered=f.recovered,
        failed_runs=len(f.failed_runs),
        sla_misses=misses,
        retries=f.retries,
        throughput_drop=drop,
        recovery_sim_s=f.recovery_sim_s,
        throughput_recovery_wall_s=f.throughput_recovery_wall_s,
        visible=visible,
        text=f"{f.fault} [{f.fault_id}]: {', '.join(costs)}; {what}",
    )


def _counted(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


#: Each run's (queued_at_t, end_date_t), by (dag_id, run_id).
RunSpans = dict[tuple[str, str], tuple[float, float]]


def _run_spans(dag_runs: pd.DataFrame | None) -> RunSpans:
    """When each run was queued and ended (wall seconds; NaN when unknown)."""
    if dag_runs is None or dag_runs.empty:
        return {}
    return {
        (str(d), str(r)): (q, e)
        for d, r, q, e in zip(
            dag_runs["dag_id"],
            dag_runs["run_id"],
            dag_runs["queued_at_t"],
            dag_runs["end_date_t"],
            strict=True,
        )
    }


def _sla_misses_in(f: FaultRecovery, measures: Measures, spans: RunSpans) -> int:
    """SLA misses (any SLA SLO) of runs whose life overlapped the window up to its horizon."""
    if not spans:
        return 0
    count = 0
    for sla in measures.sla:
        for miss in sla.misses:
            queued, ended = spans.get((miss.dag_id, miss.run_id), (math.nan, math.nan))
            start = queued if not pd.isna(queued) else f.start_t
            end = ended if not pd.isna(ended) else math.inf
            if start <= f.horizon_t and end >= f.start_t:
                count += 1
    return count


def _impact_rank(f: FaultImpact) -> tuple[bool, int, float, int, float]:
    drop = f.throughput_drop if f.throughput_drop is not None else 0.0
    return (not f.recovered, f.failed_runs + f.sla_misses, drop, f.retries, f.recovery_sim_s)


def _growth(ramp: RampCapacity | None) -> StageGrowth | None:
    grew: Bottleneck | None = ramp.bottleneck if ramp is not None else None
    if ramp is None or grew is None:
        return None
    step = ramp.steps[grew.step]
    factor = step.factor
    text = (
        f"{grew.stage} grew first: +{duration_text(grew.rise_sim_s)} sim per run at ramp step"
        f" {grew.step + 1} (×{plain_number(factor, 3)} the declared rate)"
    )
    return StageGrowth(grew.stage, grew.step + 1, factor, grew.rise_sim_s, text)


#: What to change when an SLO of this type is failing or close to it.
_SLO_ADVICE = {
    "sla": (
        "read its slowest runs in 'Runs that missed the SLA' and the run-duration chart;"
        " shorten the longest stage, or let more runs and tasks go in parallel"
        " (max_active_runs, pool slots, executor parallelism) before traffic grows"
    ),
    "recovery_time": (
        "make work resume sooner after a fault: retries whose retry_delay × retries outlast"
        " the fault, shorter connection timeouts, and a sensor or reschedule instead of"
        " a failure while a dependency is down"
    ),
    "scheduler_throughput": (
        "give the scheduler more room: raise parallelism and pool slots, lower the"
        " scheduler loop's work (fewer, larger tasks), and watch the queued→running delay"
    ),
    "lost_events": (
        "make loads exactly-once: commit a partition's load and its marker together,"
        " and re-run a failed partition until it succeeds (see the completeness tables)"
    ),
    "duplicate_events": (
        "make loads idempotent: overwrite or merge a partition's rows instead of"
        " appending, so a retried load cannot count an event twice"
    ),
}
_GENERIC_SLO_ADVICE = "read its detail in the SLO table; it names what the measure counted"

#: What to change when a stage's time grows first under load.
_STAGE_ADVICE = {
    "queueing": (
        "tasks waited for a slot: raise executor parallelism, pool slots and"
        " max_active_tasks, or give the scheduler more CPU"
    ),
    "wait": (
        "the pipeline waited longer for its input: check the sensors' poke interval"
        " and mode, and how late the upstream data lands"
    ),
    "transform": (
        "the transform is the bottleneck: give its jobs more cores, executors or"
        " memory, or split a partition's work"
    ),
    "load": (
        "writes to the serving store slowed first: batch the writes, add connections"
        " or write capacity, and check the store's locks and indexes"
    ),
    "check": "the checks grew first: make them incremental (per partition) rather than full scans",
}


def _advice(
    margins: Sequence[SloMargin],
    *,
    closest: SloMargin | None,
    faults: Sequence[FaultImpact],
    worst: FaultImpact | None,
    ramp: RampCapacity | None,
    growth: StageGrowth | None,
) -> list[Advice]:
    out: list[Advice] = []
    for m in margins:
        if not m.passed:
            out.append(
                Advice(
                    "failed_slo",
                    f"{m.name} failed: {m.value_text}; {m.margin_text}",
                    "Fix this first: " + _SLO_ADVICE.get(m.type, _GENERIC_SLO_ADVICE) + ".",
                )
            )
    if closest is not None:
        more = ""
        if closest.outcomes_to_fail is not None:
            unit = "missed run" if closest.type == "sla" else "event"
            more = f"; {plural(closest.outcomes_to_fail, 'more ' + unit)} would fail it"
        out.append(
            Advice(
                "closest_slo",
                f"Closest to failing: {closest.name}, {closest.value_text};"
                f" {closest.margin_text}{more}",
                "Before raising the load: "
                + _SLO_ADVICE.get(closest.type, _GENERIC_SLO_ADVICE)
                + ".",
            )
        )
    for m in margins:
        if m.sample is not None:
            out.append(
                Advice(
                    "sample",
                    f"{m.name}: {m.sample}",
                    "Run longer, or compress time less, so that enough runs are judged;"
                    " until then read its value as a smoke test, not as compliance.",
                )
            )
    if worst is not None:
        out.append(Advice("fault", f"The fault that hurt most: {worst.text}", _fault_advice(worst)))
    elif faults:
        out.append(
            Advice(
                "fault",
                f"No fault had a visible impact ({plural(len(faults), 'fault')}: no retry,"
                " no failed run, no SLA miss, no throughput drop of 10% or more)",
                "The pipeline absorbed these faults: make them harder (a longer window, a"
                " higher severity, or during peak load) to find where it starts to hurt.",
            )
        )
    if growth is not None:
        out.append(
            Advice(
                "stage",
                growth.text,
                _STAGE_ADVICE.get(growth.stage, f"give the {growth.stage} stage more capacity")
                + "; then run the ramp again to see the next stage to grow.",
            )
        )
    elif ramp is not None:
        out.append(
            Advice(
                "stage",
                "No stage's time grew beyond noise during the ramp",
                "Extend the ramp (a higher end factor or more steps) to reach the break.",
            )
        )
    return out


def inherited_is_notable(inherited: InheritedRuns) -> bool:
    """True when runs from before the run took at least :data:`INHERITED_SHARE` of its tries."""
    return inherited.share is not None and inherited.share >= INHERITED_SHARE


def _inherited_advice(inherited: InheritedRuns) -> list[Advice]:
    if not inherited_is_notable(inherited):
        return []
    dags = ", ".join(f"{d['dag_id']} {d['runs']}" for d in inherited.by_dag)
    more = "" if inherited.runs == sum(int(d["runs"]) for d in inherited.by_dag) else ", …"
    return [
        Advice(
            "inherited",
            f"{plural(inherited.runs, 'run')} queued before this run began ran during it"
            f" ({dags}{more}): {inherited.tries:,} of"
            f" {inherited.all_tries:,} tries started, {percent_text(inherited.share)}",
            "They shared the executor's slots with this run's load, so its throughput and"
            " delays include their work. Before a run whose figures you compare, let the"
            " backlog drain (or mark those runs failed) until no run of these DAGs is queued.",
        )
    ]


def _fault_advice(f: FaultImpact) -> str:
    if not f.recovered:
        return (
            "Nothing succeeded after this fault ended: make the affected tasks retry for"
            " longer than the fault lasts, and check that the pipeline reconnects by itself."
        )
    if f.failed_runs or f.sla_misses:
        return (
            "Runs failed or missed the SLA: give the affected tasks retries whose"
            " retry_delay × retries outlasts the fault, and keep the DAG's timeouts"
            " below its SLA deadline so a retry still fits."
        )
    if f.retries:
        return (
            "Retries absorbed it: check the retry budget; a fault longer than"
            " retries × retry_delay would fail runs."
        )
    return (
        "Throughput fell but nothing failed: the pipeline queues work during the fault;"
        " check that the backlog drains before the next peak."
    )
