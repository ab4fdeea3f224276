"""``capacity.html``: a breakpoint search's answer, its steps and the verify runs.

Only draws: the figures are the analysis' (:class:`CapacitySearchSummary`,
:mod:`dagstorm.analysis.outputs.capacity_search`). Same styles and the same
Content-Security-Policy as ``report.html``: one self-contained file.
"""

from __future__ import annotations

from pathlib import Path

from dagstorm import __version__
from dagstorm.analysis.capacity import STAGES
from dagstorm.analysis.capacity.search_summary import CapacitySearchSummary, StepRow, VerifyCheck
from dagstorm.analysis.capacity.step_profile import StepProfile
from dagstorm.core.atomic import atomic_write
from dagstorm.core.durations import duration_text
from dagstorm.core.errors import ExitCode
from dagstorm.reports.markup import Markup, el
from dagstorm.reports.page import CSP
from dagstorm.reports.sections.capacity import per_day
from dagstorm.reports.style import CSS
from dagstorm.reports.tables import html_table

__all__ = ["SEARCH_PAGE", "answer_lines", "render_search_page", "write_search_page"]

SEARCH_PAGE = "capacity.html"


def answer_lines(summary: CapacitySearchSummary) -> list[str]:
    """The answer in sentences, each saying whether it is measured or extrapolated."""
    lines = [f"The search ended: {summary.ended} — {summary.ended_text}."]
    if summary.bounded_by_wall:
        lines.append(
            "The wall budget ended the search: the answer below is not converged to the"
            f" {summary.settings.tolerance * 100:g}% tolerance."
        )
    sustained = _row(summary, summary.sustained)
    if summary.sustained is None:
        lines.append("Measured: no step held the SLA.")
    else:
        lines.append(
            f"Measured: sustained ×{summary.sustained:.4g} within {summary.sla_text}"
            f"{_sample(sustained)}."
        )
    if summary.breaking is None:
        lines.append("Measured: no step broke; the limit is above the highest step.")
    else:
        broke = _row(summary, summary.breaking)
        reason = "" if broke is None else f" ({broke.reason})"
        lines.append(f"Measured: broke at ×{summary.breaking:.4g}{reason}.")
    if summary.width is not None:
        lines.append(f"The limit lies between them: an interval {summary.width * 100:.0f}% wide.")
    lines += _limits(summary)
    if summary.sustained_full_scale_bytes_per_s is not None:
        lines.append(
            "Extrapolated (linear in volume, not run at that volume): sustained"
            f" {per_day(summary.sustained_full_scale_bytes_per_s)} at full scale"
            f"{_headroom(summary)}."
        )
    lines += [_verify_line(check) for check in summary.verify]
    lines.append(f"Wall time of the search: {duration_text(round(summary.wall_s))}.")
    return lines


def _headroom(summary: CapacitySearchSummary) -> str:
    """The headroom against the target (``, 1.20× the target …``), why not, or nothing."""
    if summary.headroom is not None:
        return (
            f", {summary.headroom:.2f}× the target {summary.target_text}"
            f" — headroom {(summary.headroom - 1) * 100:+.0f}%"
        )
    if summary.target_text is not None:
        return f"; headroom not measured: the target {summary.target_text} is not a byte rate"
    return ""


def _verify_line(check: VerifyCheck) -> str:
    """One verify check in a sentence: what it must do, what it did, as expected or not."""
    verdict = "as expected" if check.passed else "NOT as expected"
    if check.step.verdict == "undecided":  # not run, or could not run
        did = "it was not decided" + (f" ({check.step.reason})" if check.step.reason else "")
    else:
        did = f"it {check.step.verdict}{_sample(check.step)}"
    must = f"×{check.multiplier:.4g} must {check.expected[:-1]}"
    return f"Verify {check.name}: {must}, {did} — {verdict}."


def _limits(summary: CapacitySearchSummary) -> list[str]:
    """The limiting stage and resources, in sentences."""
    lines = []
    if summary.limiting_stage is None:
        lines.append("Measured: no stage's time grew beyond noise up to the break.")
    else:
        grew = summary.limiting_stage
        at = summary.limiting_stage_multiplier
        lines.append(
            f"Measured: the stage whose time grew first was {grew.stage}"
            f" (+{duration_text(grew.rise_sim_s)} sim per run"
            + ("" if at is None else f", first at ×{at:.4g}")
            + ")."
        )
    task = summary.limiting_task
    if task is None:
        lines.append("Measured: no task's time grew beyond noise up to the break.")
    else:
        lines.append(f"Measured: the task whose time grew first was {task.text}.")
    for leader in (summary.limiting_cpu, summary.limiting_memory):
        if leader is not None:
            lines.append(f"Measured: the resource that grew most: {leader.text}.")
    if summary.limiting_cpu is None and summary.limiting_memory is None:
        lines.append(
            "Not measured: no component's CPU or memory grew beyond noise"
            " (or the runs had no process samples)."
        )
    lines.append(_saturation(summary))
    lines.append(_pool_saturation(summary))
    foreign = _foreign(summary)
    if foreign:
        lines.append(foreign)
    return lines


