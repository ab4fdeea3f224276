"""The `dagstorm` command: parse, call the library, map errors to exit codes.

Exit codes: 0 success; 1 an SLO failed; 2 invalid scenario, config or usage;
3 infrastructure error (a service unreachable, a component that did not
start, an install step that failed); 130 interrupted (after cleanup).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from dagstorm import __version__
from dagstorm.errors import ComponentStartError, DagstormError, ExitCode, UsageError
from dagstorm.progress import Progress
from dagstorm.stack.config import StackConfig, load_stack_config
from dagstorm.stack.context import StackContext

F = TypeVar("F", bound=Callable[..., Any])

# Tables keep their columns in CI logs too (no terminal: rich would assume 80 columns).
out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def fail(message: str) -> None:
    """Print an error line to stderr, never wrapped (CI logs and grep need one line)."""
    click.echo(f"dagstorm: error: {message}", err=True)


def handle_errors(fn: F) -> F:
    """Turn expected errors into one clear line and a documented exit code."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DagstormError as exc:
            fail(exc.render())
            if isinstance(exc, ComponentStartError) and exc.log_tail:
                click.echo("last lines of the log:", err=True)
                for line in exc.log_tail.splitlines()[-12:]:
                    click.echo(f"  | {line}", err=True)
            sys.exit(int(exc.exit_code))
        except KeyboardInterrupt:
            click.echo("dagstorm: interrupted", err=True)
            sys.exit(int(ExitCode.INTERRUPTED))

    return wrapper  # type: ignore[return-value]


class Settings:
    """Global options shared by every command."""

    def __init__(self, stack_file: Path | None, state_dir: Path | None, quiet: bool) -> None:
        self.stack_file = stack_file
        self.state_dir = state_dir
        self.quiet = quiet

    def config(self) -> StackConfig:
        """The stack config from file, environment and flags."""
        return load_stack_config(self.stack_file, state_dir=self.state_dir)

    def context(self) -> StackContext:
        """A context for the embedded stack (refuses other kinds)."""
        config = self.config()
        if config.kind != "embedded":
            raise UsageError(
                f"this command manages the embedded stack; the config says kind: {config.kind}",
                where=str(self.stack_file or "dagstorm.stack.yaml"),
                fix="for compose use `docker compose up -d`; for external stacks their own tooling",
            )
        return StackContext(config=config, progress=Progress(quiet=self.quiet))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@click.pass_context
def cli(ctx: click.Context, stack_file: Path | None, state_dir: Path | None, quiet: bool) -> None:
    """Chaos and load testing for Airflow + Spark + Kafka data pipelines.

    \b
    Example:
      dagstorm stack install && dagstorm stack up && dagstorm stack check
    """
    ctx.obj = Settings(stack_file, state_dir, quiet)


@cli.group()
def stack() -> None:
    """Install, start, stop and inspect the stack under test.

    \b
    Example:
      dagstorm stack up
    """


@stack.command("install")
@click.option("--force", is_flag=True, help="Re-run every step even if up to date.")
@click.pass_obj
@handle_errors
def stack_install(settings: Settings, force: bool) -> None:
    """Fetch and build every component (idempotent; a second run takes seconds).

    \b
    Example:
      dagstorm stack install
    """
    from dagstorm.stack.install import Installer

    ctx = settings.context()
    started = time.monotonic()
    outcome = Installer(ctx).install(force=force)
    done = sum(1 for _, state in outcome if state == "installed")
    click.echo(
        f"install: {done} step(s) run, {len(outcome) - done} up to date "
        f"({time.monotonic() - started:.1f} s); state in {ctx.layout.root}",
        err=True,
    )


def _status_table(rows: list[Any]) -> Table:
    table = Table(title="dagstorm embedded stack", title_justify="left")
    for column in ("component", "state", "version", "url", "pid", "PSS MB"):
        table.add_column(column)
    colour = {"running": "green", "unhealthy": "yellow", "stopped": "red"}
    for row in rows:
        table.add_row(
            row.name,
            f"[{colour.get(row.state, 'white')}]{row.state}[/]",
            row.version,
            row.url,
            str(row.pid or "-"),
            f"{row.pss_mb:.0f}" if row.pss_mb else "-",
        )
    return table


