"""`dagstorm capacity SCENARIO`: a breakpoint search, each step a real run (docs/capacity.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dagstorm.cli import cli
from dagstorm.cli.common import Settings, handle_errors, print_warnings


@cli.command("capacity")
@click.argument("scenario_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Print the search's settings; run nothing.")
@click.option(
    "--runs-dir",
    type=click.Path(path_type=Path),
    default=Path("runs"),
    show_default=True,
    help="Where the step runs and the search directory are created.",
)
@click.option(
    "--history",
    type=click.Path(path_type=Path, dir_okay=False),
    help="History file (default RUNS_DIR/history.jsonl; env DAGSTORM_HISTORY).",
)
@click.option("--no-history", is_flag=True, help="Do not record the search in the history.")
@click.pass_obj
@handle_errors
def capacity(
    settings: Settings,
    *,
    scenario_file: Path,
    dry_run: bool,
    runs_dir: Path,
    history: Path | None,
    no_history: bool,
) -> None:
    """Find the rate where the SLA breaks: grow, then bisect, each step a real run.

    The scenario's `capacity:` block sets the search (start, growth, ceiling,
    min_runs, tolerance, budget, target; optional verify). Each step runs the
    scenario with every rate-bearing workload's scale × the step's multiplier, as a
    normal run directory. Before each sub-run, runs of the SLA's DAG that earlier
    sub-runs triggered and left queued or running are marked failed (Airflow's REST
    API), so a breaking step's backlog does not hold the next step's slots. The
    answer goes to RUNS_DIR/<UTC>-capacity-<name>/ (search.json, junit.xml,
    capacity.html) and one history line.

    Exit codes: 0 the search found its answer (converged, ceiling held, or the first
    step broke) and every verify run did what it must; 1 no answer (the wall budget
    ended it, a step had no runs) or a verify run failed; 2 invalid scenario; 3 a step
    could not run (infrastructure); 130 interrupted.

    \b
    Example:
      dagstorm capacity scenarios/capacity-search.yaml --dry-run
      dagstorm capacity scenarios/capacity-search.yaml
    """
    from dagstorm.core.errors import UsageError
    from dagstorm.scenarios.loader import load_scenario

    loaded = load_scenario(scenario_file)
    print_warnings(loaded.warnings)
    block = loaded.scenario.capacity
    if block is None:
        raise UsageError(
            f"{scenario_file} has no capacity: block",
            where=str(scenario_file),
            fix="add `capacity: {search: {ceiling: 32}}` (docs/capacity.md),"
            " or start from scenarios/capacity-search.yaml",
        )
    from dagstorm.core.durations import duration_text

    s = block.search
    step_wall = loaded.scenario.duration + loaded.scenario.drain
    click.echo(
        f"capacity search {loaded.scenario.name}: ×{s.start:g} growing ×{s.growth:g} to"
        f" ×{s.ceiling:g}, >= {s.min_runs} runs a step (<= {s.max_sub_runs} sub-runs of"
        f" {duration_text(step_wall)}), tolerance {s.tolerance * 100:g}%, budget"
        f" {duration_text(s.budget)}"
        + (
            ""
            if block.verify is None
            else f"; verify ×{block.verify.below:g}/×{block.verify.above:g}"
        )
    )
    if dry_run:
        return
    from dagstorm.analysis.outputs.history import default_history_path
    from dagstorm.cli.run_flow import execute_loaded, note
    from dagstorm.harness.capacity import run_capacity_search
    from dagstorm.harness.flow import RunReport
    from dagstorm.harness.options import RunOptions
    from dagstorm.scenarios.loader import LoadedScenario

    def run_step(step: LoadedScenario) -> RunReport:
        finished = execute_loaded(settings, step, runs_dir, options=RunOptions())
        assert isinstance(finished, RunReport)
        return finished

    from dagstorm.engine.leftovers import end_runs
    from dagstorm.stack.endpoints import resolve_stack

    stack = resolve_stack(settings.config())
    done = run_capacity_search(
        loaded,
        run_step=run_step,
        runs_dir=runs_dir,
        history=None if no_history else default_history_path(runs_dir, history),
        echo=note,
        settle=lambda dag, run_ids: end_runs(stack, dag, run_ids),
    )
    from dagstorm.reports.capacity_search import answer_lines

    for line in answer_lines(done.summary):
        click.echo(line)
    click.echo(f"search: {done.search_dir}")
    sys.exit(int(done.exit_code))


__all__ = ["capacity"]
