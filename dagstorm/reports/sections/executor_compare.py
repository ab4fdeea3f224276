"""The report's executor comparison: this run beside a ``--baseline`` run on another executor.

Shown only when the baseline came from a run directory (its ``baseline.json``
keeps the baseline's executor and the measures compared: task instances finished
per minute, queued → running p50/p95/p99, SLA per DAG, recovery per fault) and
that run named a different executor than this one. ``dagstorm compare`` shows
the same rows for any two runs.
"""

from __future__ import annotations

from dagstorm.analysis.outputs.executor_compare import executor_comparison, side_value_text
from dagstorm.analysis.outputs.jsonable import to_jsonable
from dagstorm.analysis.outputs.result import Result
from dagstorm.reports.markup import Markup, el, join
from dagstorm.reports.tables import html_table

__all__ = ["executor_section"]


def executor_section(result: Result) -> Markup:
    """The baseline's executor beside this run's (nothing unless they differ)."""
    if result.baseline is None or result.baseline[0].side is None:
        return Markup("")
    baseline = result.baseline[0]
    side = baseline.side or {}
    this = {"scenario": to_jsonable(result.scenario), "measures": to_jsonable(result.measures)}
    sides = executor_comparison(side, this)
    if not sides.differ:
        return Markup("")
    rows = [["executor", sides.executor_a, sides.executor_b]] + [
        [
            row.label,
            side_value_text(row.unit, row.a, row.missing_a),
            side_value_text(row.unit, row.b, row.missing_b),
        ]
        for row in sides.rows
    ]
    return join(
        [
            el(
                "h3",
                f"Executor comparison: {sides.executor_a} (baseline {baseline.run})"
                f" vs {sides.executor_b} (this run)",
            ),
            html_table(
                ["measure", f"baseline ({sides.executor_a})", f"this run ({sides.executor_b})"],
                rows,
                numeric=[1, 2],
            ),
        ]
    )
