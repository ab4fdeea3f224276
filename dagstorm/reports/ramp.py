"""The report's capacity-ramp block: per step, then the answer, measured vs extrapolated.

Only draws: the figures are the analysis' (``Result.capacity.ramp``,
:mod:`dagstorm.analysis.capacity.ramp`, where the definitions are).
"""

from __future__ import annotations

from dagstorm.analysis.capacity import STAGES, RampCapacity
from dagstorm.analysis.texts import plain_number
from dagstorm.core.durations import duration_text
from dagstorm.reports.capacity import per_day
from dagstorm.reports.markup import Markup, el, join
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
        mark = (
            el("span", "holds", class_="badge pass")
            if step.holds
            else el("span", "breaks" if step.holds is False else "no runs", class_="badge fail")
        )
        rows.append(
            [
                str(step.index + 1),
                f"×{plain_number(step.factor, 3)}",
                f"{duration_text(round(step.start_t))}–{duration_text(round(step.end_t))}",
                _mb(step.wall_bytes_per_s),
                str(step.runs),
                "n/a" if step.compliance is None else f"{step.compliance * 100:.1f}%",
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
            "SLA",
            "",
            *(f"{s} (median, sim)" for s in STAGES),
        ],
        rows,
        numeric=[3, 4, 5, 7, 8, 9, 10],
    )
    return join([table, el("ul", *(el("li", line) for line in ramp_answer(ramp)))])


def ramp_answer(ramp: RampCapacity) -> list[str]:
    """The answer in sentences, each saying whether it is measured or extrapolated."""
    lines = []
    if ramp.sustained is None:
        lines.append(
            f"Measured: not even the first step met the SLA ({ramp.dag_id} {ramp.target_text})."
        )
    else:
        step = ramp.steps[ramp.sustained]
        rate = _mb(step.wall_bytes_per_s)
        lines.append(
            f"Measured: the highest sustained rate within the SLA ({ramp.dag_id}"
            f" {ramp.target_text}) was step {step.index + 1} (×{plain_number(step.factor, 3)}),"
            f" {rate} MB/s wall."
        )
    if ramp.broke is None:
        lines.append("Measured: the SLA never broke within the ramp; capacity is above its top.")
    else:
        broke = ramp.steps[ramp.broke]
        compliance = "n/a" if broke.compliance is None else f"{broke.compliance * 100:.1f}%"
        lines.append(
            f"Measured: it broke at step {broke.index + 1}"
            f" (×{plain_number(broke.factor, 3)}), SLA {compliance}."
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


def _sim(seconds: float | None) -> str:
    return "n/a" if seconds is None else duration_text(seconds)


def _mb(bytes_per_s: float | None) -> str:
    return "n/a" if bytes_per_s is None else plain_number(bytes_per_s / 1e6)
