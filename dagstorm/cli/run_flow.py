"""What `dagstorm run` does after parsing: run, analyse, report, exit code."""

from __future__ import annotations

from pathlib import Path

import click

from dagstorm.analysis.junit import write_junit
from dagstorm.analysis.live import live_check
from dagstorm.analysis.result import analyze, summary_lines, write_result
from dagstorm.cli.common import Settings, out
from dagstorm.engine.runner import Runner
from dagstorm.errors import ExitCode
from dagstorm.progress import Progress
from dagstorm.reports import write_report
from dagstorm.scenarios.loader import load_scenario
from dagstorm.scenarios.model import StackChoice
from dagstorm.stack.config import StackConfig, load_stack_config


def _stack_config(settings: Settings, choice: object) -> StackConfig:
    """The scenario may name a stack file or endpoints; the CLI flags still win."""
    if isinstance(choice, StackChoice) and choice.file is not None and settings.stack_file is None:
        return load_stack_config(choice.file, state_dir=settings.state_dir)
    config = settings.config()
    if isinstance(choice, StackChoice) and choice.kind is not None:
        update: dict[str, object] = {"kind": choice.kind}
        if choice.external is not None:
            update["external"] = choice.external
        config = config.model_copy(update=update)
    return config


def analyse_and_report(run_dir: Path) -> ExitCode:
    """result.json, junit.xml and the verdict on the terminal; the SLO exit code."""
    result = analyze(run_dir)
    write_result(run_dir, result)
    write_junit(run_dir, result)
    report = write_report(run_dir, result)
    for line in summary_lines(result):
        out.print(line, markup=False)
    out.print(f"report: {report}", markup=False)
    return ExitCode(result.exit_code)


def execute(
    settings: Settings, scenario_file: Path, runs_dir: Path, *, announce: Path | None = None
) -> ExitCode:
    """Validate, run, analyse; map the outcome to an exit code.

    ``announce``: a file the run directory's path is written to (atomically) as soon
    as the run has started — how `dagstorm run --tui` finds the run to watch.
    """
    loaded = load_scenario(scenario_file)
    config = _stack_config(settings, loaded.scenario.stack)
    progress = Progress(quiet=settings.quiet)

    def announced(run_dir: Path) -> None:
        if announce is not None:
            tmp = announce.with_name(announce.name + ".tmp")
            tmp.write_text(str(run_dir.resolve()))
            tmp.replace(announce)

    runner = Runner(
        loaded,
        config,
        runs_root=runs_dir,
        progress=progress,
        live_check=live_check,
        on_run_dir=announced,
    )
    click.echo(
        f"dagstorm: running {loaded.scenario.name} for {loaded.scenario.duration:g} s wall "
        f"(compression {loaded.scenario.time_compression:g})",
        err=True,
    )
    outcome = runner.run()
    click.echo(f"dagstorm: run directory {outcome.run_dir}", err=True)
    code = analyse_and_report(outcome.run_dir)
    for error in outcome.fault_errors:
        click.echo(f"dagstorm: fault error: {error}", err=True)
    if outcome.status == "interrupted":
        click.echo("dagstorm: interrupted; every fault was reverted", err=True)
        return ExitCode.INTERRUPTED
    if outcome.status == "error":
        click.echo(f"dagstorm: error: {outcome.reason}", err=True)
        return ExitCode.INFRASTRUCTURE
    if outcome.fault_errors:
        return ExitCode.INFRASTRUCTURE
    return code
