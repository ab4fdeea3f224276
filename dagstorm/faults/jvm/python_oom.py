"""The ``jvm`` fault's ``python_oom``: the Python workers of the pipeline's own Spark application.

No Byteman rule: the stack runs every application's Python workers through a
daemon of its own (:mod:`dagstorm.stack.embedded.pyworker`) that, while a marker
file ``<state>/faults/python/<application id>@<fault id>`` exists, makes each of
that application's workers take its partition in, fill its declared memory
(``spark.executor.pyspark.memory``) and die by SIGKILL, as the OOM killer ends it.
Inject waits (≤ :data:`~.watching.WAIT_S`) for a running application whose name
matches and writes its marker, then keeps writing one for every matching
application that starts while the fault holds (the next application of an Airflow
retry; :class:`~.watching.AppWatchingFault`). Verify
reads the failed task from the driver's (or the history server's) REST API.
Revert — and `dagstorm recover` after a SIGKILL — deletes every marker of the
fault id: the names carry it, so no record is needed.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

from dagstorm.core.atomic import atomic_write
from dagstorm.core.errors import FaultError
from dagstorm.faults.jvm import targets, watching
from dagstorm.faults.jvm.watching import AppWatchingFault
from dagstorm.stack.embedded import pyworker
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.launcher import EmbeddedStack

#: What Spark says of a task whose Python worker died (EOF on its socket).
SIGNATURE = "Python worker exited unexpectedly"
#: Spark's task times are milliseconds of the executor's clock, ours of this host's: the same
#: clock here, but a task's end is rounded and logged a little after the worker died.
CLOCK_SLACK_S = 1.0

RESTART_FIX = (
    "restart the stack (`dagstorm stack down && dagstorm stack up`): it writes the daemon "
    "and spark-defaults.conf, and starts Spark's processes with the daemon's environment"
)


def python_crashes(stages: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Failed tasks of a REST ``stages?details=true`` answer whose Python worker died.

    Each is the task's own entry, with its stage's ``stageId`` and ``attemptId`` added.
    """
    found = []
    for stage in stages:
        tasks = stage.get("tasks") or {}
        for task in tasks.values() if isinstance(tasks, dict) else []:
            if task.get("status") != "FAILED" or SIGNATURE not in str(task.get("errorMessage")):
                continue
            found.append(
                {**task, "stageId": stage.get("stageId"), "stageAttemptId": stage.get("attemptId")}
            )
    return sorted(found, key=lambda t: int(t.get("taskId", 0)))


