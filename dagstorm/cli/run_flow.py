"""The command line's side of a run: call the library, print what it returns.

The flow itself (run, analyse, report, history) is :mod:`dagstorm.harness`; here
are only the terminal's parts: progress and notes on stderr, the verdict and the
report's path on stdout, in the order `dagstorm run` has always printed them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import click

from dagstorm.cli.common import Settings, out
from dagstorm.core.errors import ExitCode
from dagstorm.core.progress import Progress
from dagstorm.harness.flow import FinishedRun, RunReport, run_scenario
from dagstorm.harness.flow import analyse_and_report as analyse_and_report_quietly
from dagstorm.harness.options import RunOptions
from dagstorm.run.rundir import RunDirectory
from dagstorm.scenarios.loader import LoadedScenario
from dagstorm.stack.config import StackConfig


class _Ending(Protocol):
    """How a run ended (the engine's outcome, or the library's report of it)."""

    @property
    def status(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def fault_errors(self) -> tuple[str, ...] | list[str]: ...


def note(message: str) -> None:
    """A `dagstorm: …` line on stderr (the library's ``echo``)."""
    click.echo(f"dagstorm: {message}", err=True)


def print_verdict(analysed: RunReport) -> None:
    """The verdict and the report's path, on stdout."""
    for line in analysed.summary:
        out.print(line, markup=False)
    out.print(f"report: {analysed.report}", markup=False)


def analysis_progress(settings: Settings, run_dir: Path) -> Progress:
    """Progress for analysing ``run_dir`` (`analyze`, `report`) on stderr.

    Shown only for a journal longer than one block of the scanner (64 MB, a
    long soak's): the usual run's analysis takes a second or two and prints
    nothing more than before. Quiet with ``-q``.
    """
    from dagstorm.analysis.rundata.journal_scan import long_journal

    journal = RunDirectory(Path(run_dir)).journal
    return Progress(quiet=settings.quiet or not long_journal(journal))


def analyse_and_report(
    run_dir: Path,
    *,
    history: Path | None = None,
    record: bool = False,
    suite: str | None = None,
    progress: Progress | None = None,
) -> ExitCode:
    """result.json, junit.xml, the history line, report.html and the verdict on the terminal.

    Returns the verdict's exit code (SLOs and findings: docs/measures.md).
    ``progress`` shows the journal read and each stage (default: nothing shown).
    """
    analysed = analyse_and_report_quietly(
        run_dir, history=history, record=record, suite=suite, progress=progress
    )
    print_verdict(analysed)
    return analysed.exit_code


def execute_loaded(
    settings: Settings,
    loaded: LoadedScenario,
    runs_dir: Path,
    *,
    options: RunOptions,
    stack: StackConfig | None = None,
) -> FinishedRun:
    """Run an already-loaded scenario with the command line's settings; print the verdict.

    ``stack``: a config to run on instead of the command line's stack file (a
    suite entry's own stack).
    """
    finished = run_scenario(
        loaded,
        stack=settings.stack_file if stack is None else stack,
        state_dir=settings.state_dir,
        runs_dir=runs_dir,
        options=options,
        progress=Progress(quiet=settings.quiet),
        echo=note,
    )
    print_verdict(finished)
    _outcome_code(finished, finished.exit_code)
    return finished


def _outcome_code(outcome: _Ending, code: ExitCode) -> ExitCode:
    """The verdict's exit code, which already counts the run's status and fault errors.

    Says on stderr what the verdict alone does not: each fault error, an
    interruption (after which every fault was reverted), the error that ended the run.
    """
    for error in outcome.fault_errors:
        note(f"fault error: {error}")
    if outcome.status == "interrupted":
        note("interrupted; every fault was reverted")
    elif outcome.status == "error":
        note(f"error: {outcome.reason}")
    return code


__all__ = ["analyse_and_report", "analysis_progress", "execute_loaded", "note", "print_verdict"]