def _foreign(summary: CapacitySearchSummary) -> str:
    """Runs of the SLA's DAG the steps did not start, if any step had some."""
    seen = [
        (r.profile.foreign, r.multiplier)
        for r in summary.steps
        if r.profile is not None and r.profile.foreign.most
    ]
    if not seen:
        return ""
    most = max(f.most for f, _ in seen)
    mean = sum(f.mean for f, _ in seen) / len(seen)
    return (
        f"Measured: in {len(seen)} of {len(summary.steps)} steps, runs of the SLA's DAG that"
        f" the search did not start were active (its own schedule, leftovers: at most {most}"
        f" at once, {mean:.1f} on average). They hold the DAG's own run and pool slots"
        " (max_active_runs, pools), so the limit was measured with that much less room."
    )


def _saturation(summary: CapacitySearchSummary) -> str:
    """What saturated first, or how close Spark came."""
    if summary.saturated_first is not None:
        return f"Measured: saturated first: {summary.saturated_first.text}."
    # The steps first_saturated looked at: judged ones, up to the breaking step.
    top = summary.breaking if summary.breaking is not None else summary.sustained
    sampled = [
        (r.profile.spark.saturated_share, r.multiplier)
        for r in summary.steps
        if r.verdict in ("holds", "breaks")
        and (top is None or r.multiplier <= top)
        and r.profile is not None
        and r.profile.spark is not None
    ]
    if not sampled:
        return "Not measured: Spark's cores (the runs had no Spark master samples)."
    share, at = max(sampled)
    upto = "" if top is None else f" up to ×{top:.4g}"
    return (
        f"Measured: Spark's cores were never all in use most of the time{upto} (at most"
        f" {share * 100:.0f}% of the samples, at ×{at:.4g})."
    )


def _pool_saturation(summary: CapacitySearchSummary) -> str:
    """The pool that filled first, or how close the fullest came."""
    if summary.pool_saturated_first is not None:
        return f"Measured: pool saturated first: {summary.pool_saturated_first.text}."
    top = summary.breaking if summary.breaking is not None else summary.sustained
    sampled = [
        (use.full_share, r.multiplier, use.pool)
        for r in summary.steps
        if r.verdict in ("holds", "breaks")
        and (top is None or r.multiplier <= top)
        and r.profile is not None
        for use in r.profile.pools
    ]
    if not sampled:
        return "Not measured: Airflow's pools (the runs had no StatsD pool gauges)."
    share, at, pool = max(sampled)
    upto = "" if top is None else f" up to ×{top:.4g}"
    return (
        f"Measured: no pool was full most of the time{upto} (the fullest: {pool}, no open"
        f" slot in {share * 100:.0f}% of the samples at ×{at:.4g})."
    )


def render_search_page(summary: CapacitySearchSummary) -> str:
    """The page: the answer, the steps table, the verify table, the settings."""
    code = summary.exit_code
    title = f"dagstorm capacity search: {summary.scenario}"
    badge = el(
        "span",
        "ANSWERED" if code == ExitCode.OK else f"NO ANSWER (exit {int(code)})",
        class_="badge pass" if code == ExitCode.OK else "badge fail",
    )
    sections = [
        el("h1", title),
        el("p", badge, " ", summary.started_at, class_="sub"),
        el("section", el("h2", "Answer"), el("ul", *(el("li", x) for x in answer_lines(summary)))),
        el(
            "section",
            el("h2", "Steps"),
            _steps_table(
                summary.steps,
                None if summary.limiting_task is None else summary.limiting_task.task,
            ),
            id="steps",
        ),
        el("section", el("h2", "Verify (steady runs)"), _verify(summary), id="verify"),
        el("section", el("h2", "Settings"), _settings(summary), id="settings"),
        el(
            "footer",
            f"dagstorm {__version__} · capacity search of {summary.scenario} · "
            "each step's run directory has its own report.html · self-contained",
        ),
    ]
    head = el(
        "head",
        el("meta", charset="utf-8"),
        el("meta", http_equiv="Content-Security-Policy", content=CSP),
        el("meta", name="viewport", content="width=device-width, initial-scale=1"),
        el("title", title),
        el("style", Markup(CSS)),
    )
    body = el("body", el("main", *sections))
    return f"<!DOCTYPE html>\n{el('html', head, body, lang='en')}\n"


def write_search_page(search_dir: Path, summary: CapacitySearchSummary) -> Path:
    """Write ``capacity.html`` into ``search_dir``; its path."""
    return atomic_write(Path(search_dir) / SEARCH_PAGE, render_search_page(summary).encode("utf-8"))