def task_end_s(task: dict[str, Any]) -> float | None:
    """When a REST task entry ended (epoch seconds: ``launchTime`` + ``duration``), or None."""
    launched = str(task.get("launchTime", ""))
    try:
        start = datetime.strptime(launched.replace("GMT", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return None
    return start.timestamp() + float(task.get("duration") or 0) / 1000.0


def crashes_since(tasks: Iterable[dict[str, Any]], since: float) -> list[dict[str, Any]]:
    """The crashed tasks that ended at or after ``since`` (a worker of this fault died first).

    Another fault's crashes of the same application ended before this fault's first
    worker died; an entry without times cannot be placed and is left out.
    """
    out = []
    for task in tasks:
        ended = task_end_s(task)
        if ended is not None and ended >= since - CLOCK_SLACK_S:
            out.append(task)
    return out


def rest_failed_stages(base_urls: Sequence[str], app_id: str) -> list[dict[str, Any]] | None:
    """``stages?details=true&taskStatus=FAILED`` of ``app_id`` from the first API that knows it."""
    for base in base_urls:
        with contextlib.suppress(httpx.HTTPError, ValueError):
            response = httpx.get(
                f"{base.rstrip('/')}/api/v1/applications/{app_id}/stages",
                params={"details": "true", "taskStatus": "FAILED"},
                timeout=60.0,  # measured > 10 s on a busy 2-core machine
            )
            if response.status_code == 200:
                body = response.json()
                if isinstance(body, list):
                    return body
    return None


def first_line(message: str) -> str:
    """The first line of a task's error (Spark's message, without the Java stack)."""
    return message.strip().splitlines()[0][:200] if message.strip() else ""


class PythonWorkerOom(AppWatchingFault):
    """Make a running application's Python workers run out of memory; stop on revert."""

    thread_prefix = "python-oom"

    # -- where --------------------------------------------------------------------------

    def _embedded(self) -> StackContext:
        if self.ctx.embedded is None:
            raise FaultError(
                "python_oom needs the stack's Python-worker daemon in Spark's executors and "
                "dagstorm on their host (it writes marker files there); this stack is not embedded",
                where=f"stack kind {self.ctx.stack.kind}",
                fix="on your own Spark, see docs/faults.md (Python-worker OOM), or use a "
                "network or spark fault",
            )
        return self.ctx.embedded

    @property
    def markers_dir(self) -> Path:
        """Where the markers (and the workers' hits) are."""
        return pyworker.markers_dir(self._embedded().layout)

    def check_targets(self) -> None:
        """The embedded stack, Spark declared, the daemon named and in the worker's environment."""
        embedded = self._embedded()
        if "spark-worker" not in self.ctx.stack.components:
            raise FaultError("spark-worker is not a declared fault target")
        conf = embedded.layout.spark_conf_dir / "spark-defaults.conf"
        text = conf.read_text() if conf.exists() else ""
        if not pyworker.installed(embedded.layout, text):
            raise FaultError(
                "this stack's spark-defaults.conf does not run Python workers through "
                f"dagstorm's daemon (`spark.python.daemon.module {pyworker.DAEMON_MODULE}`)",
                where=str(conf),
                fix=RESTART_FIX,
            )
        record = EmbeddedStack(embedded).components["spark-worker"].running()
        if record is None:
            raise FaultError("the Spark worker is not running", fix="`dagstorm stack up`")
        with contextlib.suppress(psutil.Error):
            if pyworker.FAULTS_ENV not in psutil.Process(record.pid).environ():
                raise FaultError(
                    "the Spark worker was started without the Python-worker daemon's "
                    f"environment ({pyworker.FAULTS_ENV}), so its executors cannot find it",
                    where=f"spark-worker pid {record.pid}",
                    fix=RESTART_FIX,
                )
        self._master_ui()

    # -- inject -------------------------------------------------------------------------

    def _markers(self) -> list[Path]:
        return sorted(self.markers_dir.glob(f"*@{self.fault_id}"))

    def _write_marker(self, app: targets.SparkApp) -> None:
        self.markers_dir.mkdir(parents=True, exist_ok=True)
        path = self.markers_dir / pyworker.marker_name(app.app_id, self.fault_id)
        entry = {"app_id": app.app_id, "name": app.name, "wall": time.time()}
        atomic_write(path, json.dumps(entry, sort_keys=True))  # seen whole or not at all

    def scan(self) -> int:
        """Write a marker for every new matching application; how many now."""
        apps = targets.matching(targets.running_apps(self._master_ui()), self.spec.app)
        written = 0
        for app in apps:
            with self._lock:
                if app.app_id in self._apps or self._stop.is_set():
                    continue
                self._apps[app.app_id] = app.name
                self._write_marker(app)
            written += 1
        return written

    def inject(self) -> dict[str, Any]:
        """Wait for the application, write its marker, keep writing them for new ones."""

        def nothing() -> FaultError:
            return FaultError(
                f"no running Spark application named `{self.spec.app}` within "
                f"{watching.WAIT_S:.0f} s",
                fix="inject while the pipeline's Spark job runs (its SparkSubmitOperator `name`)",
            )

        took = self._first_then_watch(nothing)
        with self._lock:
            return {
                "apps": dict(self._apps),
                "markers": [str(p) for p in self._markers()],
                "first_marker_s": round(took, 3),
            }

    # -- verify -------------------------------------------------------------------------

    def hits(self) -> list[dict[str, Any]]:
        """What the workers wrote before they died (pid, app, MiB filled, limit)."""
        out: list[dict[str, Any]] = []
        for path in sorted((self.markers_dir / pyworker.HITS_DIR).glob(f"*@{self.fault_id}")):
            with contextlib.suppress(OSError):
                for line in path.read_text().splitlines():
                    with contextlib.suppress(ValueError):
                        out.append(json.loads(line))
        return out

    def evidence(self, app_id: str, bases: Sequence[str]) -> str | None:
        """The first task of ``app_id`` this fault crashed, said in one line.

        This fault's own workers record a hit before they die: only a crash that ended
        after the first of them counts (not one an earlier fault caused in the same
        application), so verify waits for a worker of its own.
        """
        filled = sorted(
            (h for h in self.hits() if h.get("app_id") == app_id),
            key=lambda h: float(h.get("wall", 0.0)),
        )
        if not filled:
            return None
        since = float(filled[0].get("wall", 0.0))
        crashes = crashes_since(python_crashes(rest_failed_stages(bases, app_id) or []), since)
        if not crashes:
            return None
        task = crashes[0]
        worker = filled[0]
        return (
            f"task {task.get('taskId')} (stage {task.get('stageId')}, executor "
            f"{task.get('executorId')}) of {app_id} failed: "
            f"{first_line(str(task.get('errorMessage', '')))}; worker pid {worker.get('pid')} "
            f"filled {worker.get('mib')} MiB of {worker.get('limit_mb')} MiB"
        )

    def verify(self) -> str:
        """A task of a target application failed with "Python worker exited unexpectedly"."""
        found = self._evidence_of_apps(self.evidence)
        if found is None:
            seen = " (a worker did run out of memory; no REST API shows it)" if self.hits() else ""
            raise FaultError(
                f"no task of `{self.spec.app}` failed with '{SIGNATURE}' "
                f"within {watching.WAIT_S:.0f} s{seen}",
                fix="python_oom acts in Python workers: does the job run Python on its executors "
                "(a Python UDF, mapInPandas, an RDD map)? Spark SQL alone starts none "
                "(docs/faults.md, Python-worker OOM)",
            )
        return found

    # -- revert -------------------------------------------------------------------------

    def revert(self) -> None:
        """Delete every marker (and worker record) of this fault: its workers run normally."""
        self.stop()
        hits = (self.markers_dir / pyworker.HITS_DIR).glob(f"*@{self.fault_id}")
        for path in [*self._markers(), *hits]:
            path.unlink(missing_ok=True)
        left = self._markers()
        if left:
            raise FaultError(
                f"markers of fault {self.fault_id} are still there: {', '.join(map(str, left))}",
                fix="remove them by hand; `dagstorm recover` tries again",
            )
