"""Run a scenario, analyse the run directory, write its report: the library's flow.

`dagstorm run`, `dagstorm analyze`, `dagstorm report` and `dagstorm nightly` are
thin wrappers around these functions; a Python program or a pytest suite calls
them directly. Nothing here prints or exits: messages go to an ``echo`` callback,
errors are :class:`~dagstorm.core.errors.DagstormError` subclasses, and the
verdict comes back as a :class:`RunReport`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dagstorm.analysis.outputs.baseline import write_baseline
from dagstorm.analysis.outputs.history import append_history, entry_of, read_history
from dagstorm.analysis.outputs.junit import write_junit
from dagstorm.analysis.outputs.result import Result, analyze, result_document, write_result
from dagstorm.analysis.outputs.summary import summary_lines
from dagstorm.analysis.rundata.journal_scan import long_journal
from dagstorm.analysis.verdict.live import LiveChecks
from dagstorm.core.atomic import atomic_write
from dagstorm.core.errors import ExitCode
from dagstorm.core.progress import Progress
from dagstorm.engine.runner import Runner, RunOutcome
from dagstorm.harness.options import Echo, EngineParts, RunOptions
from dagstorm.harness.stack_choice import stack_config_for
from dagstorm.metrics.server import serve_metrics
from dagstorm.reports import render_report, write_report
from dagstorm.run.rundir import RunDirectory
from dagstorm.scenarios.loader import LoadedScenario, load_scenario
from dagstorm.stack.config import StackConfig


@dataclass(frozen=True)
class FinishedRun:
    """A run that got as far as its run directory, and its exit code."""

    run_dir: Path
    exit_code: ExitCode


@dataclass(frozen=True)
class RunReport(FinishedRun):
    """A finished run with its analysis: the verdict, the outputs, how it ended.

    ``exit_code`` is the verdict's (docs/measures.md): 0 passed, 1 an SLO failed
    (or a regression, an abort, a finding), 3 infrastructure error, 130 interrupted.
    """

    #: Measures and verdict (what result.json holds).
    result: Result = field(repr=False)
    #: The report.html written.
    report: Path
    #: completed | aborted | interrupted | error (| unfinished for a run dir analysed later).
    status: str
    #: Why the run ended early ("" when it completed).
    reason: str = ""
    #: Faults that could not be applied or reverted (each makes the verdict exit 3).
    fault_errors: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """True only when every SLO passed and nothing else failed the run."""
        return self.result.verdict.passed

    @property
    def summary(self) -> list[str]:
        """The verdict as lines of text (what `dagstorm run` prints)."""
        return summary_lines(self.result)


def _quiet(_: str) -> None:
    """The default ``echo``: say nothing."""


def run_scenario(
    scenario: Path | str | LoadedScenario,
    *,
    stack: StackConfig | Path | None = None,
    state_dir: Path | None = None,
    runs_dir: Path = Path("runs"),
    options: RunOptions | None = None,
    progress: Progress | None = None,
    echo: Echo | None = None,
    engine: EngineParts | None = None,
) -> RunReport:
    """Validate, run, analyse and report a scenario; the verdict as a :class:`RunReport`.

    The scenario (a file, or one already loaded) and the stack config are checked
    before anything starts: an invalid scenario raises ``ScenarioInvalid``, a bad
    stack file ``ConfigInvalid``, an unhealthy stack ``StackNotRunningError``. The
    run directory under ``runs_dir`` gets result.json, junit.xml and report.html;
    with ``options.history`` the run is appended to that history file. ``stack``:
    see :func:`~dagstorm.harness.stack_choice.stack_config_for`. ``echo`` receives
    the scenario's warnings and a line as the run starts and ends; ``progress``
    shows the engine's steps (default: none), and the analysis's when the journal
    is long (a soak's).
    """
    say = echo or _quiet
    options = options or RunOptions()
    if isinstance(scenario, LoadedScenario):
        loaded = scenario
    else:
        loaded = load_scenario(Path(scenario))
        for warning in loaded.warnings:
            say(str(warning))
    config = stack_config_for(loaded.scenario.stack, stack, state_dir=state_dir)
    parts = engine or EngineParts()

    def announced(run_dir: Path) -> None:
        # How `dagstorm run --tui` finds the run to watch: the path, written atomically.
        if options.announce is not None:
            atomic_write(options.announce, str(run_dir.resolve()))

    runner = Runner(
        loaded,
        config,
        runs_root=Path(runs_dir),
        progress=progress or Progress(quiet=True),
        clock=parts.clock,
        live_check=LiveChecks(),
        workload_factory=parts.workload_factory,
        probe_factory=parts.probe_factory,
        on_run_dir=announced,
        reach=parts.reach,
    )
    with serve_metrics(runner, options.metrics) as server:
        if server is not None:  # with --metrics-port 0 the system chose the port
            say(f"metrics on http://{server.host}:{server.port}/metrics")
        outcome = _run(runner, loaded, say)
    if options.baseline is not None:
        write_baseline(outcome.run_dir, options.baseline)
    analysed = analyse_and_report(
        outcome.run_dir,
        history=options.history,
        record=True,
        suite=options.suite,
        progress=progress if long_journal(RunDirectory(outcome.run_dir).journal) else None,
    )
    return _with_outcome(analysed, outcome)


def _run(runner: Runner, loaded: LoadedScenario, say: Echo) -> RunOutcome:
    runner.check_needs()  # a scenario the stack cannot serve is refused before it is announced
    say(
        f"running {loaded.scenario.name} for {loaded.scenario.duration:g} s wall "
        f"(compression {loaded.scenario.time_compression:g})"
    )
    outcome = runner.run()
    say(f"run directory {outcome.run_dir}")
    return outcome


def _with_outcome(analysed: RunReport, outcome: RunOutcome) -> RunReport:
    """The report, with how the engine says the run ended.

    The run's status also reaches the verdict through ``run_end`` (interrupted →
    130, error → 3, aborted → 1; fault errors → 3), so the exit code is the one
    result.json, junit.xml, the report and the history say.
    """
    return RunReport(
        run_dir=analysed.run_dir,
        exit_code=analysed.exit_code,
        result=analysed.result,
        report=analysed.report,
        status=outcome.status,
        reason=outcome.reason,
        fault_errors=tuple(outcome.fault_errors),
    )


def analyse(run_dir: Path, *, write: bool = True, progress: Progress | None = None) -> Result:
    """Measure and judge the run in ``run_dir``; with ``write``, result.json and junit.xml.

    ``progress`` shows the journal read and each stage (default: nothing shown).
    """
    result = analyze(Path(run_dir), progress=progress)
    if write:
        write_result(Path(run_dir), result)
        write_junit(Path(run_dir), result)
    return result


def record_history(
    run_dir: Path, history: Path, *, suite: str | None = None, result: Result | None = None
) -> None:
    """Append the run (``result``, or analysed now) to the history file."""
    result = result if result is not None else analyze(Path(run_dir))
    append_history(history, entry_of(result_document(result), Path(run_dir), suite=suite))


def report(
    run_dir: Path,
    *,
    result: Result | None = None,
    history: Path | None = None,
    output: Path | None = None,
    progress: Progress | None = None,
) -> Path:
    """Write the run's self-contained HTML report; its path.

    ``result`` saves analysing again; ``history`` adds the trend against the
    earlier runs of the scenario; ``output`` writes the page there instead of
    ``RUN_DIR/report.html``; ``progress`` shows the analysis's stages and the
    page's as steps (default: nothing shown).
    """
    progress = progress or Progress(quiet=True)
    result = result if result is not None else analyze(Path(run_dir), progress=progress)
    entries = read_history(history) if history is not None else []
    with progress.step("report"):
        if output is None:
            return write_report(Path(run_dir), result, history=entries)
        body = render_report(Path(run_dir), result, history=entries).encode("utf-8")
        return atomic_write(Path(output), body)


def analyse_and_report(
    run_dir: Path,
    *,
    history: Path | None = None,
    record: bool = False,
    suite: str | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """result.json, junit.xml, the history line (with ``record``) and report.html.

    The report shows the run against the earlier runs of its scenario in
    ``history``; with ``record`` the run is appended to it first. ``progress``
    shows the journal read and each stage (default: nothing shown).
    """
    result = analyse(run_dir, progress=progress)
    if history is not None and record:
        record_history(run_dir, history, suite=suite, result=result)
    page = report(run_dir, result=result, history=history, progress=progress)
    return RunReport(
        run_dir=Path(run_dir),
        exit_code=ExitCode(result.exit_code),
        result=result,
        report=page,
        status=result.run.status,
        reason=result.run.reason or "",
    )


__all__ = [
    "FinishedRun",
    "RunReport",
    "analyse",
    "analyse_and_report",
    "record_history",
    "report",
    "run_scenario",
]
