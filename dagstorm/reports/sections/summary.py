"""The top of the report: verdict, score, the one-line story, each SLO, and provenance."""

from __future__ import annotations

from dagstorm.analysis.outputs.result import Result
from dagstorm.analysis.texts import number_text, plural
from dagstorm.core.durations import duration_text
from dagstorm.reports.markup import Markup, el, join
from dagstorm.reports.tables import slo_table

__all__ = ["SCORE_MEANING", "findings_list", "provenance", "summary_section"]

#: What the resilience score is, said wherever it is shown.
SCORE_MEANING = "the weighted share of SLOs passed"


def summary_section(result: Result) -> Markup:
    """Verdict badge, resilience score, story, run facts, the findings and the SLO table.

    The badge is the verdict's (``result.json``'s ``verdict.passed``): PASS only when
    every SLO passed and there is no finding, FAIL with the exit code otherwise.
    """
    verdict = result.verdict
    passed = verdict.passed
    score = "n/a (no SLO)" if verdict.score is None else f"{number_text(verdict.score)}/100"
    run = result.run
    scenario = result.scenario
    facts = (
        f"Run {run.status}"
        + (f" ({run.reason})" if run.reason else "")
        + f", started {run.started_at}, {duration_text(run.wall_s)} wall = "
        f"{duration_text(run.sim_s)} sim at ×{number_text(scenario.time_compression)}; "
        f"{run.events:,} journal events; "
        f"{len(verdict.slos) - len(verdict.failed)} of {len(verdict.slos)} SLOs passed; "
        + (plural(len(verdict.findings), "finding") if verdict.findings else "no findings")
        + f"; exit code {int(verdict.exit_code)}."
    )
    badge = "PASS" if passed else f"FAIL (exit {int(verdict.exit_code)})"
    headline = el(
        "div",
        el("div", badge, class_="verdict " + ("pass" if passed else "fail")),
        el(
            "div",
            el("div", "resilience score", class_="label"),
            el("div", score, class_="score"),
            el("div", SCORE_MEANING, class_="label"),
            class_="score-box",
        ),
        el("p", result.story, class_="story"),
        class_="headline",
    )
    facts_line = el("p", facts, class_="facts")
    return join([headline, facts_line, findings_list(result), slo_table(result)])


def findings_list(result: Result) -> Markup:
    """What fails the run besides its SLOs (nothing when there is no finding)."""
    findings = result.verdict.findings
    if not findings:
        return Markup("")
    items = [el("li", el("span", "FAIL", class_="badge fail"), " ", f.text) for f in findings]
    return el(
        "div",
        el("h3", "Findings: these fail the run whatever the SLOs say"),
        el("ul", *items),
        class_="findings",
    )


def provenance(result: Result) -> Markup:
    """What in this report was measured, what was derived, and what was extrapolated."""
    compression = number_text(result.scenario.time_compression)
    return el(
        "ul",
        el(
            "li",
            el("strong", "Measured"),
            ": every count, duration and rate in the tables and "
            "charts comes from this run's journal, ledger and serving data "
            "(docs/measures.md).",
        ),
        el(
            "li",
            el("strong", "Derived"),
            f": simulated times are wall times × {compression} "
            "(the time compression); SLA deadlines and recovery targets are in simulated time.",
        ),
        el(
            "li",
            el("strong", "Extrapolated"),
            ": only the full-scale rates: the generated load's (sim rate ÷ scale) and the"
            " ramp's headroom. Nothing else is projected.",
        ),
        el(
            "li",
            el("strong", "Not measured"),
            ": any figure marked so; an SLO that could not be measured fails.",
        ),
        class_="provenance",
    )
