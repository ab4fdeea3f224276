"""``report.html``: the capacity report, a pure function of the run directory and its Result.

The page is one self-contained file: inline CSS, inline SVG charts, no script, and
a Content-Security-Policy that forbids loading anything, so it opens offline and
never reaches the network. The same run directory and Result give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from dagstorm import __version__
from dagstorm.analysis.outputs.history import HistoryEntry
from dagstorm.analysis.outputs.result import Result
from dagstorm.analysis.rundata.model import RunData
from dagstorm.core.atomic import atomic_write
from dagstorm.reports.charts.run_charts import all_charts
from dagstorm.reports.charts.series import run_data_of, series_of
from dagstorm.reports.markup import Markup, el
from dagstorm.reports.sections.capacity import capacity_section
from dagstorm.reports.sections.celery import celery_tables
from dagstorm.reports.sections.dag_faults import dag_faults_table
from dagstorm.reports.sections.environment import environment_section
from dagstorm.reports.sections.next_steps import next_steps_section
from dagstorm.reports.sections.ramp import ramp_section
from dagstorm.reports.sections.summary import provenance, summary_section
from dagstorm.reports.sections.task_split import task_split_table
from dagstorm.reports.sections.trends import trends_section
from dagstorm.reports.style import CSS
from dagstorm.reports.tables import (
    completeness_table,
    cross_dag_table,
    output_checks_table,
    recovery_table,
    sla_misses_table,
)
from dagstorm.run.rundir import RunDirectory

__all__ = ["REPORT_FILE", "render_report", "render_report_of", "write_report"]

REPORT_FILE = RunDirectory.REPORT

#: Nothing may load: no script, no fetch, no image, no font; only the inline styles.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)


def render_report(run_dir: Path, result: Result, *, history: Sequence[HistoryEntry] = ()) -> str:
    """The report of ``run_dir`` (analysed as ``result``) as HTML text; reads only.

    ``history`` (the history file's entries) adds the trend against earlier runs.
    """
    data = run_data_of(Path(run_dir), result)
    return render_report_of(
        data, Path(run_dir), result, scenario_text(Path(run_dir)), history=history
    )


def render_report_of(
    data: RunData,
    run_dir: Path,
    result: Result,
    scenario_text: str,
    *,
    history: Sequence[HistoryEntry] = (),
) -> str:
    """The report from the already-read run ``data`` and ``scenario.yaml``'s text."""
    series = series_of(data, result)
    title = f"dagstorm capacity report: {result.scenario.name}"
    sections = [
        el("h1", title),
        el("p", result.scenario.description, class_="sub") if result.scenario.description else "",
        summary_section(result),
        _section("what-next", "What next", next_steps_section(result.next_steps)),
        _section("summary-provenance", "Measured, derived, extrapolated", provenance(result)),
        _section("charts", "Over time", all_charts(series, result)),
        _section("trends", "Against earlier runs", trends_section(history, result)),
        _section("sla", "Runs that missed the SLA", sla_misses_table(result)),
        _section("recovery", "Recovery per fault", recovery_table(result)),
        _section(
            "cross-dag",
            "Cross-DAG waits (downstream runs on the upstream the profile declares)",
            cross_dag_table(result),
        )
        if result.measures.cross_dag.rows
        else "",
        _section(
            "task-split",
            "Where DAG run time goes (wall time: assignment, execution, transition;"
            " Windmill's split)",
            task_split_table(result),
        )
        if result.measures.task_split.groups
        else "",
        _section(
            "celery",
            "Celery (the broker's queue, the workers, tries a worker fault lost)",
            celery_tables(result),
        )
        if result.measures.celery is not None
        else "",
        _section("completeness", "Data completeness per hour", completeness_table(result)),
        _section(
            "stream-completeness",
            "Stream completeness per hour (the Kafka path)",
            completeness_table(result, stream=True),
        )
        if result.measures.stream_completeness is not None
        else "",
        _section(
            "output-checks",
            "Output checks (counts the pipeline profile declares)",
            output_checks_table(result),
        )
        if result.measures.output_checks
        else "",
        _section(
            "dag-faults",
            "Faults on DAGs (time to effect from the API; the DAG's runs around each)",
            dag_faults_table(result),
        )
        if result.measures.dag_faults
        else "",
        _section(
            "capacity",
            "Generated load (what the test offered, not the pipeline's capacity)",
            capacity_section(result.capacity),
        ),
        _section(
            "ramp", "Capacity: ramp to the breaking point", ramp_section(result.capacity.ramp)
        ),
        _section(
            "environment",
            "Environment",
            environment_section(result, series.environment, scenario_text, series.event_counts),
        ),
        el(
            "footer",
            f"dagstorm {__version__} · report of run {result.run.directory} · "
            "self-contained: no script, no network",
        ),
    ]
    head = el(
        "head",
        el("meta", charset="utf-8"),
        el("meta", http_equiv="Content-Security-Policy", content=CSP),
        el("meta", name="viewport", content="width=device-width, initial-scale=1"),
        el("meta", name="generator", content=f"dagstorm {__version__}"),
        el("title", title),
        el("style", Markup(CSS)),
    )
    body = el("body", el("main", *sections))
    return f"<!DOCTYPE html>\n{el('html', head, body, lang='en')}\n"


def scenario_text(run_dir: Path) -> str:
    """``scenario.yaml``'s text, shown as resolved (empty when absent)."""
    path = RunDirectory(Path(run_dir)).scenario
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""


def write_report(run_dir: Path, result: Result, *, history: Sequence[HistoryEntry] = ()) -> Path:
    """Write ``report.html`` into ``run_dir`` atomically; returns its path.

    Call it after ``write_result``/``write_junit`` at the end of a run or of
    ``dagstorm analyze``: ``write_report(run_dir, analyze(run_dir))``.
    """
    body = render_report(Path(run_dir), result, history=history).encode("utf-8")
    return atomic_write(RunDirectory(Path(run_dir)).report, body)


def _section(anchor: str, heading: str, content: Markup) -> Markup:
    return el("section", el("h2", heading), content, id=anchor)
