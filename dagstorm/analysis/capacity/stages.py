"""The pipeline stages a capacity ramp times, and which tasks make each one.

The tasks of each stage come from the pipeline profile's stage map (task-id
patterns → wait / transform / load / check), kept in the run directory
(``pipeline.json``); the analysis never names a task of any pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase

__all__ = ["QUEUEING", "STAGES", "StageMap", "stage_of"]

#: The stage that is the queueing of every task of a run (queued → running), summed.
QUEUEING = "queueing"
#: The stages, in the order the report shows them.
STAGES = ("wait", QUEUEING, "transform", "load", "check")
#: Stage → task-id glob patterns (a pipeline profile's ``stages``).
StageMap = Mapping[str, Sequence[str]]


def stage_of(task_id: str, stages: StageMap) -> str | None:
    """The timed stage the task belongs to (None: it is timed only in queueing)."""
    for stage, patterns in stages.items():
        if any(fnmatchcase(task_id, pattern) for pattern in patterns):
            return stage
    return None
