"""`dagstorm validate`, `schema`, `run` and `analyze`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.table import Table

from dagstorm.cli import cli
from dagstorm.cli.common import Settings, handle_errors, out
from dagstorm.errors import ExitCode, ScenarioError
from dagstorm.scenarios.loader import load_scenario
from dagstorm.scenarios.model import Scenario
from dagstorm.scenarios.plan import build_plan, clock_text, timeline_rows


@cli.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@handle_errors
def validate(files: tuple[Path, ...]) -> None:
    """Check scenario files; every problem is listed with file:line:column.

    Exits 0 when all are valid, 2 otherwise. Touches nothing.

    \b
    Example:
      dagstorm validate scenarios/*.yaml
    """
    bad = 0
    for path in files:
        try:
            loaded = load_scenario(path)
        except ScenarioError as exc:
            bad += 1
            for line in exc.render().splitlines():
                click.echo(line, err=True)
            continue
        plan = build_plan(loaded.scenario)
        out.print(
            f"{path}: ok — {loaded.scenario.name}, {clock_text(loaded.scenario.duration)} wall "
            f"(sim {clock_text(plan.sim(loaded.scenario.duration))}), "
            f"{len(plan.windows)} fault(s), {len(loaded.scenario.slos)} SLO(s)",
            markup=False,
        )
    if bad:
        sys.exit(int(ExitCode.USAGE))


@cli.command("schema")
@handle_errors
def schema() -> None:
    """Print the scenario JSON Schema (for editor completion).

    \b
    Example:
      dagstorm schema > scenario.schema.json
    """
    click.echo(json.dumps(Scenario.model_json_schema(), indent=2))


def _print_timeline(loaded_path: Path) -> None:
    loaded = load_scenario(loaded_path)
    plan = build_plan(loaded.scenario)
    scenario = loaded.scenario
    table = Table(
        title=f"{scenario.name}: {clock_text(scenario.duration)} wall = "
        f"{clock_text(plan.sim(scenario.duration))} simulated (compression "
        f"{scenario.time_compression:g}, seed {scenario.seed})",
        title_justify="left",
    )
    for column in ("wall", "simulated", "what", "detail"):
        table.add_column(column)
    for row in timeline_rows(plan):
        table.add_row(*row)
    out.print(table)


@cli.command("run")
@click.argument("scenario_file", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print the resolved timeline; touch nothing.")
@click.option(
    "--runs-dir",
    type=click.Path(path_type=Path),
    default=Path("runs"),
    show_default=True,
    help="Where run directories are created.",
)
@click.option(
    "--tui",
    is_flag=True,
    help="Watch the run in the terminal UI (the engine runs in a child process).",
)
@click.option("--announce-file", type=click.Path(path_type=Path), hidden=True)
@click.pass_obj
@handle_errors
def run(
    settings: Settings,
    *,
    scenario_file: Path,
    dry_run: bool,
    runs_dir: Path,
    tui: bool,
    announce_file: Path | None,
) -> None:
    """Run a scenario against the stack and give the verdict.

    Exit codes: 0 every SLO passed, 1 an SLO failed, 2 invalid scenario or usage,
    3 infrastructure error, 130 interrupted or aborted (faults are reverted first).
    With --tui the run shows in the terminal UI; quitting it aborts the run (after a
    confirmation) and the verdict is printed as usual (docs/tui.md).

    \b
    Example:
      dagstorm run scenarios/smoke.yaml
      dagstorm run scenarios/smoke.yaml --tui
      dagstorm run scenarios/broker-outage.yaml --dry-run
    """
    if dry_run:
        _print_timeline(scenario_file)
        return
    if tui:
        from dagstorm.cli.run_tui import run_with_tui

        sys.exit(int(run_with_tui(settings, scenario_file, runs_dir)))
    from dagstorm.cli.run_flow import execute

    sys.exit(int(execute(settings, scenario_file, runs_dir, announce=announce_file)))


@cli.command("analyze")
@click.argument("run_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@handle_errors
def analyze(run_dir: Path) -> None:
    """Recompute result.json and junit.xml of a run directory, and print the verdict.

    \b
    Example:
      dagstorm analyze runs/20261124T101500Z-smoke
    """
    from dagstorm.cli.run_flow import analyse_and_report

    sys.exit(int(analyse_and_report(run_dir)))


__all__ = ["analyze", "run", "schema", "validate"]
