"""`dagstorm run --tui`: the engine in a child process, the TUI in the foreground.

The engine is an ordinary headless `dagstorm run` in its own session, so the
rollback guarantee is exactly the one of a plain run: its main thread turns
SIGINT and SIGTERM into cleanup (every fault reverted) and nothing of Textual runs
in it. This process owns the terminal: it shows the TUI attached to the run
directory, steers the engine only through the run's control inbox (pause, abort,
inject, revert; quitting aborts after a confirmation), forwards SIGINT, SIGTERM and
SIGHUP to the engine, waits for its cleanup, prints its output (progress, verdict)
and exits with its exit code.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, Literal

import click

from dagstorm.cli.common import Settings
from dagstorm.core.errors import ExitCode, InfrastructureError, UsageError
from dagstorm.core.polling import poll_until
from dagstorm.run.rundir import RunDirectory
from dagstorm.scenarios.loader import load_scenario

#: How long the engine may take to create the run directory (preflight included).
ANNOUNCE_TIMEOUT_S = 300.0
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def engine_command(
    settings: Settings, scenario_file: Path, runs_dir: Path, announce: Path
) -> list[str]:
    """The headless `dagstorm run` the TUI watches."""
    command = [sys.executable, "-m", "dagstorm"]
    if settings.stack_file is not None:
        command += ["--stack-file", str(settings.stack_file)]
    if settings.state_dir is not None:
        command += ["--state-dir", str(settings.state_dir)]
    return [
        *command,
        "run",
        str(scenario_file),
        "--runs-dir",
        str(runs_dir),
        "--announce-file",
        str(announce),
    ]


@contextmanager
def forward_signals(child: subprocess.Popen[bytes], app: list[Any]) -> Iterator[None]:
    """Within the block, SIGINT/SIGTERM/SIGHUP go to the engine (and close the TUI)."""

    def forward(signum: int, frame: FrameType | None) -> None:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM if signum == signal.SIGHUP else signum)
        for running in app:
            running.exit()

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def wait_for_run_dir(child: subprocess.Popen[bytes], announce: Path) -> Path | None:
    """The run directory once the engine has started it; None if the engine ended first."""

    def announced() -> Path | Literal[False] | None:
        ended = child.poll() is not None  # first: what it wrote before it ended counts
        if announce.exists():
            return Path(announce.read_text().strip())
        return False if ended else None

    found: Path | Literal[False] | None = poll_until(
        announced, timeout=ANNOUNCE_TIMEOUT_S, interval=0.1
    )
    if found is None:
        child.send_signal(signal.SIGINT)
        raise InfrastructureError(
            f"the engine did not start the run within {ANNOUNCE_TIMEOUT_S:g} s",
            where=f"dagstorm run (pid {child.pid})",
            fix="run without --tui to see what it waits for",
        )
    return found or None


def run_with_tui(settings: Settings, scenario_file: Path, runs_dir: Path) -> ExitCode:
    """Run the scenario in a child engine and watch it; the engine's exit code."""
    try:
        from dagstorm.tui.app import create_app
    except ImportError as exc:  # textual is an optional dependency
        raise UsageError(
            f"the TUI needs textual ({exc})",
            where="dagstorm run --tui",
            fix="pip install 'dagstorm[tui]'",
        ) from exc
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "--tui needs a terminal",
            where="dagstorm run --tui",
            fix="run without --tui, and `dagstorm watch RUN_DIR` from a terminal",
        )
    load_scenario(scenario_file)  # every scenario error before anything starts
    runs_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dagstorm-tui-") as tmp:
        announce, log_path = Path(tmp) / "run_dir", Path(tmp) / "engine.log"
        command = engine_command(settings, scenario_file, runs_dir, announce)
        with log_path.open("wb") as log:
            child = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # terminal signals reach us; we forward them
            )
        app: list[Any] = []
        with forward_signals(child, app):
            run_dir = wait_for_run_dir(child, announce)
            if run_dir is not None:
                watcher = create_app(run_dir, mode="live", quit_aborts=True)
                app.append(watcher)
                watcher.run()
                app.clear()
                if child.poll() is None:
                    click.echo(
                        f"dagstorm: the run goes on in pid {child.pid} ({run_dir}); "
                        "Ctrl-C aborts it (every fault is reverted)",
                        err=True,
                    )
            code = child.wait()
        click.echo(log_path.read_text(errors="replace"), nl=False)
        if run_dir is not None and run_dir.is_dir():
            shutil.copy(log_path, RunDirectory(run_dir).engine_log)
    try:
        return ExitCode(code)
    except ValueError:
        return ExitCode.INFRASTRUCTURE