@stack.command("up")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_obj
@handle_errors
def stack_up(settings: Settings, as_json: bool) -> None:
    """Start the embedded stack and wait until every component is healthy.

    \b
    Example:
      dagstorm stack up
    """
    from dagstorm.stack.embedded import EmbeddedStack

    started = time.monotonic()
    rows = EmbeddedStack(settings.context()).up()
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in rows], indent=2))
    else:
        out.print(_status_table(rows))
        out.print(f"stack up in {time.monotonic() - started:.1f} s", markup=False)


@stack.command("down")
@click.pass_obj
@handle_errors
def stack_down(settings: Settings) -> None:
    """Stop every process dagstorm started, in reverse dependency order.

    \b
    Example:
      dagstorm stack down
    """
    from dagstorm.stack.embedded import EmbeddedStack

    started = time.monotonic()
    outcome = EmbeddedStack(settings.context()).down()
    stopped = [name for name, state in outcome if state != "not running"]
    out.print(
        f"stopped {len(stopped)} component(s) in {time.monotonic() - started:.1f} s", markup=False
    )


@stack.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output for scripts.")
@click.pass_obj
@handle_errors
def stack_status(settings: Settings, as_json: bool) -> None:
    """Show each component's state, version, URL, pid and memory.

    Exits 0 when every component runs and is healthy, 3 otherwise.

    \b
    Example:
      dagstorm stack status --json | jq '.[] | select(.state != "running")'
    """
    from dagstorm.stack.embedded import EmbeddedStack

    rows = EmbeddedStack(settings.context()).status()
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in rows], indent=2))
    else:
        out.print(_status_table(rows))
    if any(r.state != "running" for r in rows):
        sys.exit(int(ExitCode.INFRASTRUCTURE))


@stack.command("logs")
@click.argument("component", required=False)
@click.option("-n", "--lines", default=40, show_default=True, help="Lines to show.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines (Ctrl-C stops).")
@click.pass_obj
@handle_errors
def stack_logs(settings: Settings, component: str | None, lines: int, follow: bool) -> None:
    """Show a component's log (or list the log files).

    \b
    Example:
      dagstorm stack logs kafka -n 100
    """
    from dagstorm.stack.processes import tail

    ctx = settings.context()
    logs = ctx.layout.logs_dir
    if component is None:
        for path in sorted(logs.glob("*.log")):
            out.print(f"{path.stem:<28} {path.stat().st_size:>10} bytes  {path}", markup=False)
        return
    path = ctx.layout.log(component)
    if not path.exists():
        names = ", ".join(sorted(p.stem for p in logs.glob("*.log"))) or "none yet"
        raise UsageError(f"no log for `{component}`", where=str(logs), fix=f"one of: {names}")
    click.echo(tail(path, lines))
    if follow:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            while True:
                chunk = handle.readline()
                if chunk:
                    click.echo(chunk.decode("utf-8", "replace"), nl=False)
                else:
                    time.sleep(0.3)


@stack.command("check")
@click.pass_obj
@handle_errors
def stack_check(settings: Settings) -> None:
    """Exercise every part of the stack through its real API (the smoke check).

    \b
    Example:
      dagstorm stack check
    """
    from dagstorm.stack.check import run_checks
    from dagstorm.stack.components.spark import spark_env
    from dagstorm.stack.endpoints import resolve_stack

    config = settings.config()
    stack_endpoints = resolve_stack(config)
    env = spark_env(settings.context()) if config.kind == "embedded" else None
    results = run_checks(stack_endpoints, spark_env=env)
    table = Table(title=f"dagstorm stack check ({config.kind})", title_justify="left")
    for column in ("check", "result", "seconds", "detail"):
        table.add_column(column)
    for r in results:
        table.add_row(
            r.name, "[green]ok[/]" if r.ok else "[red]FAILED[/]", f"{r.seconds:.1f}", r.detail
        )
    out.print(table)
    failed = [r.name for r in results if not r.ok]
    if failed:
        fail(
            f"stack check failed: {', '.join(failed)} — fix: see `dagstorm stack status` "
            "and `dagstorm stack logs <component>`"
        )
        sys.exit(int(ExitCode.INFRASTRUCTURE))


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="dagstorm")
