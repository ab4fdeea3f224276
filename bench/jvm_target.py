"""The JVM rows of fault_timings.py: their target application and their faults, in order.

:class:`TargetApp` spark-submits ``jvm_target_job.py`` to the embedded stack's
master (loopback, the stack's own spark-defaults.conf, so its JVMs load the
Byteman agent and its Python workers run through the stack's daemon), waits until
an executor of it runs with its agent listening, and stops it — on a normal end,
an error or Ctrl-C, through its context manager. :func:`jvm_specs` gives the
rows, the destructive ones last.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from dagstorm.core.errors import FaultError
from dagstorm.faults.jvm import targets
from dagstorm.faults.specs import JvmFault
from dagstorm.faults.specs.jvm import TASK_START
from dagstorm.stack.embedded.components.spark import spark_env
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.ports import free_port
from dagstorm.stack.embedded.processes import PidRecord, process_of, spawn, stop

JOB = Path(__file__).resolve().with_name("jvm_target_job.py")
#: Where executors fetch shuffle blocks: the job's reduceByKey calls it (docs/faults.md).
SHUFFLE_FETCH = "org.apache.spark.storage.ShuffleBlockFetcherIterator.next"
#: Row order: the JVMs come out of the first three as they went in; python_oom kills
#: Python workers (the executor stays); memory_stress kills an executor (exit 52).
ACTIONS = ("latency", "exception", "gc_pressure", "python_oom", "memory_stress")
#: Seconds one target application runs at most (it ends by itself).
TARGET_S = 180.0
#: Seconds to wait for a target's executor with its agent, and for its end on stop.
READY_S = 150.0
STOP_S = 20.0
#: A target with less than this left is replaced before a row (so it outlives the row).
FRESH_S = 70.0
#: Target applications started at most in one bench.
MAX_STARTS = 20


def jvm_specs(app: str, actions: Sequence[str] = ACTIONS) -> list[JvmFault]:
    """One fault per action on the executors of ``app``, with safe arguments, in row order."""
    unknown = sorted(set(actions) - set(ACTIONS))
    if unknown:
        raise ValueError(f"unknown JVM action(s) {', '.join(unknown)}; known: {', '.join(ACTIONS)}")
    made = {
        "latency": JvmFault(action="latency", app=app, method=TASK_START, latency_ms=2000),
        "exception": JvmFault(
            action="exception", app=app, method=SHUFFLE_FETCH, message="dagstorm bench"
        ),
        "gc_pressure": JvmFault(action="gc_pressure", app=app),
        "python_oom": JvmFault(action="python_oom", app=app),
        "memory_stress": JvmFault(action="memory_stress", app=app),
    }
    return [made[action] for action in ACTIONS if action in actions]


def submit_argv(
    spark_home: Path, master: str, name: str, ui_port: int, seconds: float = TARGET_S
) -> list[str]:
    """spark-submit's command line for the target (one core, a small heap, many task tries)."""
    if not master.startswith(("spark://127.0.0.1:", "spark://localhost:")):
        raise FaultError(f"the JVM rows submit to a loopback master only, not {master}")
    return [
        str(spark_home / "bin" / "spark-submit"),
        "--master",
        master,
        "--name",
        name,
        "--executor-memory",
        "512m",
        "--conf",
        "spark.cores.max=1",
        "--conf",
        "spark.executor.memoryOverhead=384m",
        # A fault fails tasks (exception, python_oom) or kills the executor
        # (memory_stress): a round retries, and the next round starts anyway.
        "--conf",
        "spark.task.maxFailures=20",
        "--conf",
        f"spark.ui.port={ui_port}",
        str(JOB),
        "--seconds",
        f"{seconds:.0f}",
    ]


class TargetApp:
    """The bench's own Spark application on the embedded stack; stopped on exit."""

    def __init__(self, ctx: StackContext, master: str, master_ui: str, name: str) -> None:
        self.ctx = ctx
        self.master = master
        self.master_ui = master_ui
        self.name = name
        self.starts = 0
        self.started_at = 0.0
        self.record: PidRecord | None = None
        faults = ctx.layout.faults_dir
        self.pid_path = faults / f"bench-{name}.pid"
        self.log_path = ctx.layout.log(f"bench-{name}")

    def argv(self) -> list[str]:
        """The command that runs the target (its driver)."""
        return submit_argv(self.ctx.spark_home, self.master, self.name, free_port())

    def running(self) -> bool:
        """Whether the spark-submit process still runs."""
        return self.record is not None and process_of(self.record) is not None

    def start(self) -> None:
        """spark-submit the target in the background."""
        if self.starts >= MAX_STARTS:
            raise FaultError(f"the target application was started {self.starts} times already")
        self.starts += 1
        self.started_at = time.monotonic()
        self.pid_path.parent.mkdir(parents=True, exist_ok=True)
        self.record = spawn(
            f"bench-{self.name}",
            self.argv(),
            env=spark_env(self.ctx),  # the stack's conf dir (the agent); PYSPARK_PYTHON: ours
            log_path=self.log_path,
            pid_path=self.pid_path,
            marker=self.ctx.marker,
        )

    def executor_ready(self) -> bool:
        """An executor of the target runs, with the Byteman agent listening."""
        apps = targets.matching(targets.running_apps(self.master_ui), self.name)
        jar = str(self.ctx.layout.byteman_jar)
        jvms = targets.find_jvms(apps, jar, frozenset({"executor"}))
        return any(jvm.port is not None for jvm in jvms)

    def ensure_running(self, timeout: float = READY_S) -> float:
        """Start the target if it is not running (or ends soon); wait for an executor."""
        started = time.monotonic()
        if self.running() and started - self.started_at > TARGET_S - FRESH_S:
            self.stop()
        if not self.running():
            self.start()
        deadline = started + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise FaultError(
                    "the target application ended before an executor ran",
                    where=str(self.log_path),
                )
            if self.executor_ready():
                return time.monotonic() - started
            time.sleep(1.0)
        raise FaultError(
            f"no executor of `{self.name}` with the Byteman agent within {timeout:.0f} s",
            where=str(self.log_path),
            fix="`dagstorm stack status`; the agent needs `dagstorm stack install` and a restart",
        )

    def stop(self) -> str:
        """Stop the target's driver (and with it the application); what happened."""
        if self.record is None:
            return "not started"
        outcome = stop(self.record, timeout=STOP_S)
        self.pid_path.unlink(missing_ok=True)
        self.record = None
        return outcome

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
