"""The ``jvm`` fault's ``python_oom``: the Python workers of the pipeline's own Spark application.

No Byteman rule: the stack runs every application's Python workers through a
daemon of its own (:mod:`dagstorm.stack.embedded.pyworker`) that, while a marker
file ``<state>/faults/python/<application id>@<fault id>`` exists, makes each of
that application's workers take its partition in, fill its declared memory
(``spark.executor.pyspark.memory``) and die by SIGKILL, as the OOM killer ends it.
Inject waits (≤ :data:`WAIT_S`) for a running application whose name matches and
writes its marker, then keeps writing one for every matching application that
starts while the fault holds (the next application of an Airflow retry). Verify
reads the failed task from the driver's (or the history server's) REST API.
Revert — and `dagstorm recover` after a SIGKILL — deletes every marker of the
fault id: the names carry it, so no record is needed.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import httpx
import psutil

from dagstorm.core.errors import DagstormError, FaultError
from dagstorm.core.polling import poll_until
from dagstorm.faults.base import Fault
from dagstorm.faults.jvm import targets
from dagstorm.faults.specs import JvmFault
from dagstorm.stack.embedded import pyworker
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.launcher import EmbeddedStack

#: Seconds inject waits for a matching application, and verify for the evidence.
WAIT_S = 120.0
#: Seconds between two looks for new matching applications.
POLL_S = 1.0
#: What Spark says of a task whose Python worker died (EOF on its socket).
SIGNATURE = "Python worker exited unexpectedly"

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


class PythonWorkerOom(Fault):
    """Make a running application's Python workers run out of memory; stop on revert."""

    spec: JvmFault

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._lock = threading.Lock()
        self._apps: dict[str, str] = {}
        self.errors: list[str] = []

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

    def _master_ui(self) -> str:
        url = self.ctx.stack.spark_ui_url
        if url is None:
            raise FaultError("the stack declares no Spark master UI", fix="declare spark_ui_url")
        return url

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
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(entry, sort_keys=True))
        tmp.replace(path)  # the daemon sees it whole or not at all

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

    def _watch(self) -> None:
        while not self._stop.wait(POLL_S):
            try:
                self.scan()
            except (DagstormError, OSError, ValueError) as exc:  # the master restarting, say
                message = exc.render() if isinstance(exc, DagstormError) else str(exc)
                self.errors.append(message)
                del self.errors[:-20]

    def inject(self) -> dict[str, Any]:
        """Wait for the application, write its marker, keep writing them for new ones."""
        started = time.monotonic()

        def first() -> bool | None:
            return True if self.scan() > 0 else None

        if poll_until(first, timeout=WAIT_S, interval=POLL_S) is None:
            raise FaultError(
                f"no running Spark application named `{self.spec.app}` within {WAIT_S:.0f} s",
                fix="inject while the pipeline's Spark job runs (its SparkSubmitOperator `name`)",
            )
        took = time.monotonic() - started
        self._watcher = threading.Thread(
            target=self._watch, name=f"python-oom-{self.fault_id}", daemon=True
        )
        self._watcher.start()
        with self._lock:
            return {
                "apps": dict(self._apps),
                "markers": [str(p) for p in self._markers()],
                "first_marker_s": round(took, 3),
            }

    # -- verify -------------------------------------------------------------------------

    def _rest_bases(self, app_id: str) -> list[str]:
        app = targets.SparkApp(app_id, self._apps.get(app_id, ""))
        bases = [
            base
            for jvm in targets.find_jvms([app], "", frozenset({"driver"}))
            if (base := targets.driver_ui(jvm.pid)) is not None
        ]
        if self.ctx.stack.spark_history_url:
            bases.append(self.ctx.stack.spark_history_url)
        return bases

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
        """The first task of ``app_id`` that failed with the signature, said in one line."""
        crashes = python_crashes(rest_failed_stages(bases, app_id) or [])
        if not crashes:
            return None
        task = crashes[0]
        filled = [h for h in self.hits() if h.get("app_id") == app_id]
        memory = (
            f"; worker pid {filled[0].get('pid')} filled {filled[0].get('mib')} MiB "
            f"of {filled[0].get('limit_mb')} MiB"
            if filled
            else ""
        )
        return (
            f"task {task.get('taskId')} (stage {task.get('stageId')}, executor "
            f"{task.get('executorId')}) of {app_id} failed: "
            f"{first_line(str(task.get('errorMessage', '')))}{memory}"
        )

    def verify(self) -> str:
        """A task of a target application failed with "Python worker exited unexpectedly"."""
        bases: dict[str, list[str]] = {}

        def crashed() -> str | None:
            with self._lock:
                app_ids = list(self._apps)
            for app_id in app_ids:
                if not bases.get(app_id):
                    bases[app_id] = self._rest_bases(app_id)
                found = self.evidence(app_id, bases[app_id])
                if found is not None:
                    return found
            return None

        found = poll_until(crashed, timeout=WAIT_S, interval=1.0)
        if found is None:
            seen = " (a worker did run out of memory; no REST API shows it)" if self.hits() else ""
            raise FaultError(
                f"no task of `{self.spec.app}` failed with '{SIGNATURE}' within {WAIT_S:.0f} s"
                + seen,
                fix="python_oom acts in Python workers: does the job run Python on its executors "
                "(a Python UDF, mapInPandas, an RDD map)? Spark SQL alone starts none "
                "(docs/faults.md, Python-worker OOM)",
            )
        return found

    # -- revert -------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop writing markers for new applications."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=10)

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
