"""The report's capacity-ramp block: per step, then the answer, measured vs extrapolated.

Only draws: the figures are the analysis' (``Result.capacity.ramp``,
:mod:`dagstorm.analysis.capacity.ramp`, where the definitions are).
"""

from __future__ import annotations

from dagstorm.analysis.capacity import STAGES, RampCapacity, RampStep
from dagstorm.analysis.texts import plain_number
from dagstorm.core.durations import duration_text
from dagstorm.reports.markup import Markup, el, join
from dagstorm.reports.sections.capacity import per_day
from dagstorm.reports.tables import html_table

__all__ = ["ramp_answer", "ramp_section"]


def ramp_section(ramp: RampCapacity | None) -> Markup:
    """The capacity-ramp block: per step, then the answer, measured vs extrapolated."""
    if ramp is None:
        return el(
            "p",
            "not measured: this run has no stepped ramp workload and SLA SLO"
            " (run scenarios/capacity-ramp.yaml for it).",
            class_="not-measured",
        )
    rows = []
    for step in ramp.steps:
        if step.holds is None:
            mark = el("span", "not measured", class_="badge not-measured")
        elif step.holds:
            mark = el("span", "holds", class_="badge pass")
        else:
            mark = el("span", "breaks", class_="badge fail")
        rows.append(
            [
                str(step.index + 1),
                f"×{plain_number(step.factor, 3)}",
                f"{duration_text(round(step.start_t))}–{duration_text(round(step.end_t))}",
                _mb(step.wall_bytes_per_s),
                str(step.runs),
                f"{step.met}/{step.counted}",
                "n/a" if step.compliance is None else f"{step.compliance * 100:.1f}%",
                "n/a" if step.interval is None else step.interval.text,
                mark,
                *(_sim(step.stages.get(stage)) for stage in STAGES),
            ]
        )
    table = html_table(
        [
            "step",
            "rate",
            "wall window",
            "measured MB/s (wall)",
            "runs",
            "met/counted",
            "SLA",
            "compliance interval (Wilson)",
            "",
            *(f"{s} (median, sim)" for s in STAGES),
        ],
        rows,
        numeric=[3, 4, 6, 9, 10, 11, 12],
    )
    return join([table, el("ul", *(el("li", line) for line in ramp_answer(ramp)))])


def ramp_answer(ramp: RampCapacity) -> list[str]:
    """The answer in sentences, each saying whether it is measured or extrapolated."""
    lines = []
    sla = f"{ramp.dag_id} {ramp.target_text}"
    unmeasured = [s.index + 1 for s in ramp.steps if not s.measured]
    if unmeasured:
        lines.append(
            f"Not measured: step(s) {', '.join(map(str, unmeasured))} had no counted run of"
            f" {ramp.dag_id}; they neither hold nor break and are skipped."
        )
    if len(unmeasured) == len(ramp.steps):
        lines.append(f"Not measured: no step had a run of {ramp.dag_id}, so no capacity answer.")
    elif ramp.sustained is None:
        first = next(s for s in ramp.steps if s.measured)
        lines.append(
            f"Measured: the first measured step (step {first.index + 1},"
            f" ×{plain_number(first.factor, 3)}) already missed the SLA ({sla}){_sample(first)}."
        )
    else:
        step = ramp.steps[ramp.sustained]
        rate = _mb(step.wall_bytes_per_s)
        lines.append(
            f"Measured: the highest sustained rate within the SLA ({sla}) was step"
            f" {step.index + 1} (×{plain_number(step.factor, 3)}), {rate} MB/s wall"
            f"{_sample(step)}."
        )
    if ramp.broke is None:
        if len(unmeasured) < len(ramp.steps):
            lines.append(
                "Measured: the SLA never broke within the ramp; capacity is above its top."
            )
    else:
        broke = ramp.steps[ramp.broke]
        compliance = "n/a" if broke.compliance is None else f"{broke.compliance * 100:.1f}%"
        lines.append(
            f"Measured: it broke at step {broke.index + 1}"
            f" (×{plain_number(broke.factor, 3)}), SLA {compliance}{_sample(broke)}."
        )
    if ramp.bottleneck is None:
        lines.append("Measured: no stage's time grew beyond noise before the break.")
    else:
        grew = ramp.bottleneck
        lines.append(
            f"Measured: the stage whose time grew first was {grew.stage}"
            f" (+{_sim(grew.rise_sim_s)} sim per run at step {grew.step + 1}): the bottleneck."
        )
    full = per_day(ramp.full_scale_bytes_per_s)
    if ramp.headroom is None:
        lines.append(f"Extrapolated: full-scale sustained rate {full} (no declared target rate).")
    else:
        lines.append(
            f"Extrapolated (linear in volume, not run at that volume): the sustained rate is"
            f" {full} at full scale, {ramp.headroom:.2f}× the target {ramp.declared_text}"
            f" — headroom {(ramp.headroom - 1) * 100:+.0f}%."
        )
    return lines


def _sample(step: RampStep) -> str:
    """How much the step's verdict rests on: ``, 4/5 runs met, 38–96% (95% CI)``."""
    if step.counted == 1:
        return ", a verdict on one run only"
    interval = "" if step.interval is None else f", {step.interval.text}"
    return f", {step.met}/{step.counted} runs met{interval}"


def _sim(seconds: float | None) -> str:
    return "n/a" if seconds is None else duration_text(seconds)


def _mb(bytes_per_s: float | None) -> str:
    return "n/a" if bytes_per_s is None else plain_number(bytes_per_s / 1e6)
