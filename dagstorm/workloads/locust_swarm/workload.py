"""The ``kind: locust`` workload: spawn Locust, journal its stats, stop it cleanly.

The harness never imports Locust: it writes a :class:`SwarmConfig` into the run
directory, spawns ``locust -f <locustfile>`` as one master + N workers
(:mod:`.swarm_process`) and tails the master's stats file
(:mod:`.stats_lines`): per wall second a ``workload_stats`` event (all workers
merged), per trigger a ``dag_triggered`` event, and at the end ``locust_end``.

Bounds: the Locust master ends the load itself after ``duration`` or
``max_requests``; the harness's ``stop`` writes the stop file the master watches
(it drains the workers and quits); past ``hard_timeout_s`` the processes are
stopped by pid (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from dagstorm.core.errors import ScenarioError
from dagstorm.run.clock import Clock
from dagstorm.run.events import LocustEnd, Log, LogLevel
from dagstorm.run.journal import RunJournal
from dagstorm.run.rundir import RunDirectory
from dagstorm.stack.embedded.layout import StateLayout
from dagstorm.workloads.base import Workload
from dagstorm.workloads.locust_swarm.spec import LocustWorkload
from dagstorm.workloads.locust_swarm.stats_journal import StatsJournaler
from dagstorm.workloads.locust_swarm.stats_lines import StatsTail
from dagstorm.workloads.locust_swarm.swarm_config import (
    CONFIG_ENV,
    PASSWORD_ENV,
    USERNAME_ENV,
    SwarmConfig,
)
from dagstorm.workloads.locust_swarm.swarm_process import (
    EXPECT_WORKERS_WAIT,
    Swarm,
    spawn_swarm,
    stop_swarm,
    swarm_env,
)

if TYPE_CHECKING:
    from dagstorm.plugin.context import RunContext

#: Locust workers report every 3 s: time for two reports and a margin.
REPORT_MARGIN_S = 10.0
POLL_S = 0.5


def drain_timeout(stop_timeout: float) -> float:
    """Seconds the master waits for the workers' last windows after the load stops."""
    return stop_timeout + REPORT_MARGIN_S


