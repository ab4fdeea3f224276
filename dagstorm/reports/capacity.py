"""Capacity: the generated traffic as measured, and what it means at production scale.

A scenario generates ``rate × scale`` of production traffic in simulated time, and
the engine runs ``time_compression`` times faster than wall time. The measured wall
rate divided by the compression is the simulated rate; divided again by ``scale`` it
is the **extrapolated** production-equivalent rate, compared with the target rate.
The extrapolation assumes the pipeline scales linearly with volume: it is labelled
as such, never mixed with measured figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from dagstorm.core.durations import duration_text
from dagstorm.reports.markup import Markup, el, join
from dagstorm.reports.ramp import STAGES, RampCapacity
from dagstorm.reports.tables import html_table
from dagstorm.workloads.traffic.rates import RateError, parse_rate, parse_scale

__all__ = [
    "WorkloadCapacity",
    "capacity_section",
    "ramp_answer",
    "ramp_section",
    "read_scenario",
    "workload_capacity",
]

SCENARIO_FILE = "scenario.yaml"
_DAY = 86_400.0


@dataclass(frozen=True)
class WorkloadCapacity:
    """One workload's generated traffic: measured (wall, sim) and extrapolated (full scale)."""

    workload: str
    kind: str
    records: int
    bytes: int
    #: Seconds of wall time covered by its workload_stats intervals.
    active_wall_s: float
    wall_bytes_per_s: float
    sim_bytes_per_s: float
    #: The scenario's target (production) rate and scale, when it declares them.
    target_text: str | None
    target_bytes_per_s: float | None
    scale: float | None

    @property
    def full_scale_bytes_per_s(self) -> float | None:
        """Extrapolated: the simulated rate divided by the scale."""
        return None if self.scale is None else self.sim_bytes_per_s / self.scale

    @property
    def target_ratio(self) -> float | None:
        """Extrapolated full-scale rate ÷ target rate (1.0 = on target)."""
        full, target = self.full_scale_bytes_per_s, self.target_bytes_per_s
        return None if full is None or not target else full / target


def workload_capacity(
    stats: pd.DataFrame | None, scenario: Mapping[str, Any], compression: float
) -> tuple[WorkloadCapacity, ...]:
    """Per workload (by name, sorted): what workload_stats measured, with its declared target.

    ``stats`` is the journal's ``workload_stats`` frame (:class:`JournalScan`).
    """
    if stats is None or stats.empty:
        return ()
    frame = pd.DataFrame(
        {
            "name": stats["workload"].astype(object).map(_text),
            "kind": stats["workload_kind"].astype(object).map(_text),
            "records": pd.to_numeric(stats["records"], errors="coerce").fillna(0.0),
            "bytes": pd.to_numeric(stats["bytes"], errors="coerce").fillna(0.0),
            "interval_s": pd.to_numeric(stats["interval_s"], errors="coerce").fillna(0.0),
        }
    )
    grouped = frame.groupby("name", sort=True)
    totals = grouped[["records", "bytes", "interval_s"]].sum()
    kinds = grouped["kind"].last()
    declared = _declared(scenario)
    out = []
    for name in totals.index:
        records, size, active = (float(v) for v in totals.loc[name])
        wall = size / active if active else 0.0
        kind = str(kinds[name])
        text, target, scale = declared.get(kind, (None, None, None))
        out.append(
            WorkloadCapacity(
                workload=str(name),
                kind=kind,
                records=int(records),
                bytes=int(size),
                active_wall_s=active,
                wall_bytes_per_s=wall,
                sim_bytes_per_s=wall / compression,
                target_text=text,
                target_bytes_per_s=target,
                scale=scale,
            )
        )
    return tuple(out)


def _text(value: Any) -> str:
    return (
        "None" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    )


def read_scenario(run_dir: Path) -> tuple[str, Mapping[str, Any]]:
    """``scenario.yaml``'s text and its parsed mapping (empty when absent or unreadable)."""
    path = Path(run_dir) / SCENARIO_FILE
    if not path.is_file():
        return "", {}
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError:
        return text, {}
    return text, parsed if isinstance(parsed, Mapping) else {}


