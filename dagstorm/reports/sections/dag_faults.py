"""The report's table of faults on one DAG: deploys, broken files, pauses, reruns."""

from __future__ import annotations

from dagstorm.analysis.measures.faults.dag_faults import DagFaultImpact
from dagstorm.analysis.outputs.result import Result
from dagstorm.core.durations import duration_text
from dagstorm.reports.markup import Child, Markup, el
from dagstorm.reports.tables import html_table

__all__ = ["dag_faults_table"]


def _versions(impact: DagFaultImpact) -> str:
    before = ", ".join(f"v{v}" for v in impact.versions_before) or "none seen"
    after = ", ".join(f"v{v}" for v in impact.versions_after) or "none seen"
    return f"{before} → {after}"


def dag_faults_table(result: Result) -> Markup:
    """One row per DAG fault: time to effect, runs in its window, straddlers, versions."""
    rows: list[list[Child]] = []
    for m in result.measures.dag_faults:
        straddling = ", ".join(m.straddling[:3]) + (
            f" and {len(m.straddling) - 3} more" if len(m.straddling) > 3 else ""
        )
        rows.append(
            [
                m.fault,
                m.dag_id,
                duration_text(m.effect_s) if m.effect_s is not None else "n/a",
                "never" if m.reverted_t is None else duration_text(m.reverted_t - m.applied_t),
                f"{m.runs_started:,}",
                el("span", f"{m.runs_failed:,}", class_="bad" if m.runs_failed else None),
                straddling or "none",
                _versions(m),
            ]
        )
    headers = [
        "fault",
        "DAG",
        "time to effect",
        "held",
        "runs started in it",
        "failed",
        "runs straddling it",
        "DAG versions before → during/after",
    ]
    return html_table(headers, rows, numeric=[2, 3, 4, 5])
