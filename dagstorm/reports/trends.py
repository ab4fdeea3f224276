"""The report's trend section: this run against the last runs of its scenario.

Reads the history file's entries (docs/trends.md), never other run directories.
Three small charts (SLA compliance, recovery time p95, scheduler throughput), one
point per run, in the report's SVG style, and a table of every headline measure
with each run's change against the run before it; a change beyond the measure's
default tolerance is flagged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from dagstorm.analysis.compare import compare_measures
from dagstorm.analysis.headline import HEADLINES, HeadlineSpec, headline_spec, value_text
from dagstorm.analysis.history import HistoryEntry, runs_of_scenario
from dagstorm.analysis.result import Result
from dagstorm.reports.markup import Markup, el, join, num
from dagstorm.reports.svg import PALETTE, nice_ticks, value_label
from dagstorm.reports.tables import html_table

__all__ = ["TREND_CHARTS", "TREND_RUNS", "baseline_table", "trend_runs", "trends_section"]

#: How many runs of the scenario the section shows (this one included).
TREND_RUNS = 10
TREND_CHARTS = ("sla_compliance", "recovery_p95_sim_s", "throughput_per_min")
WIDTH, HEIGHT = 300, 150
LEFT, RIGHT, TOP, BOTTOM = 44, 10, 12, 30


def trend_runs(
    history: Sequence[HistoryEntry], result: Result, last: int = TREND_RUNS
) -> list[HistoryEntry]:
    """The last ``last`` runs of the result's scenario up to this run, oldest first."""
    return runs_of_scenario(history, result.scenario.name, until=result.run.started_at, last=last)


def trends_section(history: Sequence[HistoryEntry], result: Result) -> Markup:
    """The ``--baseline`` comparison, then charts and table of the scenario's last runs."""
    return join([baseline_table(result), _trend(history, result)])


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
                " last (ringed). Δ is each run against the run before it; ",
                el("span", "flagged", class_="bad"),
                " when it moved the wrong way beyond the measure's default tolerance"
                " (docs/trends.md).",
                class_="note",
            ),
        ]
    )


def _chart(spec: HeadlineSpec, runs: Sequence[HistoryEntry], current: str) -> Markup:
    values = [r.measures.get(spec.name) for r in runs]
    finite = [v for v in values if v is not None and math.isfinite(v)]
    scale = 100.0 if spec.unit == "fraction" else 1.0
    top = max([v * scale for v in finite] + [0.0]) or 1.0
    ticks = nice_ticks(0.0, top * 1.05, 4)
    y_top = max(ticks[-1], top)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(runs) - 1, 1)

    def x(i: int) -> float:
        return LEFT + step * i

    def y(v: float) -> float:
        return TOP + plot_h * (1 - min(max(v * scale, 0.0), y_top) / y_top)

    parts: list[Markup] = []
    for tick in ticks:
        yy = TOP + plot_h * (1 - tick / y_top)
        parts.append(el("line", x1=LEFT, x2=WIDTH - RIGHT, y1=num(yy), y2=num(yy), class_="grid"))
        parts.append(
            el(
                "text",
                value_label(tick),
                x=LEFT - 4,
                y=num(yy + 4),
                text_anchor="end",
                class_="tick",
            )
        )
    for i in (0, len(runs) - 1):
        parts.append(
            el(
                "text",
                runs[i].started_at[5:10],
                x=num(x(i)),
                y=HEIGHT - BOTTOM + 14,
                text_anchor="middle",
                class_="tick",
            )
        )
    points = [(i, v) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if len(points) > 1:
        coords = " ".join(f"{num(x(i))},{num(y(v))}" for i, v in points)
        parts.append(el("polyline", points=coords, stroke=PALETTE[0], class_="line"))
    for i, v in points:
        run = runs[i]
        parts.append(
            el(
                "circle",
                el("title", f"{run.run}: {value_text(spec, v)}"),
                cx=num(x(i)),
                cy=num(y(v)),
                r=5 if run.run == current else 3,
                fill=PALETTE[0] if run.passed else PALETTE[5],
                class_="current" if run.run == current else None,
            )
        )
    missing = len(values) - len(points)
    unit = " (%)" if spec.unit == "fraction" else ""
    svg = el(
        "svg",
        el("title", spec.label),
        *parts,
        viewBox=f"0 0 {WIDTH} {HEIGHT}",
        class_="chart trend",
        role="img",
        aria_label=f"trend of {spec.label}",
    )
    note = f"{missing} run(s) not measured" if missing else "orange: a failed run"
    return el(
        "figure",
        el("figcaption", el("strong", spec.label + unit), el("p", note, class_="note")),
        svg,
        class_="chart-box trend-box",
    )


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
