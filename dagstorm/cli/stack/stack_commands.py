"""`dagstorm stack …`: install, start, stop and inspect the stack under test."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from dagstorm.cli import cli
from dagstorm.cli.common import Settings, fail, handle_errors, out
from dagstorm.core.errors import ExitCode, UsageError


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
    from dagstorm.stack.embedded.install import Installer

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
    from dagstorm.stack.embedded.launcher import EmbeddedStack

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
    from dagstorm.stack.embedded.launcher import EmbeddedStack

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
    from dagstorm.stack.embedded.launcher import EmbeddedStack

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
    from dagstorm.stack.embedded.processes import tail

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
    """Exercise each part the stack declares through its real API (the smoke check).

    One line per declared part: ok, or why it failed. Exits 3 when a part fails.

    \b
    Example:
      dagstorm stack check
    """
    from dagstorm.stack.check import failure_fix, run_checks
    from dagstorm.stack.embedded.components.spark import spark_env
    from dagstorm.stack.endpoints import resolve_stack

    config = settings.config()
    stack_endpoints = resolve_stack(config)
    env = spark_env(settings.context()) if config.kind == "embedded" else None
    out.print(
        f"dagstorm stack check ({config.kind}, {config.source})", markup=False, soft_wrap=True
    )
    results = run_checks(stack_endpoints, spark_env=env)
    for r in results:
        state = "[green]ok[/]    " if r.ok else "[red]FAILED[/]"
        out.print(f"  {r.name:<11} {state} {r.seconds:5.1f} s  {escape(r.detail)}", soft_wrap=True)
    failed = [r for r in results if not r.ok]
    if failed:
        fail(
            f"stack check failed: {', '.join(r.name for r in failed)}"
            f" — fix: {failure_fix(stack_endpoints, failed)}"
        )
        sys.exit(int(ExitCode.INFRASTRUCTURE))
