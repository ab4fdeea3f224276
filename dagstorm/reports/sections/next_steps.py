"""The report's "What next": findings with advice, SLO margins and what each fault cost.

Only draws: the findings, margins and advice are the analysis'
(``Result.next_steps``, :mod:`dagstorm.analysis.outputs.next_steps`), so
``result.json`` carries the same.
"""

from __future__ import annotations

from dagstorm.analysis.outputs.next_steps import NextSteps
from dagstorm.analysis.texts import percent_text
from dagstorm.core.durations import duration_text
from dagstorm.reports.markup import Child, Markup, el, join
from dagstorm.reports.tables import html_table

__all__ = ["next_steps_section"]

_TOPICS = {
    "failed_slo": "failed SLO",
    "closest_slo": "closest SLO",
    "sample": "sample size",
    "fault": "fault",
    "stage": "bottleneck",
    "inherited": "backlog",
}


def next_steps_section(steps: NextSteps | None) -> Markup:
    """Advice per finding, then the SLO margins and the faults' costs behind it."""
    if steps is None:
        return el(
            "p", "not measured: this result has no analysis of what next", class_="not-measured"
        )
    items = [
        el(
            "li",
            el("span", _TOPICS.get(a.topic, a.topic), class_="badge"),
            " ",
            el("strong", a.finding),
            el("br"),
            a.advice,
        )
        for a in steps.advice
    ]
    parts: list[Markup] = [
        el("ol", *items, class_="next-steps")
        if items
        else el("p", "Nothing to advise: no SLO, no fault and no capacity ramp in this run.")
    ]
    if steps.margins:
        rows: list[list[Child]] = [
            [
                el("code", m.name),
                "PASS" if m.passed else "FAIL",
                m.value_text,
                m.target,
                m.margin_text,
                "n/a" if m.relative is None else percent_text(m.relative),
                "n/a" if m.outcomes_to_fail is None else str(m.outcomes_to_fail),
            ]
            for m in steps.margins
        ]
        parts.append(
            html_table(
                [
                    "SLO",
                    "",
                    "measured",
                    "target",
                    "margin",
                    "margin ÷ target",
                    "more misses/events to fail",
                ],
                rows,
                numeric=[5, 6],
            )
        )
    if steps.faults:
        fault_rows: list[list[Child]] = [
            [
                el("span", f.fault, class_="detail"),
                el("code", f.fault_id),
                str(f.failed_runs),
                str(f.sla_misses),
                str(f.retries),
                "not measured" if f.throughput_drop is None else percent_text(f.throughput_drop),
                (duration_text(f.recovery_sim_s) + " sim") if f.recovered else "never",
                "yes" if f.visible else "no visible impact",
            ]
            for f in steps.faults
        ]
        parts.append(
            html_table(
                [
                    "fault",
                    "id",
                    "failed runs",
                    "SLA misses",
                    "retries",
                    "throughput drop",
                    "next success after its end",
                    "impact",
                ],
                fault_rows,
                numeric=[2, 3, 4, 5],
            )
        )
    return join(parts)
