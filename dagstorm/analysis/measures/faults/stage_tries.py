# mypy: disable-error-code="import-untyped"
"""Which pipeline stage a fault window's failed and retried tries belonged to.

A try's stage comes from the profile's stage map (task-id patterns → wait /
transform / load / check, :mod:`~dagstorm.analysis.rundata.stages`), with two more:

- ``queueing``: a try that failed without ever starting (no ``start_date``: queued,
  then failed by the scheduler; its executor lost it) failed while it queued,
  whatever its task;
- ``unmapped``: a task the stage map does not name.

Stages are listed in :data:`~dagstorm.analysis.rundata.stages.STAGES` order, then
``unmapped``; a stage with no failed and no retried try is left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dagstorm.analysis.rundata.stages import QUEUEING, STAGES, StageMap, stage_of

__all__ = ["UNMAPPED", "StageTries", "stage_tries"]

#: The stage of a task the stage map does not name.
UNMAPPED = "unmapped"


@dataclass(frozen=True)
class StageTries:
    """The failed and retried tries of one stage (in one fault window)."""

    stage: str
    #: Tries whose last state is failed or up_for_retry.
    failed: int
    #: Tries with ``try_number`` > 1 (each one a retry the failure cost).
    retried: int


def try_stage(task_id: str, started: bool, stages: StageMap) -> str:
    """The stage of one try (see the module docstring)."""
    if not started:
        return QUEUEING
    return stage_of(task_id, stages) or UNMAPPED


def _counts(tries: pd.DataFrame, stages: StageMap) -> dict[str, int]:
    counts: dict[str, int] = {}
    for task_id, start in zip(tries["task_id"], tries["start_date_t"], strict=True):
        stage = try_stage(str(task_id), not pd.isna(start), stages)
        counts[stage] = counts.get(stage, 0) + 1
    return counts


def stage_tries(
    failed: pd.DataFrame, retried: pd.DataFrame, stages: StageMap
) -> tuple[StageTries, ...]:
    """Per stage, how many of ``failed`` and ``retried`` (task-try frames) it holds.

    A retry that has not started yet is not counted in ``queueing``: it is waiting
    for its retry delay, not lost; ``retried`` holds only tries that started.
    """
    failing = _counts(failed, stages)
    retrying = _counts(retried, stages)
    order = [*STAGES, UNMAPPED]

    def rank(stage: str) -> tuple[int, str]:
        return (order.index(stage) if stage in order else len(order), stage)

    named = sorted(set(failing) | set(retrying), key=rank)
    return tuple(StageTries(s, failing.get(s, 0), retrying.get(s, 0)) for s in named)
