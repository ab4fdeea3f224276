"""`dagstorm watch`: the Textual TUI over a run directory (live or replay)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import cast

import click

from dagstorm.cli import cli
from dagstorm.cli.common import handle_errors
from dagstorm.core.errors import UsageError


@cli.command("watch")
@click.argument("run_dir", type=click.Path(path_type=Path))  # checked: journal_of
@click.option(
    "--mode",
    type=click.Choice(["auto", "live", "replay"]),
    default="auto",
    show_default=True,
    help="auto: replay a finished run (its journal ends with run_end), follow one under way.",
)
@click.option(
    "--speed", type=float, default=1.0, show_default=True, help="Replay speed (× wall time)."
)
@click.option("--paused", is_flag=True, help="Start a replay paused (space plays).")
@handle_errors
def watch(run_dir: Path, mode: str, speed: float, paused: bool) -> None:
    """Watch a run directory in the terminal: live as its journal grows, or as a replay.

    Reads only the run directory, so it attaches to a run started elsewhere (another
    terminal, a nightly job) and never changes it; q quits, ? shows the keys
    (docs/tui.md). A directory without journal.jsonl is refused (exit 2), like
    `dagstorm report` and `analyze` do. Without a terminal on stdin there are no keys:
    watch then quits once the run has ended. Needs the `tui` extra (textual).

    \b
    Example:
      dagstorm watch runs/20261124T041804Z-smoke
      dagstorm watch runs/20261124T041804Z-smoke --speed 10 --paused
    """
    from dagstorm.analysis.rundata.load import journal_of

    if speed <= 0:
        raise UsageError(f"--speed must be > 0, not {speed:g}", where="--speed", fix="--speed 10")
    journal_of(run_dir)  # a run directory, or one line and exit 2 (no TUI started)
    keys = sys.stdin.isatty()
    if paused and not keys:
        raise UsageError(
            "--paused needs a terminal on stdin (space plays the replay)",
            where="dagstorm watch --paused",
            fix="run it in a terminal, or drop --paused",
        )
    try:
        from dagstorm.tui.app import Mode, create_app
    except ImportError as exc:  # textual is an optional dependency
        raise UsageError(
            f"the TUI needs textual ({exc})",
            where="dagstorm watch",
            fix="pip install 'dagstorm[tui]'",
        ) from exc
    app = create_app(
        run_dir,
        mode=cast("Mode", mode),
        speed=speed,
        paused=paused,
        read_keys=keys,
    )
    app.run()


__all__ = ["watch"]
