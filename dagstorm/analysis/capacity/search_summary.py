"""A breakpoint search's answer: the figures of its steps and verify runs, in one summary.

The search (:mod:`dagstorm.analysis.capacity.search`) decides which multipliers
ran and what each step's verdict was. Here they become one answer (docs/capacity.md):

- **sustained** and **breaking** multipliers, and the rates they stand for at
  full scale (the workload's declared rate × the multiplier: *extrapolated*, like
  the ramp's headroom), with the measured generated rate of those steps;
- **headroom** = the sustained full-scale rate ÷ the declared target
  (``capacity.search.target``, else the workload's rate);
- the **limiting stage**: the stage whose time grew first from the lowest step up
  to the breaking one (the ramp's rule, :func:`~dagstorm.analysis.capacity.ramp.first_growth`),
  and the **limiting task**: the task of the SLA's DAG whose time grew first by the
  same rule — every task, whether the pipeline profile puts it in a stage or not
  (a user's DAG without a profile has no stages, and a task in none is invisible
  to the stage rule);
- the **limiting resource**: :func:`~dagstorm.analysis.capacity.step_profile.limiting_resource`,
  and what **saturated first** (:func:`~dagstorm.analysis.capacity.step_profile.first_saturated`:
  the lowest step, up to the breaking one, whose Spark cores were all in use most of the time;
  :func:`~dagstorm.analysis.capacity.pools.first_full_pool`: the lowest step where an
  Airflow pool had no open slot most of the time);
- per step the runs counted, the compliance and its Wilson interval; the verify
  runs' verdicts; how and why the search ended, and whether the wall budget did it.

Its files (``search.json``, ``junit.xml``, the history line):
:mod:`dagstorm.analysis.outputs.capacity_search`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from dagstorm.analysis.capacity.pools import PoolSaturation, first_full_pool
from dagstorm.analysis.capacity.ramp import Bottleneck, first_growth
from dagstorm.analysis.capacity.search import SearchResult, SearchSettings, SearchStep
from dagstorm.analysis.capacity.step_profile import (
    LimitingResource,
    Saturation,
    StepProfile,
    first_saturated,
    limiting_resource,
    merge_profiles,
)
from dagstorm.analysis.capacity.wilson import Interval
from dagstorm.core.errors import ExitCode

__all__ = [
    "ANSWERED",
    "CapacitySearchSummary",
    "StepRow",
    "TaskGrowth",
    "VerifyCheck",
    "search_exit_code",
    "step_rows",
    "summarise",
]

#: How the search may end and still give an answer (the others fail the search).
ANSWERED = frozenset({"converged", "ceiling", "first step broke"})


@dataclass(frozen=True)
class StepRow:
    """One step of the search as reported."""

    index: int
    multiplier: float
    phase: str
    verdict: str
    reason: str
    early: bool
    run_dirs: tuple[str, ...]
    met: int
    counted: int
    compliance: float | None
    interval: Interval | None
    #: Extrapolated: the declared rate × the multiplier (bytes per second at full scale).
    full_scale_bytes_per_s: float | None
    profile: StepProfile | None
    #: Why a sub-run of it could not be judged (the first such), if one could not.
    error: str | None = None


@dataclass(frozen=True)
class TaskGrowth:
    """The task whose time grew first: where, by how much, and its stage (if any)."""

    task: str
    #: The task's stage in the pipeline profile (None: in no stage).
    stage: str | None
    multiplier: float
    #: Its median per run at that step − at the lowest step (simulated seconds).
    rise_sim_s: float

    @property
    def text(self) -> str:
        """``validate (in no stage) +27 min sim per run, first at ×128``."""
        where = "in no stage" if self.stage is None else f"stage {self.stage}"
        return (
            f"{self.task} ({where}) +{self.rise_sim_s / 60:.1f} min sim per run,"
            f" first at ×{self.multiplier:.4g}"
        )


@dataclass(frozen=True)
class VerifyCheck:
    """A steady run after the search and whether it did what it must."""

    name: Literal["below", "above"]
    multiplier: float
    expected: Literal["holds", "breaks"]
    step: StepRow

    @property
    def passed(self) -> bool:
        """True when the run's verdict is the expected one."""
        return self.step.verdict == self.expected