def capacity_section(
    stats: pd.DataFrame | None, scenario: Mapping[str, Any], compression: float
) -> Markup:
    """The capacity block: measured generation rates and the labelled extrapolation."""
    rows = workload_capacity(stats, scenario, compression)
    if not rows:
        return el(
            "p", "not measured: no workload_stats events in the journal", class_="not-measured"
        )
    table = html_table(
        [
            "workload",
            "kind",
            "records",
            "MB",
            "measured MB/s (wall)",
            "= sim MB/s",
            "declared target",
            "scale",
            "extrapolated full-scale rate",
            "vs target",
        ],
        [
            [
                el("code", w.workload),
                w.kind,
                f"{w.records:,}",
                f"{w.bytes / 1e6:,.1f}",
                f"{w.wall_bytes_per_s / 1e6:.4g}",
                f"{w.sim_bytes_per_s / 1e6:.4g}",
                w.target_text or "none declared",
                "n/a" if w.scale is None else f"{w.scale:.4g}",
                el("em", _per_day(w.full_scale_bytes_per_s)),
                el("em", "n/a" if w.target_ratio is None else f"{w.target_ratio * 100:.0f}%"),
            ]
            for w in rows
        ],
        numeric=[2, 3, 4, 5, 7, 8, 9],
    )
    return join(
        [
            table,
            el(
                "p",
                "Measured: records, bytes and the wall rate come from the run's workload_stats. "
                "Derived: sim rate = wall rate ÷ time compression. ",
                el("em", "Extrapolated"),
                ": full-scale rate = sim rate ÷ scale, assuming the "
                "pipeline's cost grows linearly with volume; it was not run at that volume. "
                "A capacity-ramp run adds the highest sustained rate within the SLA below.",
                class_="note",
            ),
        ]
    )


def _declared(scenario: Mapping[str, Any]) -> dict[str, tuple[str, float, float | None]]:
    """Workload kind → (rate text, bytes/s, scale) for workloads with a byte rate."""
    declared: dict[str, tuple[str, float, float | None]] = {}
    workloads = scenario.get("workloads")
    for spec in workloads if isinstance(workloads, list) else []:
        if not isinstance(spec, Mapping) or not isinstance(spec.get("rate"), str):
            continue
        try:
            rate = parse_rate(spec["rate"])
            scale = parse_scale(spec["scale"]) if spec.get("scale") is not None else None
        except RateError:
            continue
        if rate.unit == "bytes":
            declared.setdefault(str(spec.get("kind")), (rate.text, rate.per_second, scale))
    return declared


def _per_day(bytes_per_s: float | None) -> str:
    if bytes_per_s is None:
        return "n/a (no scale declared)"
    per_day = bytes_per_s * _DAY
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if per_day >= size:
            return f"{per_day / size:.3g} {unit}/day"
    return f"{per_day / 1e3:.3g} kB/day"


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
                f"×{step.factor:.3g}",
                f"{duration_text(round(step.start_t))}–{duration_text(round(step.end_t))}",
                "n/a" if step.wall_bytes_per_s is None else f"{step.wall_bytes_per_s / 1e6:.4g}",
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
        rate = "n/a" if step.wall_bytes_per_s is None else f"{step.wall_bytes_per_s / 1e6:.4g}"
        lines.append(
            f"Measured: the highest sustained rate within the SLA ({ramp.dag_id}"
            f" {ramp.target_text}) was step {step.index + 1} (×{step.factor:.3g}),"
            f" {rate} MB/s wall."
        )
    if ramp.broke is None:
        lines.append("Measured: the SLA never broke within the ramp; capacity is above its top.")
    else:
        broke = ramp.steps[ramp.broke]
        compliance = "n/a" if broke.compliance is None else f"{broke.compliance * 100:.1f}%"
        lines.append(
            f"Measured: it broke at step {broke.index + 1} (×{broke.factor:.3g}), SLA {compliance}."
        )
    if ramp.bottleneck is None:
        lines.append("Measured: no stage's time grew beyond noise before the break.")
    else:
        stage, index, rise = ramp.bottleneck
        lines.append(
            f"Measured: the stage whose time grew first was {stage}"
            f" (+{_sim(rise)} sim per run at step {index + 1}): the bottleneck."
        )
    full = _per_day(ramp.full_scale_bytes_per_s)
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
