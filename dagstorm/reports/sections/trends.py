"""The report's trend section: this run against the last runs of its scenario.

Reads the history file's entries (docs/trends.md), never other run directories.
Three small charts (SLA compliance, recovery time p95, scheduler throughput), one
point per run, drawn by svg.py like the run's charts, and a table of every headline measure
with each run's change against the run before it; a change beyond the measure's
default tolerance is flagged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from dagstorm.analysis.outputs.compare import compare_measures
from dagstorm.analysis.outputs.headline import HEADLINES, HeadlineSpec, headline_spec, value_text
from dagstorm.analysis.outputs.history import HistoryEntry, runs_of_scenario
from dagstorm.analysis.outputs.result import Result
from dagstorm.reports.charts.chart import PALETTE, SMALL, Chart, Series
from dagstorm.reports.charts.svg import render_chart
from dagstorm.reports.markup import Markup, el, join
from dagstorm.reports.sections.executor_compare import executor_section
from dagstorm.reports.tables import html_table

__all__ = ["TREND_CHARTS", "TREND_RUNS", "baseline_table", "trend_runs", "trends_section"]

#: How many runs of the scenario the section shows (this one included).
TREND_RUNS = 10
TREND_CHARTS = ("sla_compliance", "recovery_p95_sim_s", "throughput_per_min")
#: The colour of a failed run's dot.
FAILED = PALETTE[5]
#: A run's place on the x axis, its value as drawn, the run.
Measured = tuple[float, float, HistoryEntry]
_Y_LABELS = {
    "fraction": "%",
    "seconds": "seconds",
    "per_min": "per minute",
    "count": "",
    "score": "",
    "ratio": "× target",
    "bytes_per_s": "bytes/s",
}


def trend_runs(
    history: Sequence[HistoryEntry], result: Result, last: int = TREND_RUNS
) -> list[HistoryEntry]:
    """The last ``last`` runs of the result's scenario up to this run, oldest first."""
    return runs_of_scenario(history, result.scenario.name, until=result.run.started_at, last=last)


def trends_section(history: Sequence[HistoryEntry], result: Result) -> Markup:
    """The ``--baseline`` comparison (executors side by side), then the last runs' trend."""
    return join([baseline_table(result), executor_section(result), _trend(history, result)])


def baseline_table(result: Result) -> Markup:
    """Every headline measure against the ``--baseline`` run (nothing without one)."""
    if result.baseline is None:
        return Markup("")
    baseline, comparison = result.baseline
    rows = [
        [
            row.spec.label,
            value_text(row.spec, row.baseline),
            value_text(row.spec, row.candidate),
            "" if row.delta_pct is None else f"{row.delta_pct:+.1f}%",
            row.tolerance.text,
            el("span", f"regression: {row.note}", class_="bad") if row.regressed else row.note,
        ]
        for row in comparison.rows
    ]
    return join(
        [
            el("h3", f"Against the baseline {baseline.run} ({baseline.started_at[:19]})"),
            html_table(
                ["measure", "baseline", "this run", "Δ", "tolerance", ""],
                rows,
                numeric=[1, 2, 3],
            ),
        ]
    )


def _trend(history: Sequence[HistoryEntry], result: Result) -> Markup:
    runs = trend_runs(history, result)
    if len(runs) < 2:
        why = "no history file" if not history else f"{len(runs)} run of this scenario recorded"
        return el(
            "p",
            f"not measured: a trend needs two runs of {result.scenario.name} in the history"
            f" ({why}; `dagstorm run` records each run in runs/history.jsonl).",
            class_="not-measured",
        )
    current = str(result.run_dir.name)
    charts = [
        _chart(spec, runs, current)
        for name in TREND_CHARTS
        if (spec := headline_spec(name)) is not None
    ]
    return join(
        [
            el("div", *charts, class_="trend-charts"),
            _table(runs, current),
            el(
                "p",
                f"The last {len(runs)} runs of {result.scenario.name} in the history, this one"
                " last (ringed); orange dots are failed runs. Δ is each run against the run"
                " before it; ",
                el("span", "flagged", class_="bad"),
                " when it moved the wrong way beyond the measure's default tolerance"
                " (docs/trends.md).",
                class_="note",
            ),
        ]
    )


def _chart(spec: HeadlineSpec, runs: Sequence[HistoryEntry], current: str) -> Markup:
    """One headline measure over the runs: a line through the measured ones, a dot each."""
    scale = 100.0 if spec.unit == "fraction" else 1.0
    measured: list[Measured] = [
        (float(i), v * scale, run)
        for i, run in enumerate(runs)
        if (v := run.measures.get(spec.name)) is not None and math.isfinite(v)
    ]

    def dots(
        name: str, chosen: list[Measured], color: str, *, radius: float = 3, ring: bool = False
    ) -> Series:
        return Series(
            name,
            tuple((i, v) for i, v, _ in chosen),
            "points",
            color=color,
            titles=tuple(f"{run.run}: {value_text(spec, v / scale)}" for _, v, run in chosen),
            radius=radius,
            ring=ring,
        )

    earlier = [m for m in measured if m[2].run != current]
    this = [m for m in measured if m[2].run == current]
    series = [
        Series(spec.label, tuple((i, v) for i, v, _ in measured), color=PALETTE[0]),
        dots("passed", [m for m in earlier if m[2].passed], PALETTE[0]),
        dots("failed", [m for m in earlier if not m[2].passed], FAILED),
        *(
            dots("this run", [m], PALETTE[0] if m[2].passed else FAILED, radius=5, ring=True)
            for m in this
        ),
    ]
    missing = len(runs) - len(measured)
    # One line each, whatever it says, so the three charts stay aligned.
    note = f"{missing} of {len(runs)} runs not measured" if missing else "every run measured"
    chart = Chart(
        title=spec.label,
        y_label=_Y_LABELS[spec.unit],
        # One measured run: no line, its dot is enough.
        series=tuple(series if len(measured) > 1 else series[1:]),
        x_end=0.0,
        x_categories=tuple(run.started_at[5:10] for run in runs),
        x_label="",
        y_top=100.0 if spec.unit == "fraction" else None,
        frame=SMALL,
        legend=False,
        note=note,
        variant="trend",
    )
    return render_chart(chart)


def _table(runs: Sequence[HistoryEntry], current: str) -> Markup:
    rows = []
    previous: HistoryEntry | None = None
    for run in runs:
        comparison = None if previous is None else compare_measures(previous.measures, run.measures)
        cells: list[Markup | str] = [
            el("strong", run.run) if run.run == current else el("code", run.run),
            el(
                "span",
                "PASS" if run.passed else "FAIL",
                class_=f"badge {'pass' if run.passed else 'fail'}",
            ),
        ]
        for index, spec in enumerate(HEADLINES):
            text = value_text(spec, run.measures.get(spec.name))
            row = None if comparison is None else comparison.rows[index]
            if row is not None and row.regressed:
                cells.append(el("span", text, title=row.note, class_="bad"))
            else:
                cells.append(text)
        rows.append(cells)
        previous = run
    return html_table(
        ["run", "verdict", *(s.label for s in HEADLINES)],
        rows,
        numeric=list(range(2, 2 + len(HEADLINES))),
    )