def _steps_table(rows: tuple[StepRow, ...], task: str | None = None) -> Markup:
    """One row per step; with ``task`` (the limiting task), a column of its median."""
    tasks = [] if task is None else [task]
    if not rows:
        return el("p", "not measured: no step ran", class_="not-measured")
    return html_table(
        [
            "step",
            "phase",
            "×rate",
            "full-scale rate (extrapolated)",
            "sub-runs",
            "met/counted",
            "SLA",
            "compliance interval (Wilson)",
            "verdict",
            "why",
            *(f"{s} (median, sim)" for s in STAGES),
            *(f"task {t} (median, sim)" for t in tasks),
            "busiest CPU (median, % of a core)",
            "Spark cores all in use (share of samples)",
            "fullest pool (no open slot, share of samples)",
            "other runs of the DAG active (mean / most)",
            "scheduler loop p50",
            "tasks running / starving (max)",
            "Kafka lag (max)",
        ],
        [
            [
                str(r.index + 1),
                r.phase,
                f"×{r.multiplier:.4g}",
                per_day(r.full_scale_bytes_per_s),
                str(len(r.run_dirs)),
                f"{r.met}/{r.counted}",
                "n/a" if r.compliance is None else f"{r.compliance * 100:.1f}%",
                "n/a" if r.interval is None else r.interval.text,
                _badge(r.verdict),
                r.reason + (" (stopped early)" if r.early else ""),
                *(_stage(r, s) for s in STAGES),
                *(_task(r, t) for t in tasks),
                *_platform(r.profile),
            ]
            for r in rows
        ],
        numeric=[0, 2, 4, 5, 6],
    )


def _verify(summary: CapacitySearchSummary) -> Markup:
    if not summary.verify:
        return el(
            "p",
            "not run: the scenario has no capacity.verify, or the search found no"
            " sustained and breaking rates to verify",
            class_="not-measured",
        )
    return html_table(
        ["check", "×rate", "expected", "verdict", "met/counted", "interval", "why", "runs"],
        [
            [
                c.name,
                f"×{c.multiplier:.4g}",
                c.expected,
                el("span", c.step.verdict, class_="badge pass" if c.passed else "badge fail"),
                f"{c.step.met}/{c.step.counted}",
                "n/a" if c.step.interval is None else c.step.interval.text,
                c.step.reason,
                ", ".join(Path(d).name for d in c.step.run_dirs),
            ]
            for c in summary.verify
        ],
        numeric=[1, 4],
    )


def _settings(summary: CapacitySearchSummary) -> Markup:
    s = summary.settings
    budget = "none" if s.budget_s is None else duration_text(s.budget_s)
    return el(
        "p",
        f"start ×{s.start:g}, growth ×{s.growth:g}, ceiling ×{s.ceiling:g}, at least"
        f" {s.min_runs} runs a step (at most {s.max_sub_runs} sub-runs), tolerance"
        f" {s.tolerance * 100:g}%, wall budget {budget}; SLA {summary.sla_text};"
        f" declared rate {summary.declared_text or 'none'}, target"
        f" {summary.target_text or 'none'}. Steps stop early once more runs cannot change"
        " their verdict (docs/capacity.md).",
        class_="note",
    )


def _platform(profile: StepProfile | None) -> list[str]:
    """Busiest component, Spark cores, fullest pool, scheduler loop, running/starving, lag."""
    if profile is None:
        return ["n/a"] * 7
    busiest = max(profile.resources, key=lambda u: u.cpu_pct_median, default=None)
    spark = profile.spark
    return [
        "n/a" if busiest is None else f"{busiest.component} {busiest.cpu_pct_median:.0f}%",
        "n/a" if spark is None else f"{spark.saturated_share * 100:.0f}% of {spark.cores}",
        _fullest(profile),
        f"{profile.foreign.mean:.1f} / {profile.foreign.most}",
        "n/a" if profile.loop_p50_ms is None else f"{profile.loop_p50_ms:.0f} ms",
        f"{_count(profile.running_max)} / {_count(profile.starving_max)}",
        _count(profile.kafka_lag_max),
    ]


def _fullest(profile: StepProfile) -> str:
    """``spark_pool 67% of 1``: the pool with no open slot most often."""
    fullest = max(profile.pools, key=lambda u: (u.full_share, u.pool), default=None)
    if fullest is None:
        return "n/a"
    return f"{fullest.pool} {fullest.full_share * 100:.0f}% of {fullest.slots}"


def _count(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _badge(verdict: str) -> Markup:
    kind = {"holds": "pass", "breaks": "fail"}.get(verdict, "not-measured")
    return el("span", verdict, class_=f"badge {kind}")


def _stage(row: StepRow, stage: str) -> str:
    value = None if row.profile is None else row.profile.stages.get(stage)
    return "n/a" if value is None else duration_text(value)


def _task(row: StepRow, task: str) -> str:
    value = None if row.profile is None else row.profile.tasks.get(task)
    return "n/a" if value is None else duration_text(value)


def _row(summary: CapacitySearchSummary, multiplier: float | None) -> StepRow | None:
    return next(
        (r for r in summary.steps if r.multiplier == multiplier and r.verdict != "undecided"),
        None,
    )


def _sample(row: StepRow | None) -> str:
    if row is None:
        return ""
    if row.counted == 1:
        return ", a verdict on one run only"
    interval = "" if row.interval is None else f", {row.interval.text}"
    return f", {row.met}/{row.counted} runs met{interval}"
