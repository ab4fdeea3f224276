"""The pipeline's stages, and which tasks make each one.

The tasks of each stage come from the pipeline profile's stage map (task-id
patterns → wait / transform / load / check), kept in the run directory
(``pipeline.json``); the analysis never names a task of any pipeline. The capacity
ramp times the stages; the recovery per fault window says which stage its failed
and retried tries belonged to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dagstorm.profiles.model import stage_of

__all__ = ["QUEUEING", "STAGES", "StageMap", "stage_of"]

#: The stage that is the queueing of every task of a run (queued → running), summed.
QUEUEING = "queueing"
#: The stages, in the order the report shows them.
STAGES = ("wait", QUEUEING, "transform", "load", "check")
#: Stage → task-id glob patterns (a pipeline profile's ``stages``).
StageMap = Mapping[str, Sequence[str]]
