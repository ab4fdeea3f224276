"""`dagstorm nightly [SUITE]`: run a suite of scenarios headless, for CI."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from dagstorm.cli import cli
from dagstorm.cli.common import (
    Settings,
    handle_errors,
    metrics_options,
    print_warnings,
    tolerance_option,
)

DEFAULT_SUITE = Path("scenarios/nightly.yaml")


@cli.command("nightly")
@click.argument(
    "suite_file", type=click.Path(path_type=Path, dir_okay=False), default=DEFAULT_SUITE
)
@click.option("--dry-run", is_flag=True, help="Print the plan (scenarios, overrides, times).")
@click.option(
    "--runs-dir",
    type=click.Path(path_type=Path),
    default=Path("runs"),
    show_default=True,
    help="Where run directories and the suite directory are created.",
)
@click.option(
    "--history",
    type=click.Path(path_type=Path, dir_okay=False),
    help="History file (default RUNS_DIR/history.jsonl; env DAGSTORM_HISTORY).",
)
@click.option(
    "--baseline",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A history file: each scenario is judged against its last recorded run"
    " (absent, or no run of a scenario yet: that scenario runs without a baseline).",
)
@tolerance_option
@metrics_options("each run's live metrics")
@click.pass_obj
@handle_errors
def nightly(
    settings: Settings,
    suite_file: Path,
    *,
    dry_run: bool,
    runs_dir: Path,
    history: Path | None,
    baseline: Path | None,
    tolerances: tuple[str, ...],
    metrics_port: int | None,
    metrics_host: str,
) -> None:
    """Run a suite of scenarios one after another, headless, for CI (docs/nightly.md).

    Writes each run's directory (result.json, junit.xml, report.html) and a suite
    directory RUNS_DIR/<UTC>-suite-<name>/ with junit.xml (one testsuite per
    scenario, one testcase per SLO), summary.json and summary.md.

    Exit codes: the worst of the runs — 0 all passed, 1 an SLO failed (or a
    regression against --baseline), 2 invalid suite or scenario, 3 infrastructure
    error (stops the suite; the rest are skipped), 130 interrupted (stops it too).

    \b
    Example:
      dagstorm nightly --dry-run
      dagstorm nightly scenarios/nightly.yaml --runs-dir runs
    """
    from dagstorm.scenarios.suite import load_suite

    # Bad input is refused before the analysis stack (pandas) is even imported.
    suite = load_suite(suite_file)
    print_warnings(w for loaded in suite.scenarios for w in loaded.warnings)
    from dagstorm.analysis.outputs.compare import parse_tolerances
    from dagstorm.analysis.outputs.history import (
        default_history_path,
        read_history,
        runs_of_scenario,
    )
    from dagstorm.cli.run_flow import execute_loaded
    from dagstorm.core.progress import Progress
    from dagstorm.harness.baseline import baseline_candidates, resolve_baseline
    from dagstorm.harness.flow import FinishedRun
    from dagstorm.harness.options import RunOptions
    from dagstorm.harness.suite import run_suite
    from dagstorm.harness.suite_stacks import SuiteStacks, bring_up
    from dagstorm.metrics.server import MetricsAddress
    from dagstorm.scenarios.loader import LoadedScenario
    from dagstorm.stack.config import StackConfig, load_stack_config

    chosen = parse_tolerances(tolerances)
    if baseline is not None and not baseline.is_file():
        # The first night of a CI job: nothing to compare with yet, not an error.
        click.echo(f"no history at {baseline} yet: no scenario has a baseline", err=True)
    stacks = SuiteStacks(
        home=settings.config(),
        bring=bring_up(Progress(quiet=settings.quiet)),
        read=lambda path: load_stack_config(path, state_dir=settings.state_dir),
    )
    stacks.check(suite)  # an entry's stack that cannot replace the suite's: exit 2
    if dry_run:
        _print_plan(suite, stacks)
        return
    history_path = default_history_path(runs_dir, history)
    recorded = baseline_candidates(read_history(baseline)) if baseline is not None else []

    def run_one(loaded: LoadedScenario, stack: StackConfig | None) -> FinishedRun:
        base = None
        if baseline is not None and runs_of_scenario(recorded, loaded.scenario.name, last=1):
            base = resolve_baseline(baseline, loaded.scenario.name, chosen)
        metrics = None if metrics_port is None else MetricsAddress(metrics_port, metrics_host)
        options = RunOptions(baseline=base, history=history_path, suite=suite.name, metrics=metrics)
        return execute_loaded(settings, loaded, runs_dir, options=options, stack=stack)

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    outcome = run_suite(
        suite,
        suite_dir=runs_dir / f"{stamp}-suite-{suite.name}",
        run_one=run_one,
        echo=click.echo,
        stacks=stacks,
    )
    sys.exit(int(outcome.exit_code))


def _print_plan(suite: object, stacks: object) -> None:
    from dagstorm.core.durations import duration_text
    from dagstorm.harness.suite_stacks import SuiteStacks
    from dagstorm.scenarios.plan import build_plan
    from dagstorm.scenarios.suite import SWITCH_ESTIMATE_S, LoadedSuite, planned_wall_s

    assert isinstance(suite, LoadedSuite) and isinstance(stacks, SuiteStacks)
    budget = f", budget {duration_text(suite.budget_s)}" if suite.budget_s else ""
    switches = suite.switches
    switching = (
        f" (with {len(switches)} stack switch(es) × ~{duration_text(SWITCH_ESTIMATE_S)})"
        if switches
        else ""
    )
    home, home_executor = stacks.label(None)
    click.echo(
        f"suite {suite.name} ({suite.path}): {len(suite.scenarios)} scenario(s), "
        f"planned {duration_text(suite.planned_s)} wall{switching}{budget}; "
        f"stack {home} ({home_executor})"
    )
    elapsed = 0.0

    def switch_line(index: int) -> None:
        nonlocal elapsed
        if index not in switches:
            return
        entry = suite.stack_of(index) if index < len(suite) else None
        stack, executor = stacks.label(entry)
        whose = "back to the suite's stack" if entry is None else "to stack"
        click.echo(
            f"  -> switch {whose} {stack} ({executor}) at +{duration_text(elapsed)}: "
            f"~{duration_text(SWITCH_ESTIMATE_S)} planned"
        )
        elapsed += SWITCH_ESTIMATE_S

    for index, loaded in enumerate(suite.scenarios, start=1):
        switch_line(index - 1)
        scenario = loaded.scenario
        plan = build_plan(scenario)
        entry = suite.stack_of(index - 1)
        on = "" if entry is None else f" on {entry.label}"
        click.echo(
            f"  {index}. {scenario.name} ({loaded.path}){on} at +{duration_text(elapsed)}: "
            f"{duration_text(scenario.duration)} wall + {duration_text(scenario.drain)} drain "
            f"(sim {duration_text(plan.sim(scenario.duration))}"
            f" at ×{scenario.time_compression:g}), "
            f"{len(plan.windows)} fault(s), {len(scenario.slos)} SLO(s)"
        )
        elapsed += planned_wall_s(loaded)
    switch_line(len(suite))


__all__ = ["nightly"]