@dataclass(frozen=True)
class CapacitySearchSummary:
    """The search's answer (``search.json``, docs/capacity.md)."""

    scenario: str
    started_at: str
    wall_s: float
    settings: SearchSettings
    sla_text: str
    ended: str
    ended_text: str
    bounded_by_wall: bool
    sustained: float | None
    breaking: float | None
    #: breaking ÷ sustained − 1 (None: one side missing).
    width: float | None
    declared_text: str | None
    declared_bytes_per_s: float | None
    target_text: str | None
    target_bytes_per_s: float | None
    sustained_full_scale_bytes_per_s: float | None
    breaking_full_scale_bytes_per_s: float | None
    #: Measured generated rate (simulated) at the sustained step.
    sustained_sim_bytes_per_s: float | None
    headroom: float | None
    limiting_stage: Bottleneck | None
    #: The multiplier of the step where the stage grew (``limiting_stage.step`` is its index).
    limiting_stage_multiplier: float | None
    limiting_cpu: LimitingResource | None
    limiting_memory: LimitingResource | None
    steps: tuple[StepRow, ...]
    verify: tuple[VerifyCheck, ...]
    #: The lowest step up to the breaking one whose Spark cores were saturated (None: none).
    saturated_first: Saturation | None = None
    #: The task of the SLA's DAG whose time grew first up to the break (None: none grew).
    limiting_task: TaskGrowth | None = None
    #: The lowest step up to the breaking one where a pool had no open slot most of the
    #: time (None: none did, or no pool gauges).
    pool_saturated_first: PoolSaturation | None = None

    @property
    def exit_code(self) -> ExitCode:
        """The search's exit code (:func:`search_exit_code`)."""
        return search_exit_code(self)


def step_rows(
    steps: Sequence[SearchStep],
    profiles: Mapping[str, StepProfile],
    declared_bytes_per_s: float | None,
) -> tuple[StepRow, ...]:
    """Each step with its counts, interval, extrapolated rate and merged profile."""
    rows = []
    for step in steps:
        dirs = tuple(s.run_dir for s in step.sub_runs if s.run_dir is not None)
        error = next((s.error for s in step.sub_runs if s.error is not None), None)
        if step.decision is not None:
            reason = step.decision.reason
        elif error is not None:
            reason = f"could not run: {error}"
        else:
            reason = "" if step.sub_runs else "not run: it would overrun the budget"
        rows.append(
            StepRow(
                index=step.index,
                multiplier=step.multiplier,
                phase=step.phase,
                verdict=step.verdict,
                reason=reason,
                early=step.decision is not None and step.decision.early,
                run_dirs=dirs,
                met=step.met,
                counted=step.counted,
                compliance=step.compliance,
                interval=step.interval,
                full_scale_bytes_per_s=(
                    None if declared_bytes_per_s is None else declared_bytes_per_s * step.multiplier
                ),
                profile=merge_profiles([profiles[d] for d in dirs if d in profiles]),
                error=error,
            )
        )
    return tuple(rows)


