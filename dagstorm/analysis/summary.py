"""The verdict as plain terminal lines (the CLI may colour PASS / FAIL)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagstorm.analysis.texts import number_text
from dagstorm.core.durations import duration_text

if TYPE_CHECKING:
    from dagstorm.analysis.result import Result


def summary_lines(result: Result) -> list[str]:
    """A header, one line per SLO (with the detail under a failure), score and story."""
    scenario, run, verdict = result.scenario, result.run, result.verdict
    seed = f", seed {scenario.seed}" if scenario.seed is not None else ""
    lines = [
        f"{scenario.name}: run {run.status} after {duration_text(run.wall_s)} wall"
        f" ({duration_text(run.sim_s)} sim at ×{number_text(scenario.time_compression)}){seed}"
    ]
    if run.reason:
        lines.append(f"  reason: {run.reason}")
    name_width = max((len(v.name) for v in verdict.slos), default=0)
    value_width = max((len(v.value_text) for v in verdict.slos), default=0)
    for v in verdict.slos:
        mark = "PASS" if v.passed else "FAIL"
        weight = f"  weight {number_text(v.weight)}" if v.weight != 1 else ""
        lines.append(
            f"  {mark}  {v.name:<{name_width}}  {v.value_text:<{value_width}}"
            f"  target {v.target}{weight}"
        )
        if not v.passed:
            lines.append(f"        {v.detail}")
    if verdict.score is None:
        lines.append("no SLOs declared — PASS (exit 0)")
    else:
        outcome = "PASS" if verdict.passed else "FAIL"
        lines.append(
            f"score {number_text(verdict.score)}/100 — {outcome} (exit {int(verdict.exit_code)})"
        )
    lines.append(result.story)
    return lines
