"""Spark faults on the embedded standalone cluster.

``executor_oom`` submits a job that really exhausts executor heap (exit code 52);
``executor_kill`` SIGKILLs a running executor JVM (exit 137 at the worker);
``worker_loss`` and ``master_restart`` are process faults on those daemons.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

import httpx
import psutil

from dagstorm.core.errors import FaultError
from dagstorm.core.polling import poll_until
from dagstorm.faults.base import Fault
from dagstorm.faults.specs import SparkFault
from dagstorm.stack.embedded.components.spark import spark_env
from dagstorm.stack.embedded.launcher import EmbeddedStack
from dagstorm.stack.embedded.ports import free_port
from dagstorm.stack.embedded.processes import PidRecord, group_members, process_of, spawn, stop

EXECUTOR_CLASS = "org.apache.spark.executor.CoarseGrainedExecutorBackend"
OOM_EXIT_CODE = 52


def executor_processes(embedded: EmbeddedStack) -> list[psutil.Process]:
    """Executor JVMs the embedded worker launched."""
    record = embedded.components["spark-worker"].running()
    if record is None:
        return []
    found = []
    for proc in group_members(record.pid, record.marker):
        with contextlib.suppress(psutil.Error):
            if any(EXECUTOR_CLASS in part for part in proc.cmdline()):
                found.append(proc)
    return found


class ExecutorKill(Fault):
    """SIGKILL one running executor JVM; Spark should replace it and retry its tasks."""

    spec: SparkFault

    def _embedded(self) -> EmbeddedStack:
        return EmbeddedStack(self.ctx.require_embedded("killing a Spark executor"))

    def check_targets(self) -> None:
        """The worker is a declared target."""
        if "spark-worker" not in self.ctx.stack.components:
            raise FaultError("spark-worker is not a declared fault target")

    def inject(self) -> dict[str, Any]:
        """Kill the newest executor."""
        executors = executor_processes(self._embedded())
        if not executors:
            raise FaultError(
                "no Spark executor is running",
                fix="inject executor_kill while a Spark job runs (the pipeline's aggregation)",
            )
        victim = max(executors, key=lambda p: p.create_time())
        victim.send_signal(signal.SIGKILL)
        psutil.wait_procs([victim], timeout=5)
        return {"executor_pid": victim.pid}

    def verify(self) -> str:
        """The killed JVM is gone."""
        pid = self.applied.get("executor_pid")
        if pid is not None and psutil.pid_exists(pid):
            with contextlib.suppress(psutil.Error):
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    raise FaultError(f"executor pid {pid} is still alive")
        return f"executor pid {pid} killed"

    def revert(self) -> None:
        """Nothing to undo: Spark launches a new executor itself."""


class ExecutorOom(Fault):
    """A job whose executor runs out of heap: exit code 52, retries, then the job aborts."""

    spec: SparkFault

    def _paths(self) -> tuple[Path, Path]:
        embedded = self.ctx.require_embedded("a Spark executor OOM")
        faults = embedded.layout.faults_dir
        faults.mkdir(parents=True, exist_ok=True)
        return faults / f"{self.fault_id}.pid", embedded.layout.log(f"fault-{self.fault_id}")

    def check_targets(self) -> None:
        """The worker is declared and running."""
        embedded = EmbeddedStack(self.ctx.require_embedded("a Spark executor OOM"))
        if "spark-worker" not in self.ctx.stack.components:
            raise FaultError("spark-worker is not a declared fault target")
        if embedded.components["spark-worker"].running() is None:
            raise FaultError("the Spark worker is not running", fix="`dagstorm stack up`")

    def inject(self) -> dict[str, Any]:
        """Submit the memory-hungry job in the background."""
        ctx = self.ctx.require_embedded("a Spark executor OOM")
        pid_path, log_path = self._paths()
        ui_port = free_port()
        job = Path(__file__).with_name("spark_oom_job.py")
        argv = [
            str(ctx.spark_home / "bin" / "spark-submit"),
            "--master",
            self.ctx.stack.endpoint("spark"),
            "--name",
            f"dagstorm-oom-{self.fault_id}",
            "--executor-memory",
            self.spec.executor_memory,
            "--conf",
            "spark.cores.max=1",
            "--conf",
            f"spark.ui.port={ui_port}",
            "--conf",
            "spark.executor.memoryOverhead=384m",
            str(job),
        ]
        env = {**spark_env(ctx), "PYSPARK_PYTHON": sys.executable}
        record = spawn(
            f"fault-{self.fault_id}",
            argv,
            env=env,
            log_path=log_path,
            pid_path=pid_path,
            marker=ctx.marker,
        )
        return {"driver_pid": record.pid, "ui_port": ui_port, "log": str(log_path)}

    def verify(self) -> str:
        """Wait (≤ 120 s) until the driver's REST API shows an executor lost with exit 52."""
        ui_port = self.applied.get("ui_port")
        pid_path, log_path = self._paths()
        no_oom = FaultError(
            "no executor was seen dying of OOM (exit code 52)",
            where=str(log_path),
            fix="check the worker has at least 1 GB and the job's log",
        )

        def executor_lost() -> str | None:
            lost = self._lost_executors(ui_port)
            if lost:
                return f"executor {lost[0]['id']} lost: {lost[0].get('removeReason', '')[:120]}"
            record = PidRecord.read(pid_path)
            if record is not None and process_of(record) is None:
                raise no_oom  # the job ended without losing one
            return None

        found = poll_until(executor_lost, timeout=120, interval=0.5)
        if found is None:
            raise no_oom
        return found

    @staticmethod
    def _lost_executors(ui_port: int | None) -> list[dict[str, Any]]:
        if ui_port is None:
            return []
        base = f"http://127.0.0.1:{ui_port}/api/v1/applications"
        try:
            apps = httpx.get(base, timeout=2).json()
            if not apps:
                return []
            executors = httpx.get(f"{base}/{apps[0]['id']}/allexecutors", timeout=2).json()
        except (httpx.HTTPError, ValueError, KeyError):
            return []
        return [
            e
            for e in executors
            if e.get("id") != "driver"
            and not e.get("isActive", True)
            and (
                "52" in str(e.get("removeReason", ""))
                or "OutOfMemory" in str(e.get("removeReason", ""))
            )
        ]

    def revert(self) -> None:
        """Stop the job's driver if it still runs."""
        pid_path, _ = self._paths()
        record = PidRecord.read(pid_path)
        if record is not None:
            stop(record, timeout=10)
        pid_path.unlink(missing_ok=True)
