"""The `dagstorm` command: parse, call the library, map errors to exit codes.

Exit codes: 0 success; 1 an SLO failed (or a run aborted, a fault never
reverted or recovered); 2 invalid scenario, config or usage; 3 infrastructure
error (a service unreachable, a component that did not start, an install step
that failed, a fault that could not be applied, a run that ended in an error);
130 interrupted (after cleanup). A run's code is its verdict's (docs/measures.md).
"""

from __future__ import annotations

from pathlib import Path

import click

from dagstorm import __version__
from dagstorm.cli.common import Settings, warn_orphaned_faults
from dagstorm.cli.global_options import GlobalOptionsGroup


@click.group(cls=GlobalOptionsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dagstorm")
@click.option(
    "--stack-file",
    type=click.Path(path_type=Path),
    envvar="DAGSTORM_STACK_FILE",
    help="Stack config (default: ./dagstorm.stack.yaml if present).",
)
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    help="Where the embedded stack keeps its state (default ./.dagstorm; env DAGSTORM_STATE_DIR).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress output (anywhere on the line).")
@click.pass_context
def cli(ctx: click.Context, stack_file: Path | None, state_dir: Path | None, quiet: bool) -> None:
    """Chaos and load testing for Airflow + Spark + Kafka data pipelines.

    \b
    Example:
      dagstorm stack install && dagstorm stack up && dagstorm stack check
    """
    ctx.obj = Settings(stack_file, state_dir, quiet)
    if ctx.invoked_subcommand not in ("recover", "fault"):
        warn_orphaned_faults(ctx.obj)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="dagstorm")


# Command groups register themselves on `cli` when imported.
from dagstorm.cli import (  # noqa: E402
    bench_commands,
    capacity_commands,
    generate_commands,
    nightly_commands,
    report_commands,
    run_commands,
    trend_commands,
)
from dagstorm.cli.live import control_commands, tui_commands  # noqa: E402
from dagstorm.cli.stack import deploy_commands, fault_commands, stack_commands  # noqa: E402

__all__ = [
    "bench_commands",
    "capacity_commands",
    "cli",
    "control_commands",
    "deploy_commands",
    "fault_commands",
    "generate_commands",
    "main",
    "nightly_commands",
    "report_commands",
    "run_commands",
    "stack_commands",
    "trend_commands",
    "tui_commands",
]
