"""What dagstorm's locustfiles share: the shape, the bounds and the stats path.

Runs only inside ``locust`` processes (it imports Locust). One master + N workers:

- **workers** count every request a dagstorm user fires (Locust's ``request``
  event with a ``dagstorm_records`` context) into per-second windows and attach
  them, with the DAG runs they triggered, to their report to the master; each
  worker stops its users after its share of ``max_requests``;
- the **master** appends what the workers report to the stats file and runs
  :class:`SwarmShape`, which sets the user count from the dagstorm shape and,
  when the load must end (duration, ``max_requests`` or the harness's stop file),
  tells the workers to drain, waits until each has reported its last window
  (bounded by ``drain_timeout_s``), writes the ``end`` line and quits;
- while the harness's **pause file** exists, every user holds before its next
  request (the engine's pause; the shape's clock and the duration keep running).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from locust import LoadTestShape, events
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

from dagstorm.workloads.locust_swarm.shape_users import users_at
from dagstorm.workloads.locust_swarm.stats_lines import (
    EndLine,
    TriggeredLine,
    WindowAccumulator,
    WindowLine,
)
from dagstorm.workloads.locust_swarm.swarm_config import SwarmConfig, worker_quota

DRAIN_MESSAGE = "dagstorm_drain"
REPORT_KEY = "dagstorm"
#: The context key that marks a request as dagstorm's (records it carried).
RECORDS = "dagstorm_records"
ACKED = "dagstorm_acked"
BYTES = "dagstorm_bytes"
#: How often a paused user looks at the pause file again (seconds).
PAUSE_POLL_S = 0.25


@cache
def config() -> SwarmConfig:
    """The config of this run (from ``DAGSTORM_LOCUST_CONFIG``)."""
    return SwarmConfig.from_env()


class WorkerState:
    """A worker's windows, outbox of triggered runs, quota and drain flag."""

    def __init__(self) -> None:
        self.runner: WorkerRunner | None = None
        self.windows = WindowAccumulator()
        self.triggered: list[TriggeredLine] = []
        self.taken = 0
        self.in_flight = 0
        self.draining = False

    @property
    def index(self) -> int:
        """The index of this worker among the master's workers (0-based)."""
        return int(getattr(self.runner, "worker_index", 0) or 0)

    def quota(self) -> int:
        """The share of ``max_requests`` of this worker."""
        cfg = config()
        return worker_quota(cfg.max_requests, cfg.workers, self.index)

    def hold_while_paused(self) -> None:
        """Wait (cooperatively: gevent patches sleep) while the harness has paused the load.

        Never past a drain: the stop file makes the master drain the workers, which
        ends the wait; the harness removes the pause file on resume and on stop.
        """
        path = config().pause_path
        while path is not None and not self.draining and path.exists():
            time.sleep(PAUSE_POLL_S)

    @contextlib.contextmanager
    def request_slot(self) -> Iterator[None]:
        """Around one request: holds while paused; stops the user when draining or at quota."""
        self.hold_while_paused()
        if self.draining or self.taken >= self.quota():
            raise StopUser()
        self.taken += 1
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1

    def record(self, *, records: int, acked: int, size: int, latency_ms: float, ok: bool) -> None:
        """Count a finished request in the current wall second."""
        self.windows.worker = self.index
        self.windows.add(
            int(time.time()), records=records, acked=acked, size=size, latency_ms=latency_ms, ok=ok
        )

    def report(self) -> dict[str, Any]:
        """What goes to the master: closed windows (all once idle) and triggered runs."""
        idle = self.draining and self.in_flight == 0
        windows = self.windows.drain(None if idle else int(time.time()))
        triggered, self.triggered = self.triggered, []
        return {
            "windows": [w.model_dump(mode="json") for w in windows],
            "triggered": [t.model_dump(mode="json") for t in triggered],
            "idle": idle,
        }


