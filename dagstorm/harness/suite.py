"""Run a suite's scenarios one after another (what `dagstorm nightly` does).

Progress goes to ``echo`` as plain lines (stdout for `dagstorm nightly`), one
per event, prefixed with the scenario's position, so a CI log reads like a test
log. An infrastructure error (exit 3) or an interruption (130) stops the suite:
the scenarios not yet run are reported as skipped. The suite exits with the
worst exit code of its runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dagstorm.analysis.outputs.suite_report import (
    ScenarioOutcome,
    suite_exit_code,
    write_suite_outputs,
)
from dagstorm.core.durations import duration_text
from dagstorm.core.errors import DagstormError, ExitCode
from dagstorm.harness.flow import FinishedRun
from dagstorm.scenarios.loader import LoadedScenario
from dagstorm.scenarios.suite import LoadedSuite, planned_wall_s

__all__ = ["STOPPING", "SuiteRun", "run_suite"]

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
    run_one: Callable[[LoadedScenario], FinishedRun],
    echo: Callable[[str], None],
    monotonic: Callable[[], float] = time.monotonic,
) -> SuiteRun:
    """Run every scenario of ``suite`` with ``run_one``; write the suite's outputs."""
    total = len(suite.scenarios)
    echo(
        f"[{suite.name}] {total} scenario(s), planned {duration_text(suite.planned_s)} wall"
        + (f" (budget {duration_text(suite.budget_s)})" if suite.budget_s else "")
    )
    outcomes: list[ScenarioOutcome] = []
    stopped: str | None = None
    for index, loaded in enumerate(suite.scenarios, start=1):
        tag = f"[{suite.name} {index}/{total}] {loaded.scenario.name}"
        file = str(loaded.path)
        if stopped is not None:
            echo(f"{tag}: SKIPPED ({stopped})")
            outcomes.append(
                ScenarioOutcome(
                    loaded.scenario.name, file, ExitCode.OK, error=stopped, skipped=True
                )
            )
            continue
        echo(f"{tag}: start ({duration_text(planned_wall_s(loaded))} planned) from {file}")
        started = monotonic()
        outcome = _run(loaded, run_one, started, monotonic)
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
    junit, summary, _ = write_suite_outputs(suite_dir, suite.name, outcomes)
    code = suite_exit_code(outcomes)
    echo(
        f"[{suite.name}] {'PASS' if code == ExitCode.OK else 'FAIL'} (exit {int(code)});"
        f" junit {junit}; summary {summary}"
    )
    return SuiteRun(tuple(outcomes), suite_dir, code)


def _run(
    loaded: LoadedScenario,
    run_one: Callable[[LoadedScenario], FinishedRun],
    started: float,
    monotonic: Callable[[], float],
) -> ScenarioOutcome:
    name, file = loaded.scenario.name, str(loaded.path)
    try:
        finished = run_one(loaded)
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
