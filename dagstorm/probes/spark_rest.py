"""Spark: workers and applications from the master, executor losses and failed tasks.

Executor losses come from the history server, which serves running applications
(from in-progress event logs) and finished ones alike, so a loss is seen even
when the application ended before the next poll.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from dagstorm.probes.base import Probe
from dagstorm.run.events import SparkApp, SparkCluster, SparkExecutorLost

_EXIT = re.compile(r"exit(?:ed with)? code (-?\d+)", re.IGNORECASE)


def exit_code_of(reason: str) -> int | None:
    """``Command exited with code 52`` → 52."""
    match = _EXIT.search(reason)
    return int(match.group(1)) if match else None


class SparkProbe(Probe):
    """``spark_cluster``, ``spark_executor_lost`` and ``spark_app`` events."""

    name = "spark"

    def __init__(
        self,
        *args: Any,
        master_ui: str | None,
        history: str | None,
        max_tracked: int = 10_000,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.master_ui = master_ui
        self.history = history
        self._lost: set[tuple[str, str]] = set()
        self._apps: dict[str, tuple[bool, int]] = {}
        self._max = max_tracked
        self._http = httpx.Client(timeout=5.0)
        self._since = 0.0

    def setup(self) -> None:
        """Applications that started before the run are not counted."""
        self._since = self.clock.wall() - 5.0

    def sample(self) -> None:
        """Poll the master and the history server."""
        if self.master_ui:
            state = self._http.get(f"{self.master_ui}/json/").json()
            workers = state.get("workers", [])
            self.journal.emit(
                SparkCluster(
                    status=state.get("status"),
                    workers_alive=sum(1 for w in workers if w.get("state") == "ALIVE"),
                    cores_used=state.get("coresused"),
                    cores=state.get("cores"),
                    active_apps=len(state.get("activeapps", [])),
                )
            )
        if self.history:
            self._history()

    def _history(self) -> None:
        base = f"{self.history}/api/v1/applications"
        apps = self._http.get(base, params={"limit": 50}).json()
        for app in apps:
            attempt = (app.get("attempts") or [{}])[-1]
            completed = bool(attempt.get("completed"))
            known = self._apps.get(app["id"])
            if known is not None and known[0]:
                continue  # finished and already accounted
            if attempt.get("startTimeEpoch", 0) / 1000 < self._since:
                self._apps[app["id"]] = (True, 0)  # from before this run: not ours to count
                continue
            executors = self._http.get(f"{base}/{app['id']}/allexecutors").json()
            for executor in executors:
                key = (app["id"], str(executor.get("id")))
                if executor.get("id") == "driver" or executor.get("isActive", True):
                    continue
                if key in self._lost:
                    continue
                self._lost.add(key)
                reason = str(executor.get("removeReason") or "")
                self.journal.emit(
                    SparkExecutorLost(
                        app_id=app["id"],
                        app_name=app.get("name"),
                        executor_id=executor.get("id"),
                        reason=reason[:300],
                        exit_code=exit_code_of(reason),
                        failed_tasks=executor.get("failedTasks", 0),
                    )
                )
            if completed:
                stages = self._http.get(f"{base}/{app['id']}/stages").json()
                failed = sum(s.get("numFailedTasks", 0) for s in stages)
                self.journal.emit(
                    SparkApp(
                        app_id=app["id"],
                        app_name=app.get("name"),
                        duration_ms=attempt.get("duration"),
                        failed_tasks=failed,
                        start=attempt.get("startTime"),
                        end=attempt.get("endTime"),
                    )
                )
            self._apps[app["id"]] = (completed, len(executors))
        if len(self._lost) > self._max:
            self._lost.clear()
        if len(self._apps) > self._max:
            self._apps.clear()

    def teardown(self) -> None:
        """Close the HTTP client."""
        self._http.close()
