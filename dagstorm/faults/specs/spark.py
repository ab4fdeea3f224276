"""Spark faults outside the pipeline's own jobs (a bystander job, the cluster)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dagstorm.faults.specs.base import FaultSpecBase
from dagstorm.stack.parts import Part


class SparkFault(FaultSpecBase):
    """Spark: a bystander OOM job, an executor JVM killed, the worker lost, the master restarted.

    ``cluster_pressure`` submits a job of dagstorm's own that exhausts its own
    executor's heap (exit 52) while the pipeline's jobs wait for the cores; the
    pipeline's own jobs run out of memory with ``{kind: jvm, action: memory_stress}``.
    ``executor_oom`` is the old name of ``cluster_pressure`` (accepted, with a warning).
    """

    kind: Literal["spark"] = "spark"
    action: Literal[
        "cluster_pressure", "executor_oom", "executor_kill", "worker_loss", "master_restart"
    ]
    executor_memory: str = Field("512m", pattern=r"^\d+[mg]$")

    def describe(self) -> str:
        """Short description."""
        return f"spark {self.action.replace('_', ' ')}"

    def deprecation(self) -> tuple[str, str, str] | None:
        """``executor_oom`` is ``cluster_pressure`` now: the OOM is not the pipeline's."""
        if self.action != "executor_oom":
            return None
        return (
            "action",
            "`executor_oom` is deprecated: it runs a bystander job that OOMs on its own "
            "executor, the pipeline's jobs only wait for cores",
            "write `action: cluster_pressure` for that, or `{kind: jvm, action: memory_stress, "
            "app: ...}` to OOM the pipeline's own executor",
        )

    def needs(self) -> frozenset[Part]:
        """Spark, and its processes (executors, worker, master) as dagstorm's own."""
        return frozenset({"spark", "processes"})
