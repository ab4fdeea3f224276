"""`dagstorm validate`, `schema`, `run` and `analyze`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.table import Table

from dagstorm.cli import cli
from dagstorm.cli.common import (
    Settings,
    handle_errors,
    metrics_options,
    out,
    print_warnings,
    tolerance_option,
)
from dagstorm.cli.file_check import check_file
from dagstorm.core.durations import clock_text
from dagstorm.core.errors import ExitCode, UsageError
from dagstorm.scenarios.loader import LoadedScenario, load_scenario
from dagstorm.scenarios.model import Scenario
from dagstorm.scenarios.plan import build_plan, plan_document, timeline_rows


@cli.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON document on stdout instead of lines."
)
@click.pass_obj
@handle_errors
def validate(settings: Settings, files: tuple[Path, ...], as_json: bool) -> None:
    """Check scenario, suite, stack and pipeline files; every problem listed with file:line:column.

    A suite file (top-level `suite:`) is checked with every scenario it lists; a
    file named *.stack.yaml is checked as a stack config (docs/stack.md), one
    named pipeline.yaml as a pipeline profile (docs/own-pipeline.md). Each
    problem is one line `file:line:column: what — fix: how` on stderr, warnings
    too (`…: warning: …`). A valid scenario's notes follow its `ok` line (an SLA
    that takes its deadline from the pipeline profile says so, and where). With
    `--json`, one document on stdout instead: a list with each file's `valid`,
    `kind`, `summary`, `problems` and `warnings` (each `{where, what, fix}`) and
    `notes`. With `--stack-file`, each scenario is also
    checked against the parts that stack declares (a fault needing Kafka on an
    Airflow-only stack is a problem). Exits 0 when all are valid (warnings
    allowed), 2 otherwise. Touches nothing.

    \b
    Example:
      dagstorm validate scenarios/*.yaml
      dagstorm validate dagstorm.stack.yaml
      dagstorm validate --stack-file ext.stack.yaml scenarios/kafka-burst.yaml
      dagstorm validate pipelines/*/pipeline.yaml
      dagstorm validate --json scenarios/*.yaml | jq '.[] | select(.valid | not)'
    """
    stack = settings.config() if settings.stack_file is not None else None
    checks = [check_file(path, stack) for path in files]
    if as_json:
        click.echo(json.dumps([c.as_dict() for c in checks], indent=2))
    else:
        for check in checks:
            for line in check.lines():
                click.echo(line, err=True)
            if check.valid:
                out.print(f"{check.path}: ok — {check.summary}", markup=False)
                for note in check.notes:
                    click.echo(f"  {note}")  # unwrapped: a file:line to copy
    if not all(c.valid for c in checks):
        sys.exit(int(ExitCode.USAGE))


@cli.command("schema")
@click.option("--pipeline", is_flag=True, help="The pipeline profile's schema (pipeline.yaml).")
@handle_errors
def schema(pipeline: bool) -> None:
    """Print the scenario JSON Schema, or the pipeline profile's (for editor completion).

    \b
    Example:
      dagstorm schema > scenario.schema.json
      dagstorm schema --pipeline > pipeline.schema.json
    """
    from dagstorm.profiles.model import PipelineProfile

    model = PipelineProfile if pipeline else Scenario
    click.echo(json.dumps(model.model_json_schema(), indent=2))


def _print_timeline(loaded: LoadedScenario, *, as_json: bool = False) -> None:
    print_warnings(loaded.warnings)
    plan = build_plan(loaded.scenario)
    scenario = loaded.scenario
    if as_json:
        click.echo(json.dumps(plan_document(plan), indent=2))
        return
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


def _check_run_inputs(settings: Settings, loaded: LoadedScenario, *, baseline: Path | None) -> None:
    """Raise what the run raises before it starts: the stack config, the baseline.

    Both are only read (``--tolerance`` is checked while the command line is parsed).
    """
    from dagstorm.harness.stack_choice import stack_config_for

    stack_config_for(loaded.scenario.stack, settings.stack_file, state_dir=settings.state_dir)
    if baseline is not None:
        from dagstorm.harness.baseline import resolve_baseline

        resolve_baseline(baseline, loaded.scenario.name, {})


@cli.command("run")
@click.argument("scenario_file", type=click.Path(path_type=Path))
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the resolved timeline; touch nothing (the stack config and --baseline"
    " are checked as the run checks them).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="With --dry-run: the timeline as one JSON document."
)
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
@click.option(
    "--baseline",
    type=click.Path(path_type=Path, exists=True),
    help="A run directory or history file: a regression beyond tolerance fails the verdict.",
)
@tolerance_option
@click.option(
    "--history",
    type=click.Path(path_type=Path, dir_okay=False),
    help="History file to append the run to (default RUNS_DIR/history.jsonl;"
    " env DAGSTORM_HISTORY).",
)
@click.option("--no-history", is_flag=True, help="Do not record the run in the history.")
@metrics_options("the live run's metrics")
@click.pass_obj
@handle_errors
def run(
    settings: Settings,
    *,
    scenario_file: Path,
    dry_run: bool,
    as_json: bool,
    runs_dir: Path,
    tui: bool,
    announce_file: Path | None,
    baseline: Path | None,
    tolerances: tuple[str, ...],
    history: Path | None,
    no_history: bool,
    metrics_port: int | None,
    metrics_host: str,
) -> None:
    """Run a scenario against the stack and give the verdict.

    Exit codes (the run's verdict, docs/measures.md): 0 the run completed, every SLO
    passed, no regression against --baseline and no finding; 1 an SLO failed, a
    measure regressed, the run aborted, or a fault was never reverted or never
    recovered; 2 invalid scenario or usage; 3 infrastructure error (a fault could not
    be applied or reverted, the run ended in an error); 130 interrupted (faults are
    reverted first).
    With --tui the run shows in the terminal UI; quitting it aborts the run (after a
    confirmation) and the verdict is printed as usual (docs/tui.md).

    \b
    Example:
      dagstorm run scenarios/smoke.yaml
      dagstorm run scenarios/smoke.yaml --tui
      dagstorm run scenarios/broker-outage.yaml --dry-run
      dagstorm run scenarios/smoke.yaml --baseline runs/history.jsonl --metrics-port 9464
    """
    if as_json and not dry_run:
        raise UsageError(
            "--json goes with --dry-run (a run's result is result.json in its run directory)",
            where="dagstorm run",
            fix="add --dry-run, or read RUN_DIR/result.json after the run",
        )
    if tui and (baseline or tolerances or history or no_history or metrics_port is not None):
        raise UsageError(
            "--baseline, --tolerance, --history, --no-history and --metrics-port"
            " are not forwarded to the --tui engine yet",
            where="dagstorm run --tui",
            fix="drop them, or run without --tui (the run is still recorded in"
            " RUNS_DIR/history.jsonl)",
        )
    if dry_run:
        # A dry run refuses what the run would refuse before it starts anything.
        loaded = load_scenario(scenario_file)
        _check_run_inputs(settings, loaded, baseline=baseline)
        _print_timeline(loaded, as_json=as_json)
        return
    if tui:
        from dagstorm.cli.live.run_tui import run_with_tui

        # Warnings now: the TUI takes the screen, and they are still there when it exits.
        print_warnings(load_scenario(scenario_file).warnings)

        sys.exit(int(run_with_tui(settings, scenario_file, runs_dir)))
    # Bad input is refused before the analysis stack (pandas) is even imported.
    loaded = load_scenario(scenario_file)
    print_warnings(loaded.warnings)
    if loaded.scenario.capacity is not None:
        click.echo(
            f"dagstorm: {scenario_file} has a capacity: block; this runs it once at ×1"
            f" (`dagstorm capacity {scenario_file}` runs the search)",
            err=True,
        )
    from dagstorm.analysis.outputs.compare import parse_tolerances
    from dagstorm.analysis.outputs.history import default_history_path
    from dagstorm.cli.run_flow import execute_loaded
    from dagstorm.harness.baseline import resolve_baseline
    from dagstorm.harness.options import RunOptions
    from dagstorm.metrics.server import MetricsAddress

    chosen = parse_tolerances(tolerances)
    options = RunOptions(
        announce=announce_file,
        baseline=None
        if baseline is None
        else resolve_baseline(baseline, loaded.scenario.name, chosen),
        history=None if no_history else default_history_path(runs_dir, history),
        metrics=None if metrics_port is None else MetricsAddress(metrics_port, metrics_host),
    )
    sys.exit(int(execute_loaded(settings, loaded, runs_dir, options=options).exit_code))


@cli.command("analyze")
@click.argument("run_dir", type=click.Path(path_type=Path))  # checked: journal_of
@click.option(
    "--history",
    type=click.Path(path_type=Path, dir_okay=False),
    help="History file for the report's trend (default: RUN_DIR/../history.jsonl).",
)
@click.pass_obj
@handle_errors
def analyze(settings: Settings, run_dir: Path, history: Path | None) -> None:
    """Recompute result.json, junit.xml and report.html of a run directory; print the verdict.

    Exits with the verdict's code, as `dagstorm run` does (0 only for a completed run
    with every SLO passed and no finding; docs/measures.md). The run is not recorded
    in the history again (`dagstorm history add` does that). A journal over 64 MB
    shows its progress on stderr (-q: none).

    How it differs from `dagstorm report`: analyze rewrites every output and judges
    the run (use it in CI, or after upgrading dagstorm); `report` writes only the
    page, to RUN_DIR/report.html or -o FILE, and exits 0 whatever the verdict.

    \b
    Example:
      dagstorm analyze runs/20261124T101500Z-smoke
    """
    from dagstorm.analysis.outputs.history import default_history_path
    from dagstorm.cli.run_flow import analyse_and_report, analysis_progress

    chosen = default_history_path(run_dir.parent, history)
    progress = analysis_progress(settings, run_dir)
    sys.exit(int(analyse_and_report(run_dir, history=chosen, progress=progress)))


__all__ = ["analyze", "run", "schema", "validate"]