class MasterState:
    """The master's view: stats file, requests reported, idle workers, drain state."""

    def __init__(self) -> None:
        self.runner: MasterRunner | None = None
        self.requests = 0
        self.idle: set[str] = set()
        #: Every worker that ever reported: a worker lost mid-run never becomes idle.
        self.seen: set[str] = set()
        self.drain_started: float | None = None
        self.reason = ""
        self.last_tick: tuple[int, float] = (0, 1.0)
        self._lock = threading.Lock()

    def append(self, lines: list[str]) -> None:
        """Append lines to the stats file (flushed at once: the harness tails it)."""
        if not lines:
            return
        path: Path = config().stats_path
        with self._lock, path.open("a", encoding="utf-8") as handle:
            handle.write("".join(line + "\n" for line in lines))

    def on_worker_report(self, client_id: str, data: dict[str, Any]) -> None:
        """Write a worker's windows and triggered runs; note whether it is idle."""
        payload = data.get(REPORT_KEY)
        if not isinstance(payload, dict):
            return
        self.seen.add(client_id)
        windows = [WindowLine.model_validate(w) for w in payload.get("windows", [])]
        triggered = [TriggeredLine.model_validate(t) for t in payload.get("triggered", [])]
        self.requests += sum(w.requests for w in windows)
        lines = [w.model_dump_json() for w in windows]
        self.append(lines + [t.model_dump_json() for t in triggered])
        if payload.get("idle"):
            self.idle.add(client_id)

    def stop_reason(self, run_time: float) -> str | None:
        """Why the load must end now, if it must."""
        cfg = config()
        if run_time >= cfg.duration_s:
            return "duration"
        if self.requests >= cfg.max_requests:
            return "max_requests"
        if cfg.stop_path.exists():
            return "stopped"
        return None

    def drained(self) -> bool | None:
        """True once every worker reported idle; False on drain timeout; None to keep waiting."""
        assert self.runner is not None and self.drain_started is not None
        workers = self.seen | {client.id for client in self.runner.clients.all}
        if workers <= self.idle:
            return True
        if time.monotonic() - self.drain_started > config().drain_timeout_s:
            return False
        return None


WORKER = WorkerState()
MASTER = MasterState()


def _on_request(
    response_time: float, exception: BaseException | None, context: dict[str, Any], **_: Any
) -> None:
    records = context.get(RECORDS) if isinstance(context, dict) else None
    if not isinstance(records, int):
        return  # not a dagstorm request (e.g. the token fetch)
    acked = int(context.get(ACKED, records if exception is None else 0))
    WORKER.record(
        records=int(records),
        acked=acked,
        size=int(context.get(BYTES, 0)),
        latency_ms=float(response_time or 0.0),
        ok=exception is None,
    )


def _on_report_to_master(client_id: str, data: dict[str, Any]) -> None:
    data[REPORT_KEY] = WORKER.report()


def _on_drain(environment: Environment, msg: Any, **_: Any) -> None:
    WORKER.draining = True


@events.init.add_listener
def _on_init(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        WORKER.runner = runner
        runner.register_message(DRAIN_MESSAGE, _on_drain)
        environment.events.request.add_listener(_on_request)
        environment.events.report_to_master.add_listener(_on_report_to_master)
    elif isinstance(runner, MasterRunner):
        MASTER.runner = runner
        config().stats_path.touch()
        environment.events.worker_report.add_listener(MASTER.on_worker_report)
    else:
        raise RuntimeError("dagstorm's locustfiles run as one --master and --worker processes")


class SwarmShape(LoadTestShape):
    """Users from the dagstorm shape; on the end condition, drain the workers, then stop."""

    def tick(self) -> tuple[int, float] | None:
        """``(users, spawn_rate)`` while loading and draining; None once drained."""
        cfg = config()
        if MASTER.drain_started is None:
            reason = MASTER.stop_reason(self.get_run_time())
            if reason is None:
                users = users_at(
                    self.get_run_time(),
                    users=cfg.users,
                    max_users=cfg.max_users,
                    compression=cfg.compression,
                    shape=cfg.shape,
                )
                MASTER.last_tick = (users, cfg.spawn_rate)
                return MASTER.last_tick
            MASTER.reason = reason
            MASTER.drain_started = time.monotonic()
            assert MASTER.runner is not None
            MASTER.runner.send_message(DRAIN_MESSAGE)
        done = MASTER.drained()
        if done is None:
            return MASTER.last_tick
        end = EndLine(complete=done, reason=MASTER.reason, requests=MASTER.requests)
        MASTER.append([end.model_dump_json()])
        return None
