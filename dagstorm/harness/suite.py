"""Run a suite's scenarios one after another (what `dagstorm nightly` does).

Progress goes to ``echo`` as plain lines (stdout for `dagstorm nightly`), one
per event, prefixed with the scenario's position, so a CI log reads like a test
log. An infrastructure error (exit 3) or an interruption (130) stops the suite:
the scenarios not yet run are reported as skipped. The suite exits with the
worst exit code of its runs.

An entry may name its own stack config (``stack:``): with ``stacks`` the suite
brings that stack up before the entry, runs the entry on it, and brings its own
stack back before the next entry without one and at the end — after a failed,
interrupted or raising entry too, so the suite ends on the stack it began on.
A switch that fails is that entry's infrastructure error (the suite stops); a
failure to bring the suite's stack back makes the suite exit 3.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from dagstorm.analysis.outputs.suite_report import (
    ScenarioOutcome,
    suite_exit_code,
    write_suite_outputs,
)
from dagstorm.analysis.verdict.findings import worst_exit_code
from dagstorm.core.durations import duration_text
from dagstorm.core.errors import DagstormError, ExitCode, UsageError
from dagstorm.harness.flow import FinishedRun
from dagstorm.harness.suite_stacks import StackSwitcher, SuiteStacks
from dagstorm.scenarios.loader import LoadedScenario
from dagstorm.scenarios.suite import LoadedSuite, planned_wall_s
from dagstorm.stack.config import StackConfig

__all__ = ["STOPPING", "RunOne", "SuiteRun", "run_suite"]

#: Runs one scenario on a stack config (None: the stack the caller chose, as `dagstorm run`).
RunOne = Callable[[LoadedScenario, StackConfig | None], FinishedRun]

#: Exit codes after which the suite does not go on.
STOPPING = frozenset({ExitCode.INFRASTRUCTURE, ExitCode.INTERRUPTED})
_VERDICT = {ExitCode.OK: "PASS", ExitCode.SLO_FAILED: "FAIL"}


@dataclass(frozen=True)
class SuiteRun:
    """A finished suite: each scenario's outcome, the outputs and the exit code."""

    outcomes: tuple[ScenarioOutcome, ...]
    suite_dir: Path
    exit_code: ExitCode


def run_suite(
    suite: LoadedSuite,
    *,
    suite_dir: Path,
    run_one: RunOne,
    echo: Callable[[str], None],
    monotonic: Callable[[], float] = time.monotonic,
    stacks: SuiteStacks | None = None,
) -> SuiteRun:
    """Run every scenario of ``suite`` with ``run_one``; write the suite's outputs.

    ``run_one`` gets the entry's own stack config, or None for the suite's.
    Without ``stacks`` every entry runs on the suite's stack (an entry naming its
    own is refused: nothing could switch to it).
    """
    if stacks is None and suite.switches:
        raise UsageError(
            "an entry names its own stack (`stack:`) but nothing can switch stacks here",
            where=str(suite.path),
            fix="pass `stacks=SuiteStacks(...)` to run_suite (dagstorm nightly does)",
        )
    if stacks is not None:
        stacks.check(suite)
    total = len(suite.scenarios)
    switches = len(suite.switches)
    echo(
        f"[{suite.name}] {total} scenario(s), planned {duration_text(suite.planned_s)} wall"
        + (f" with {switches} stack switch(es)" if switches else "")
        + (f" (budget {duration_text(suite.budget_s)})" if suite.budget_s else "")
    )
    outcomes: list[ScenarioOutcome] = []
    switcher = StackSwitcher(suite, stacks, echo, monotonic)
    stack_error: str | None = None
    try:
        _run_entries(
            suite,
            run_one=run_one,
            echo=echo,
            monotonic=monotonic,
            switcher=switcher,
            outcomes=outcomes,
        )
    finally:
        stack_error = switcher.back_home()
    junit, summary, _ = write_suite_outputs(
        suite_dir, suite.name, outcomes, stack_error=stack_error
    )
    code = suite_exit_code(outcomes)
    if stack_error is not None:
        code = worst_exit_code([code, ExitCode.INFRASTRUCTURE])
    echo(
        f"[{suite.name}] {'PASS' if code == ExitCode.OK else 'FAIL'} (exit {int(code)});"
        f" junit {junit}; summary {summary}"
    )
    return SuiteRun(tuple(outcomes), suite_dir, code)


