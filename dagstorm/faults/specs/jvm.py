"""Faults inside the pipeline's own Spark JVMs (Byteman rules) and Python workers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from dagstorm.core.problems import raise_all
from dagstorm.faults.specs.base import FaultSpecBase
from dagstorm.stack.parts import Part

JvmAction = Literal["memory_stress", "exception", "latency", "gc_pressure", "python_oom"]
#: A Java class or method name, dotted (``$`` for nested classes); nothing a rule could
#: be broken out of.
_JAVA_NAME = r"^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)+$"
#: Where a task's work starts on an executor: memory_stress and gc_pressure fire there.
TASK_START = "org.apache.spark.scheduler.Task.run"
#: Where a job starts on the driver.
JOB_START = "org.apache.spark.scheduler.DAGScheduler.submitJob"


class JvmFault(FaultSpecBase):
    """A Byteman rule in the JVMs of a running Spark application: the pipeline's own job.

    ``memory_stress`` fills the heap until ``OutOfMemoryError: Java heap space``
    (an executor exits 52); ``exception`` throws in a method; ``latency`` delays
    one; ``gc_pressure`` forces full collections at each call. The application is
    found by name (``app``, a glob: SparkSubmitOperator's ``name``) among the
    running ones, in its ``jvm``: executors (default), the driver, or both.
    ``python_oom`` is no Byteman rule: the executors' Python workers (PySpark UDFs,
    RDD functions) fill their declared memory and die, and Spark fails the task
    with "Python worker exited unexpectedly (crashed)".
    """

    kind: Literal["jvm"] = "jvm"
    action: JvmAction
    app: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[^\n]+$",
        description="glob over running Spark application names, e.g. my_dag-aggregate-*",
    )
    jvm: Literal["executor", "driver", "all"] = "executor"
    method: str | None = Field(
        None,
        pattern=_JAVA_NAME,
        max_length=300,
        description="Class.method the rule fires in (memory_stress/gc_pressure: a default)",
    )
    exception: str = Field("java.lang.RuntimeException", pattern=_JAVA_NAME, max_length=300)
    message: str = Field("dagstorm jvm fault", max_length=200, pattern=r'^[^"\\\n\r]*$')
    latency_ms: int = Field(0, ge=0, le=600_000)
    gc_count: int = Field(3, ge=1, le=100, description="gc_pressure: full collections a call")

    @model_validator(mode="after")
    def _needs(self) -> JvmFault:
        findings: list[tuple[tuple[str, ...], str]] = []
        if self.action in ("exception", "latency") and self.method is None:
            findings.append((("method",), f"action {self.action} needs a method (Class.method)"))
        if self.action == "latency" and self.latency_ms <= 0:
            findings.append((("latency_ms",), "action latency needs latency_ms > 0"))
        if self.action != "latency" and self.latency_ms:
            findings.append(
                (("latency_ms",), f"latency_ms is for action latency, not {self.action}")
            )
        if self.action == "memory_stress" and self.jvm != "executor":
            # An executor that OOMs exits (52) and its held heap goes with it; a
            # driver survives an OOM in a caller's thread and would keep it after revert.
            findings.append((("jvm",), "memory_stress is for executors (jvm: executor)"))
        if self.action == "python_oom":
            # No rule and no JVM method: the Python workers of executors take it.
            if self.method is not None:
                findings.append((("method",), "python_oom takes no method (no Byteman rule)"))
            if self.jvm != "executor":
                findings.append(
                    (("jvm",), "python_oom is for the executors' Python workers (jvm: executor)")
                )
        if self.action == "gc_pressure" and self.jvm == "all" and self.method is None:
            findings.append(
                (("method",), f"{self.action} on jvm all needs a method both run (no default)")
            )
        raise_all("JvmFault", findings)
        return self

    def rule_method(self) -> str:
        """The method the rule fires in: the one written, or where tasks (jobs) start."""
        if self.method is not None:
            return self.method
        return JOB_START if self.jvm == "driver" else TASK_START

    def describe(self) -> str:
        """Short description."""
        if self.action == "python_oom":
            return f"python worker oom (executors of {self.app})"
        detail = {
            "latency": f" {self.latency_ms} ms in {self.method}",
            "exception": f" {self.exception} in {self.method}",
        }.get(self.action, "")
        return f"jvm {self.action.replace('_', ' ')}{detail} ({self.jvm} of {self.app})"

    def needs(self) -> frozenset[Part]:
        """Spark, and its JVMs on this host (the agent listens on loopback only)."""
        return frozenset({"spark", "processes"})