def summarise(
    *,
    scenario: str,
    started_at: str,
    wall_s: float,
    settings: SearchSettings,
    sla_text: str,
    result: SearchResult,
    profiles: Mapping[str, StepProfile],
    declared: tuple[str | None, float | None],
    target: tuple[str | None, float | None],
    verify: Sequence[tuple[Literal["below", "above"], float, SearchStep]] = (),
) -> CapacitySearchSummary:
    """The search's answer from its result, the sub-runs' profiles and the declarations."""
    declared_text, declared_rate = declared
    target_text, target_rate = target
    if target_text is None:  # no target declared: the workload's own rate
        target_text, target_rate = declared_text, declared_rate
    rows = step_rows(result.steps, profiles, declared_rate)
    sustained_row = _row_at(rows, result.sustained)
    sustained_full = None if sustained_row is None else sustained_row.full_scale_bytes_per_s
    breaking_row = _row_at(rows, result.breaking)
    # The stage that grew first, from the lowest step up to the breaking one.
    judged = sorted(
        (r for r in rows if r.verdict in ("holds", "breaks") and r.profile is not None),
        key=lambda r: r.multiplier,
    )
    top = result.breaking if result.breaking is not None else result.sustained
    upto = [r for r in judged if top is None or r.multiplier <= top]
    grew = first_growth([(r.index, r.profile.stages) for r in upto if r.profile is not None])
    grew_at = next((r.multiplier for r in rows if grew and r.index == grew.step), None)
    task = _task_growth(upto)
    cpu = memory = None
    if len(upto) >= 2 and upto[0].profile is not None and upto[-1].profile is not None:
        cpu, memory = limiting_resource(
            (upto[0].multiplier, upto[0].profile), (upto[-1].multiplier, upto[-1].profile)
        )
    saturated = first_saturated((r.multiplier, r.profile) for r in upto if r.profile is not None)
    pool_full = first_full_pool((r.multiplier, r.profile.pools) for r in upto if r.profile)
    checks = tuple(
        VerifyCheck(
            name,
            multiplier,
            "holds" if name == "below" else "breaks",
            step_rows([step], profiles, declared_rate)[0],
        )
        for name, multiplier, step in verify
    )
    return CapacitySearchSummary(
        scenario=scenario,
        started_at=started_at,
        wall_s=wall_s,
        settings=settings,
        sla_text=sla_text,
        ended=result.ended,
        ended_text=result.ended_text,
        # Also when the budget left a verify run out.
        bounded_by_wall=result.bounded_by_wall or any(not s.sub_runs for _, _, s in verify),
        sustained=result.sustained,
        breaking=result.breaking,
        width=result.width,
        declared_text=declared_text,
        declared_bytes_per_s=declared_rate,
        target_text=target_text,
        target_bytes_per_s=target_rate,
        sustained_full_scale_bytes_per_s=sustained_full,
        breaking_full_scale_bytes_per_s=(
            None if breaking_row is None else breaking_row.full_scale_bytes_per_s
        ),
        sustained_sim_bytes_per_s=(
            None
            if sustained_row is None or sustained_row.profile is None
            else sustained_row.profile.sim_bytes_per_s
        ),
        headroom=(
            None if sustained_full is None or not target_rate else sustained_full / target_rate
        ),
        limiting_stage=grew,
        limiting_stage_multiplier=grew_at,
        limiting_cpu=cpu,
        limiting_memory=memory,
        steps=rows,
        verify=checks,
        saturated_first=saturated,
        limiting_task=task,
        pool_saturated_first=pool_full,
    )


def _task_growth(upto: Sequence[StepRow]) -> TaskGrowth | None:
    """The task that grew first over the judged steps ``upto`` (lowest first)."""
    profiled = [(r, r.profile) for r in upto if r.profile is not None]
    if not profiled:
        return None
    keys = sorted({task for _, profile in profiled for task in profile.tasks})
    grew = first_growth([(r.index, profile.tasks) for r, profile in profiled], keys)
    if grew is None:
        return None
    row, profile = next((r, p) for r, p in profiled if r.index == grew.step)
    return TaskGrowth(
        grew.stage, profile.task_stages.get(grew.stage), row.multiplier, grew.rise_sim_s
    )


def _row_at(rows: Sequence[StepRow], multiplier: float | None) -> StepRow | None:
    if multiplier is None:
        return None
    return next((r for r in rows if r.multiplier == multiplier and r.verdict != "undecided"), None)


def search_exit_code(summary: CapacitySearchSummary) -> ExitCode:
    """0 an answer (and every verify check passed); 1 no answer or a verify failed; 3 error.

    An interrupted sub-run (Ctrl-C: its faults were reverted) is 130, like `dagstorm run`;
    so is one of the verify runs, and a verify run that could not run is 3.
    """
    errors = [c.step.error for c in summary.verify if c.step.error is not None]
    if summary.ended == "error" or errors:
        text = summary.ended_text if summary.ended == "error" else errors[0]
        interrupted = text.endswith("interrupted") or "(exit 130)" in text
        return ExitCode.INTERRUPTED if interrupted else ExitCode.INFRASTRUCTURE
    if summary.ended not in ANSWERED or not all(c.passed for c in summary.verify):
        return ExitCode.SLO_FAILED
    return ExitCode.OK
