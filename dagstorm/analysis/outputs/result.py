"""Analyse a run directory into a :class:`Result`, and write it as ``result.json``.

:func:`analyze` is pure: it reads the run directory and returns the result, with
no wall-clock time in it, so analysing the same directory twice gives the same
``result.json`` byte for byte (with the same dagstorm version). The format is
documented in docs/measures.md; ``"format": 1``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from dagstorm import __version__
from dagstorm.analysis.capacity import Capacity, capacity_of
from dagstorm.analysis.measures.compute import Measures, compute_measures
from dagstorm.analysis.outputs.baseline import (
    BASELINE_CHECK,
    Baseline,
    baseline_comparison,
    read_baseline,
    regression_text,
)
from dagstorm.analysis.outputs.compare import Comparison
from dagstorm.analysis.outputs.jsonable import to_jsonable
from dagstorm.analysis.outputs.next_steps import NextSteps, next_steps
from dagstorm.analysis.outputs.story import run_story
from dagstorm.analysis.outputs.summary import summary_lines
from dagstorm.analysis.rundata.load import iso_at, load_run
from dagstorm.analysis.rundata.model import RunData, ScenarioInfo
from dagstorm.analysis.verdict.judgement import SloVerdict, Verdict, judge, verdict_of
from dagstorm.core.atomic import atomic_write
from dagstorm.core.errors import ExitCode
from dagstorm.core.progress import Progress
from dagstorm.run.rundir import RunDirectory

__all__ = [
    "RESULT_FORMAT",
    "Result",
    "RunSummary",
    "analyze",
    "result_document",
    "result_of",
    "summary_lines",
    "write_result",
]

RESULT_FORMAT = 1
RESULT_FILE = RunDirectory.RESULT


@dataclass(frozen=True)
class RunSummary:
    """How the run went, from its journal."""

    directory: str
    #: ``completed``, ``aborted``, ``interrupted``, ``error`` or ``unfinished`` (no run_end).
    status: str
    reason: str | None
    #: UTC time of t = 0.
    started_at: str
    wall_s: float
    sim_s: float
    events: int


@dataclass(frozen=True)
class Result:
    """Everything ``dagstorm analyze`` knows about a run."""

    run_dir: Path
    scenario: ScenarioInfo
    run: RunSummary
    measures: Measures
    verdict: Verdict
    story: str
    #: Generated traffic vs target, and a capacity ramp's answer (docs/measures.md).
    capacity: Capacity
    #: The run it was judged against (``dagstorm run --baseline``) and how it compares.
    baseline: tuple[Baseline, Comparison] | None = None
    #: What next: the SLO closest to failing, the fault that hurt most, the stage that
    #: grew first, with advice (None only for a Result built by hand).
    next_steps: NextSteps | None = None
    #: The run data it was computed from (the report reuses it rather than read again).
    data: RunData | None = field(default=None, repr=False, compare=False)

    @property
    def exit_code(self) -> ExitCode:
        """The verdict's: 0 only when every SLO passed and nothing else failed the run."""
        return self.verdict.exit_code


def analyze(run_dir: Path, *, progress: Progress | None = None) -> Result:
    """Measure the run in ``run_dir`` and judge its SLOs (reads only; writes nothing).

    ``progress`` shows the journal read, then each stage (default: nothing shown).
    """
    return result_of(load_run(Path(run_dir), progress=progress), progress=progress)


def result_of(data: RunData, *, progress: Progress | None = None) -> Result:
    """The result of already-loaded run data (``progress``: its stages as steps)."""
    progress = progress or Progress(quiet=True)
    with progress.step("measures"):
        measures = compute_measures(data)
    with progress.step("result"):
        return _judged(data, measures)


def _judged(data: RunData, measures: Measures) -> Result:
    """:func:`result_of` once measured: verdict, summary, capacity, next steps, baseline."""
    verdict = judge(data, measures)
    run = RunSummary(
        directory=data.run_dir.name,
        status=data.status,
        reason=data.reason,
        started_at=iso_at(data.origin_wall, 0.0),
        wall_s=data.end_t,
        sim_s=data.end_t * data.compression,
        events=data.events,
    )
    capacity = capacity_of(data)
    result = Result(
        run_dir=data.run_dir,
        scenario=data.scenario,
        run=run,
        measures=measures,
        verdict=verdict,
        story=run_story(measures, verdict, status=data.status),
        capacity=capacity,
        next_steps=next_steps(
            data.scenario.slos, verdict, measures, capacity.ramp, dag_runs=data.dag_runs
        ),
        data=data,
    )
    baseline = read_baseline(data.run_dir)
    return result if baseline is None else with_baseline(result, baseline)


def with_baseline(result: Result, baseline: Baseline) -> Result:
    """``result`` with the ``baseline`` check added to its verdict.

    The check has weight 0: the resilience score stays the scenario's own, but a
    regression fails the verdict (exit code 1).
    """
    comparison = baseline_comparison(baseline, result_document(result))
    regressions = comparison.regressions
    check = SloVerdict(
        name=BASELINE_CHECK,
        type="baseline",
        measured=True,
        value=float(len(regressions)),
        value_text=f"{len(regressions)} regression(s)",
        target=f"no regression beyond tolerance vs {baseline.run}",
        passed=not regressions,
        weight=0.0,
        detail=regression_text(comparison),
    )
    verdict = result.verdict
    judged = verdict_of((*verdict.slos, check), verdict.findings, score=verdict.score)
    return replace(result, verdict=judged, baseline=(baseline, comparison))


def result_document(result: Result) -> dict[str, Any]:
    """``result.json``'s content as a dict (see docs/measures.md)."""
    verdict = result.verdict
    return {
        "format": RESULT_FORMAT,
        "kind": "dagstorm.result",
        "analysis": {"dagstorm_version": __version__},
        "run": to_jsonable(result.run),
        "scenario": to_jsonable(result.scenario),
        "verdict": {
            "passed": verdict.passed,
            "exit_code": int(verdict.exit_code),
            "score": verdict.score,
            "slos_total": len(verdict.slos),
            "slos_passed": len(verdict.slos) - len(verdict.failed),
            "slos_failed": len(verdict.failed),
            "findings": to_jsonable(verdict.findings),
        },
        "story": result.story,
        "slos": to_jsonable(verdict.slos),
        "measures": to_jsonable(result.measures),
        "capacity": to_jsonable(result.capacity),
        **({"next_steps": to_jsonable(result.next_steps)} if result.next_steps else {}),
        **({"baseline": _baseline_document(*result.baseline)} if result.baseline else {}),
    }


def _baseline_document(baseline: Baseline, comparison: Comparison) -> dict[str, Any]:
    return {
        "run": baseline.run,
        "source": baseline.source,
        "started_at": baseline.started_at,
        "regressions": len(comparison.regressions),
        "measures": [
            {
                "name": row.spec.name,
                "baseline": to_jsonable(row.baseline),
                "value": to_jsonable(row.candidate),
                "delta": to_jsonable(row.delta),
                "tolerance": row.tolerance.text,
                "regressed": row.regressed,
                "note": row.note,
            }
            for row in comparison.rows
        ],
    }


def write_result(run_dir: Path, result: Result) -> Path:
    """Write ``result.json`` into ``run_dir`` atomically; returns its path."""
    body = orjson.dumps(result_document(result), option=orjson.OPT_INDENT_2) + b"\n"
    return atomic_write(RunDirectory(Path(run_dir)).result, body)
