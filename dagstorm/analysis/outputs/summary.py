"""The verdict as plain terminal lines (the CLI may colour PASS / FAIL)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagstorm.analysis.texts import number_text, plural
from dagstorm.core.durations import duration_text

if TYPE_CHECKING:
    from dagstorm.analysis.outputs.result import Result
    from dagstorm.analysis.verdict.judgement import Verdict


def summary_lines(result: Result) -> list[str]:
    """The verdict as terminal lines.

    A header, one line per SLO (with the detail under a failure), one per finding,
    the outcome (:func:`outcome_line`) and the story.
    """
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
    for finding in verdict.findings:
        lines.append(f"  FAIL  {finding.text}")
    lines.append(outcome_line(verdict, run.status))
    lines.append(result.story)
    return lines


def outcome_line(verdict: Verdict, status: str) -> str:
    """The last word: the score (the weighted share of SLOs passed), status, findings, verdict.

    E.g. ``score 62.5/100 (weighted share of SLOs passed); run completed; no findings —
    FAIL (exit 1)``.

    Without SLOs it says so, and still fails on a finding: ``no SLOs declared; run
    interrupted; 2 findings — FAIL (exit 130)``.
    """
    score = (
        "no SLOs declared"
        if verdict.score is None
        else f"score {number_text(verdict.score)}/100 (weighted share of SLOs passed)"
    )
    findings = plural(len(verdict.findings), "finding") if verdict.findings else "no findings"
    outcome = "PASS" if verdict.passed else "FAIL"
    return f"{score}; run {status}; {findings} — {outcome} (exit {int(verdict.exit_code)})"
