"""What `dagstorm run` does after parsing: run, analyse, report, exit code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from dagstorm.analysis.baseline import Baseline, write_baseline
from dagstorm.analysis.history import append_history, entry_of, read_history
from dagstorm.analysis.junit import write_junit
from dagstorm.analysis.live import live_check
from dagstorm.analysis.result import analyze, result_document, summary_lines, write_result
from dagstorm.cli.common import Settings, out
from dagstorm.core.atomic import atomic_write
from dagstorm.core.errors import ExitCode
from dagstorm.core.progress import Progress
from dagstorm.engine.runner import Runner, RunOutcome
from dagstorm.metrics.server import MetricsAddress, serve_metrics
from dagstorm.reports import write_report
from dagstorm.scenarios.loader import LoadedScenario, load_scenario
from dagstorm.scenarios.model import StackChoice
from dagstorm.stack.config import StackConfig, load_stack_config


@dataclass
class RunOptions:
    """What `dagstorm run` and `dagstorm nightly` may add to a plain run."""

    #: Judge the run against this baseline (``baseline.json`` in the run directory).
    baseline: Baseline | None = None
    #: Append the run to this history file (None: record nothing).
    history: Path | None = None
    #: Serve live metrics in the Prometheus format here while the run is under way.
    metrics: MetricsAddress | None = None
    #: The suite the run belongs to (recorded in the history).
    suite: str | None = None
    #: A file the run directory's path is written to as soon as the run has started.
    announce: Path | None = None


@dataclass(frozen=True)
class FinishedRun:
    """A run that got as far as its run directory, and its exit code."""

    run_dir: Path
    exit_code: ExitCode


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


def record_history(run_dir: Path, history: Path, *, suite: str | None = None) -> None:
    """Append the run (analysed now) to the history file."""
    append_history(history, entry_of(result_document(analyze(run_dir)), run_dir, suite=suite))


def analyse_and_report(
    run_dir: Path,
    *,
    history: Path | None = None,
    record: bool = False,
    suite: str | None = None,
) -> ExitCode:
    """result.json, junit.xml, the history line, report.html and the verdict on the terminal.

    Returns the verdict's exit code (SLOs and findings: docs/measures.md). The report
    shows the run against the earlier runs of its scenario in ``history``; with
    ``record`` the run is appended to it first.
    """
    result = analyze(run_dir)
    write_result(run_dir, result)
    write_junit(run_dir, result)
    entries = []
    if history is not None:
        if record:
            append_history(history, entry_of(result_document(result), run_dir, suite=suite))
        entries = read_history(history)
    report = write_report(run_dir, result, history=entries)
    for line in summary_lines(result):
        out.print(line, markup=False)
    out.print(f"report: {report}", markup=False)
    return ExitCode(result.exit_code)


def execute(
    settings: Settings,
    scenario_file: Path,
    runs_dir: Path,
    *,
    options: RunOptions | None = None,
) -> ExitCode:
    """Validate, run, analyse; map the outcome to an exit code."""
    loaded = load_scenario(scenario_file)
    return execute_loaded(settings, loaded, runs_dir, options=options or RunOptions()).exit_code


def execute_loaded(
    settings: Settings, loaded: LoadedScenario, runs_dir: Path, *, options: RunOptions
) -> FinishedRun:
    """Run an already-loaded scenario, analyse it, record it."""
    config = _stack_config(settings, loaded.scenario.stack)
    progress = Progress(quiet=settings.quiet)

    def announced(run_dir: Path) -> None:
        # How `dagstorm run --tui` finds the run to watch: the path, written atomically.
        if options.announce is not None:
            atomic_write(options.announce, str(run_dir.resolve()))

    runner = Runner(
        loaded,
        config,
        runs_root=runs_dir,
        progress=progress,
        live_check=live_check,
        on_run_dir=announced,
    )
    with serve_metrics(runner, options.metrics):
        outcome = _run(runner, loaded)
    if options.baseline is not None:
        write_baseline(outcome.run_dir, options.baseline)
    code = analyse_and_report(
        outcome.run_dir, history=options.history, record=True, suite=options.suite
    )
    return FinishedRun(outcome.run_dir, _outcome_code(outcome, code))


def _run(runner: Runner, loaded: LoadedScenario) -> RunOutcome:
    click.echo(
        f"dagstorm: running {loaded.scenario.name} for {loaded.scenario.duration:g} s wall "
        f"(compression {loaded.scenario.time_compression:g})",
        err=True,
    )
    outcome = runner.run()
    click.echo(f"dagstorm: run directory {outcome.run_dir}", err=True)
    return outcome


def _outcome_code(outcome: RunOutcome, code: ExitCode) -> ExitCode:
    """The verdict's exit code, which already counts the run's status and fault errors.

    The run's status reaches the verdict through ``run_end`` (interrupted → 130,
    error → 3, aborted → 1; fault errors → 3), so the process exits with what
    result.json, junit.xml, the report and the history say.
    """
    for error in outcome.fault_errors:
        click.echo(f"dagstorm: fault error: {error}", err=True)
    if outcome.status == "interrupted":
        click.echo("dagstorm: interrupted; every fault was reverted", err=True)
    elif outcome.status == "error":
        click.echo(f"dagstorm: error: {outcome.reason}", err=True)
    return code