def _run_entries(
    suite: LoadedSuite,
    *,
    run_one: RunOne,
    echo: Callable[[str], None],
    monotonic: Callable[[], float],
    switcher: StackSwitcher,
    outcomes: list[ScenarioOutcome],
) -> None:
    total = len(suite.scenarios)
    stopped: str | None = None
    for index, loaded in enumerate(suite.scenarios, start=1):
        tag = f"[{suite.name} {index}/{total}] {loaded.scenario.name}"
        file = str(loaded.path)
        entry = suite.stack_of(index - 1)
        stack, executor = switcher.label(entry)
        if stopped is not None:
            echo(f"{tag}: SKIPPED ({stopped})")
            outcomes.append(
                ScenarioOutcome(
                    loaded.scenario.name,
                    file,
                    ExitCode.OK,
                    error=stopped,
                    skipped=True,
                    stack=stack,
                    executor=executor,
                )
            )
            continue
        started = monotonic()
        try:
            config = switcher.switch_to(entry, tag)
        except DagstormError as exc:
            error = f"switching to stack {stack} failed: {exc.render()}"
            outcome = ScenarioOutcome(
                loaded.scenario.name, file, exc.exit_code, error=error, wall_s=monotonic() - started
            )
        except KeyboardInterrupt:
            outcome = ScenarioOutcome(
                loaded.scenario.name,
                file,
                ExitCode.INTERRUPTED,
                error=f"interrupted while switching to stack {stack}",
                wall_s=monotonic() - started,
            )
        else:
            on = f" on {stack} ({executor})" if switcher.active else ""
            echo(f"{tag}: start ({duration_text(planned_wall_s(loaded))} planned) from {file}{on}")
            outcome = _run(loaded, config, run_one, monotonic(), monotonic)
        outcome = replace(outcome, stack=stack, executor=executor)
        outcomes.append(outcome)
        verdict = _VERDICT.get(outcome.exit_code, "ERROR")
        where = f" — {outcome.run_dir}" if outcome.run_dir else ""
        error = f": {outcome.error}" if outcome.error else ""
        echo(
            f"{tag}: {verdict} (exit {int(outcome.exit_code)}) after "
            f"{duration_text(outcome.wall_s)}{error}{where}"
        )
        if outcome.exit_code in STOPPING:
            stopped = (
                f"the suite stopped after {loaded.scenario.name} exited {int(outcome.exit_code)}"
            )


def _run(
    loaded: LoadedScenario,
    config: StackConfig | None,
    run_one: RunOne,
    started: float,
    monotonic: Callable[[], float],
) -> ScenarioOutcome:
    name, file = loaded.scenario.name, str(loaded.path)
    try:
        finished = run_one(loaded, config)
    except DagstormError as exc:
        return ScenarioOutcome(
            name, file, exc.exit_code, error=exc.render(), wall_s=monotonic() - started
        )
    except KeyboardInterrupt:
        return ScenarioOutcome(
            name, file, ExitCode.INTERRUPTED, error="interrupted", wall_s=monotonic() - started
        )
    error = None
    if finished.exit_code in STOPPING:
        error = (
            "interrupted"
            if finished.exit_code == ExitCode.INTERRUPTED
            else ("infrastructure error (see the run's log lines above)")
        )
    return ScenarioOutcome(
        name, file, finished.exit_code, finished.run_dir, error, wall_s=monotonic() - started
    )
