"""The environment block: enough to reproduce the run (versions, machine, scenario, seed)."""

from __future__ import annotations

from collections.abc import Mapping

from dagstorm import __version__
from dagstorm.analysis.outputs.result import Result
from dagstorm.analysis.texts import number_text
from dagstorm.reports.markup import Markup, el, join
from dagstorm.reports.tables import html_table

__all__ = ["environment_section"]

_VERSION_PREFIX = "version."


def environment_section(
    result: Result,
    environment: Mapping[str, str],
    scenario_text: str,
    event_counts: Mapping[str, int],
) -> Markup:
    """Run facts, machine, component versions, the (redacted) scenario and event counts."""
    scenario = result.scenario
    facts: list[tuple[str, str]] = [
        ("scenario", scenario.name),
        ("description", scenario.description),
        ("seed", "none" if scenario.seed is None else str(scenario.seed)),
        ("time compression", f"×{number_text(scenario.time_compression)}"),
        ("stack", scenario.stack_kind or "unknown"),
        ("dagstorm (run)", scenario.dagstorm_version or "unknown"),
        ("dagstorm (analysis and report)", __version__),
        ("run directory", result.run.directory),
        ("started (UTC)", result.run.started_at),
    ]
    machine = [(k, v) for k, v in environment.items() if not k.startswith(_VERSION_PREFIX)]
    versions = [
        (k.removeprefix(_VERSION_PREFIX), v)
        for k, v in environment.items()
        if k.startswith(_VERSION_PREFIX)
    ]
    counts = ", ".join(f"{kind} {n:,}" for kind, n in event_counts.items())
    return join(
        [
            el(
                "div",
                el("div", el("h3", "Run"), html_table(["", ""], facts)),
                el(
                    "div",
                    el("h3", "Machine"),
                    html_table(["", ""], machine)
                    if machine
                    else el("p", "not recorded", class_="not-measured"),
                ),
                el(
                    "div",
                    el("h3", "Component versions"),
                    html_table(["component", "version"], versions)
                    if versions
                    else el("p", "not recorded", class_="not-measured"),
                ),
                class_="env-grid",
            ),
            el("h3", "Scenario (as resolved, secrets redacted)"),
            el("pre", scenario_text)
            if scenario_text
            else el(
                "p", "not recorded: no scenario.yaml in the run directory", class_="not-measured"
            ),
            el("p", f"Journal events by kind: {counts or 'none'}.", class_="note"),
        ]
    )
