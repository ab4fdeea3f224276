"""What every dagstorm command shares: settings, error handling, output."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console

from dagstorm.core.errors import ComponentStartError, DagstormError, ExitCode, UsageError
from dagstorm.stack.config import StackConfig, load_stack_config

if TYPE_CHECKING:
    from dagstorm.faults.base import FaultContext
    from dagstorm.faults.journal import FaultJournal
    from dagstorm.stack.embedded.context import StackContext

F = TypeVar("F", bound=Callable[..., Any])

# Tables keep their columns in CI logs too (no terminal: rich would assume 80 columns).
out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def fail(message: str) -> None:
    """Print error lines to stderr, never wrapped (CI logs and grep need one line each).

    A message of several lines (every problem of a file) gets the prefix on each.
    """
    for line in message.splitlines() or [""]:
        click.echo(f"dagstorm: error: {line}", err=True)


def print_warnings(warnings: Iterable[object]) -> None:
    """Print each warning (``file:line:column: warning: what — fix: how``) to stderr."""
    for warning in warnings:
        click.echo(str(warning), err=True)


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
        except BaseException as exc:
            if not _interrupted(exc):
                raise
            click.echo("dagstorm: interrupted", err=True)
            sys.exit(int(ExitCode.INTERRUPTED))

    return wrapper  # type: ignore[return-value]


def _interrupted(exc: BaseException) -> bool:
    """Ctrl-C, or SIGTERM turned into ``Terminated`` (only once the fault manager is loaded).

    The fault modules are imported lazily: `validate` and friends start without them.
    """
    if isinstance(exc, KeyboardInterrupt):
        return True
    manager = sys.modules.get("dagstorm.faults.manager")
    return manager is not None and isinstance(exc, manager.Terminated)


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
        from dagstorm.core.progress import Progress
        from dagstorm.stack.embedded.context import StackContext

        config = self.config()
        if config.kind != "embedded":
            raise UsageError(
                f"this command manages the embedded stack; the config says kind: {config.kind}",
                where=str(self.stack_file or "dagstorm.stack.yaml"),
                fix="for compose use `docker compose up -d`; for external stacks their own tooling",
            )
        return StackContext(config=config, progress=Progress(quiet=self.quiet))

    def journal(self) -> FaultJournal:
        """The fault journal of this state directory."""
        from dagstorm.faults.journal import FaultJournal
        from dagstorm.stack.embedded.layout import StateLayout

        return FaultJournal(StateLayout(self.config().resolved_state_dir()).fault_journal)

    def fault_context(self) -> FaultContext:
        """What faults act on: endpoints, the embedded stack (if that is the kind), journal."""
        from dagstorm.faults.base import FaultContext
        from dagstorm.stack.endpoints import resolve_stack

        config = self.config()
        embedded = self.context() if config.kind == "embedded" else None
        return FaultContext(stack=resolve_stack(config), journal=self.journal(), embedded=embedded)


def warn_orphaned_faults(settings: Settings) -> None:
    """Every command but `recover` says so when a killed run left faults applied."""
    try:
        journal = settings.journal()
        if not journal.path.exists():
            return
        from dagstorm.faults.journal import orphaned

        left = orphaned(journal)
    except DagstormError:
        return
    if left:
        click.echo(
            f"dagstorm: warning: {len(left)} fault(s) from an interrupted run are still "
            "applied — run `dagstorm recover`",
            err=True,
        )


class BadOption(click.ClickException):
    """A bad option value found while click parses: one line, exit code 2.

    Click's own usage errors print the usage and a hint over four lines; dagstorm's
    errors are one line (``handle_errors``), and this one is too.
    """

    exit_code = int(ExitCode.USAGE)

    def __init__(self, error: DagstormError) -> None:
        super().__init__(error.render())

    def show(self, file: Any = None) -> None:
        """``dagstorm: error: …`` on stderr, like every other dagstorm error."""
        fail(self.format_message())


class ToleranceType(click.ParamType[str, Any]):
    """``NAME=VALUE``: a headline measure and its tolerance (``0.02`` or ``25%``).

    Checked while the command line is parsed, so every command refuses a bad one
    (exit 2) before doing anything, ``--dry-run`` included. The value stays the text
    (``parse_tolerances`` reads it again).
    """

    name = "NAME=VALUE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """``value`` if it is a valid tolerance; a one-line usage error otherwise."""
        from dagstorm.analysis.outputs.compare import parse_tolerances

        text = str(value)
        try:
            parse_tolerances([text])
        except DagstormError as exc:
            raise BadOption(exc) from None
        return text


#: The one ``--tolerance`` value type (run, nightly, compare).
TOLERANCE = ToleranceType()


def tolerance_option(fn: F) -> F:
    """``--tolerance NAME=VALUE`` (repeatable), for commands that judge against a baseline."""
    return click.option(
        "--tolerance",
        "tolerances",
        multiple=True,
        type=TOLERANCE,
        metavar="NAME=VALUE",
        help="With --baseline: a measure's tolerance, absolute (0.02) or relative (25%).",
    )(fn)


def metrics_options(what: str) -> Callable[[F], F]:
    """``--metrics-port`` and ``--metrics-host``; ``what`` names the metrics served."""

    def decorate(fn: F) -> F:
        fn = click.option(
            "--metrics-host",
            default="127.0.0.1",
            show_default=True,
            help="Address for --metrics-port; 0.0.0.0 exposes it beyond this machine.",
        )(fn)
        return click.option(
            "--metrics-port",
            type=click.IntRange(0, 65535),
            help=f"Serve {what} for Prometheus on this port (/metrics, docs/metrics.md).",
        )(fn)

    return decorate
