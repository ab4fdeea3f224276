"""The pipeline stages a capacity ramp times, and which tasks make each one.

KNOWN LIMITATION (issue 14): the task ids below are those of the reference
pipeline (the ``ad_logs_hourly`` DAG), hard-coded. This module is the one place
that names them; a scenario's stage map (issue 14) will replace
:data:`REFERENCE_STAGE_TASKS` and :func:`stage_of`.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["QUEUEING", "REFERENCE_STAGE_TASKS", "STAGES", "stage_of"]

#: The stage that is the queueing of every task of a run (queued → running), summed.
QUEUEING = "queueing"
#: The stages, in the order the report shows them.
STAGES = ("sensor wait", QUEUEING, "Spark", "load")
#: ISSUE 14: the reference pipeline's task ids per timed stage. A task belongs to a
#: stage when its id equals one of the names, or starts with one ending in ``*``.
REFERENCE_STAGE_TASKS: Mapping[str, tuple[str, ...]] = {
    "sensor wait": ("wait_for_partition",),
    "Spark": ("aggregate*",),
    "load": ("load_serving",),
}


def stage_of(task_id: str) -> str | None:
    """The timed stage the task belongs to (None: it is timed only in queueing)."""
    for stage, patterns in REFERENCE_STAGE_TASKS.items():
        for pattern in patterns:
            if pattern.endswith("*"):
                if task_id.startswith(pattern[:-1]):
                    return stage
            elif task_id == pattern:
                return stage
    return None