class LocustSwarm(Workload):
    """One Locust run (1 master + N workers) as a dagstorm workload.

    Pausing creates the config's pause file: every user holds before its next
    request until it is gone (a request in flight completes and is counted).
    """

    pausable = True

    def __init__(
        self,
        name: str,
        journal: RunJournal,
        clock: Clock,
        *,
        config: SwarmConfig,
        stop_timeout: float,
        work_dir: Path,
        pid_dir: Path,
        marker: str,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(name, journal, clock)
        self.config = config
        self.stop_timeout = stop_timeout
        self.work_dir = work_dir
        self.pid_dir = pid_dir
        self.marker = marker
        self._credentials = credentials
        #: Everything the load is allowed: start-up, load, drain, then a margin.
        self.hard_timeout_s = (
            EXPECT_WORKERS_WAIT + config.duration_s + config.drain_timeout_s + REPORT_MARGIN_S
        )
        #: Journals the stats lines; its totals and end line say how the load went.
        self.stats = StatsJournaler(journal, name, config.user.kind)

    @classmethod
    def from_spec(cls, spec: LocustWorkload, ctx: RunContext) -> LocustSwarm:
        """Build from the scenario: endpoints from the stack, files in the run directory."""
        duration = ctx.duration_s - spec.start
        if spec.duration is not None:
            duration = min(duration, spec.duration)
        if duration <= 0:
            raise ScenarioError(
                f"locust workload {spec.name} starts at {spec.start:g} s, at or after the run ends",
                where=str(ctx.scenario_path),
                fix="set its `start` before the scenario's `duration`",
            )
        work_dir = RunDirectory(ctx.run_dir).locust / spec.name
        work_dir.mkdir(parents=True, exist_ok=True)
        config = SwarmConfig(
            name=spec.name,
            user=spec.user,
            workers=spec.workers,
            users=spec.users,
            max_users=spec.max_users,
            spawn_rate=spec.spawn_rate,
            shape=spec.shape,
            compression=ctx.compression,
            duration_s=duration,
            max_requests=spec.max_requests,
            drain_timeout_s=drain_timeout(spec.stop_timeout),
            seed=ctx.seed,
            kafka_bootstrap=ctx.stack.endpoint("kafka") if spec.user.kind == "kafka" else "",
            airflow_url=ctx.stack.endpoint("airflow") if spec.user.kind == "trigger" else "",
            stats_path=work_dir / "stats.jsonl",
            stop_path=work_dir / "stop",
            pause_path=work_dir / "paused",
        )
        state = StateLayout(ctx.state_dir)
        credentials = None
        if spec.user.kind == "trigger":
            _, username, password = ctx.stack.airflow_login()
            credentials = (username, password)
        return cls(
            spec.name,
            ctx.journal,
            ctx.clock,
            config=config,
            stop_timeout=spec.stop_timeout,
            work_dir=work_dir,
            pid_dir=state.run_dir,
            marker=str(state.root),
            credentials=credentials,
        )

    # -- the load loop ----------------------------------------------------------------

    def run(self) -> None:
        """Spawn, tail the stats until the master exits (or the bounds end it), stop."""
        config_path = self.config.write(self.work_dir / "config.json")
        extra = {CONFIG_ENV: str(config_path)}
        if self._credentials is not None:
            extra.update({USERNAME_ENV: self._credentials[0], PASSWORD_ENV: self._credentials[1]})
        swarm = spawn_swarm(
            self.name,
            user_kind=self.config.user.kind,
            workers=self.config.workers,
            stop_timeout=self.stop_timeout,
            env=swarm_env(os.environ, extra),
            work_dir=self.work_dir,
            pid_dir=self.pid_dir,
            marker=self.marker,
        )
        self.journal.emit(
            Log(
                level="info",
                message=f"locust {self.name}: master pid {swarm.master.pid}, workers "
                f"{', '.join(str(w.pid) for w in swarm.workers)}; logs in {self.work_dir}",
            )
        )
        tail = StatsTail(self.config.stats_path)
        try:
            self._follow(swarm, tail)
        finally:
            outcomes = stop_swarm(swarm, self.pid_dir)
            self.stats.consume(tail.read())
            self.stats.flush_all()
            self._emit_end(swarm, outcomes)

    def pause(self) -> None:
        """Hold every user before its next request (the pause file)."""
        super().pause()
        if self.config.pause_path is not None:
            self.config.pause_path.parent.mkdir(parents=True, exist_ok=True)
            self.config.pause_path.touch()

    def resume(self) -> None:
        """Let the users go on."""
        if self.config.pause_path is not None:
            self.config.pause_path.unlink(missing_ok=True)
        super().resume()

    def _follow(self, swarm: Swarm, tail: StatsTail) -> None:
        started = time.monotonic()
        stop_at: float | None = None
        while swarm.master_alive():
            if self._stop.is_set() and stop_at is None:
                stop_at = time.monotonic()
                self.config.stop_path.touch()
                if self.config.pause_path is not None:
                    self.config.pause_path.unlink(missing_ok=True)
            self.stats.consume(tail.read())
            self.stats.flush(time.time())
            now = time.monotonic()
            if now - started > self.hard_timeout_s:
                self._log("warning", f"still running after {self.hard_timeout_s:.0f} s: stopped")
                return
            if (
                stop_at is not None
                and now - stop_at > self.config.drain_timeout_s + REPORT_MARGIN_S
            ):
                self._log("warning", "did not drain in time after stop: stopped")
                return
            time.sleep(POLL_S)

    def _emit_end(self, swarm: Swarm, outcomes: list[str]) -> None:
        end = self.stats.end
        self.journal.emit(
            LocustEnd(
                workload=self.name,
                user=self.config.user.kind,
                workers=self.config.workers,
                reason=end.reason if end else "no end line (stopped by pid)",
                complete=bool(end and end.complete),
                master_exit=swarm.master_exit_code(),
                stopped=outcomes,
                triggered=self.stats.triggered,
                **self.stats.totals,
            )
        )

    def _log(self, level: LogLevel, message: str) -> None:
        self.journal.emit(Log(level=level, message=f"locust {self.name}: {message}"))

    def join(self, timeout: float | None = None) -> None:
        """Wait for the load to end by itself (duration or ``max_requests``) and be journaled."""
        if self._thread is not None:
            self._thread.join(timeout)

    def stop(self, timeout: float = 60.0) -> None:
        """Ask the master to drain and quit; wait long enough for it (and a forced stop)."""
        super().stop(max(timeout, self.config.drain_timeout_s + 2 * REPORT_MARGIN_S + 25.0))
