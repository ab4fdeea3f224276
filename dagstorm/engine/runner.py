"""The runner: one scenario against the real stack, with the rollback guarantee.

Order of a run: preflight (the stack is up, every fault target is declared:
nothing is touched before both hold) → run directory and ``run_start`` →
alert sink and probes → the timeline (phases, workloads, faults) on one clock,
with live SLO checks → stop workloads, revert every fault (on every exit path:
normal end, error, Ctrl-C, SIGTERM) → drain in-flight DAG runs → final probe
samples → serving snapshot → ``run_end``. Analysis reads the run directory
afterwards.
"""

from __future__ import annotations

import platform
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from dagstorm import __version__
from dagstorm.engine.clock import Clock, WallClock
from dagstorm.engine.drain import wait_for_runs
from dagstorm.engine.journal import RunJournal
from dagstorm.engine.probe_set import default_probes
from dagstorm.engine.rundir import new_run_dir, write_scenario
from dagstorm.engine.serving_snapshot import snapshot_serving
from dagstorm.engine.workload_set import default_workloads
from dagstorm.errors import DagstormError, FaultError, StackNotRunningError
from dagstorm.faults.base import FaultContext
from dagstorm.faults.journal import FaultJournal
from dagstorm.faults.manager import ActiveFault, FaultManager, Terminated, sigterm_raises
from dagstorm.probes.alert_sink import Alert, AlertSink
from dagstorm.probes.base import Probe
from dagstorm.progress import Progress
from dagstorm.scenarios.loader import LoadedScenario
from dagstorm.scenarios.plan import Action, FaultWindow, Plan, build_plan, clock_text
from dagstorm.stack.config import StackConfig
from dagstorm.stack.context import StackContext
from dagstorm.stack.embedded import EmbeddedStack
from dagstorm.stack.endpoints import Stack, resolve_stack
from dagstorm.workloads.base import Workload

#: A hook the runner calls at each live SLO check: (journal path) → failed SLO names that
#: are marked ``abort: true``. Set by the CLI from the analysis package.
LiveCheck = Callable[[Path], list[str]]


@dataclass
class _Live:
    """What the timeline works with while a run is under way."""

    journal: RunJournal
    manager: FaultManager
    workloads: dict[str, Workload]
    outcome: RunOutcome
    probes: list[Probe] = field(default_factory=list)
    active: dict[str, ActiveFault] = field(default_factory=dict)


@dataclass
class RunOutcome:
    """How a run ended."""

    run_dir: Path
    status: str  # completed | aborted | interrupted | error
    reason: str = ""
    fault_errors: list[str] = field(default_factory=list)


class Runner:
    """Runs one loaded scenario."""

    def __init__(
        self,
        loaded: LoadedScenario,
        config: StackConfig,
        *,
        runs_root: Path,
        progress: Progress,
        clock: Clock | None = None,
        live_check: LiveCheck | None = None,
        workload_factory: Callable[..., list[Workload]] | None = None,
        probe_factory: Callable[..., list[Probe]] | None = None,
    ) -> None:
        self.loaded = loaded
        self.scenario = loaded.scenario
        self.config = config
        self.runs_root = runs_root
        self.progress = progress
        self.clock = clock or WallClock(self.scenario.time_compression)
        self.live_check = live_check
        self.plan: Plan = build_plan(self.scenario)
        self.stack: Stack = resolve_stack(config)
        self.embedded = (
            StackContext(config=config, progress=progress) if config.kind == "embedded" else None
        )
        self._workload_factory = workload_factory
        self._probe_factory = probe_factory
        self._stop = threading.Event()
        self.journal: RunJournal | None = None

    # -- preflight ----------------------------------------------------------------------

    def preflight(self, faults: FaultManager) -> None:
        """The stack answers and every fault target is declared (nothing is touched)."""
        if self.embedded is not None:
            rows = EmbeddedStack(self.embedded).status()
            down = [r.name for r in rows if r.state != "running"]
            if down:
                raise StackNotRunningError(
                    f"the embedded stack is not healthy: {', '.join(down)}",
                    where=str(self.embedded.layout.root),
                    fix="run `dagstorm stack up` (or `dagstorm recover` after a crash)",
                )
        for window in self.plan.windows:
            try:
                faults.check(window.spec)
            except FaultError as exc:
                raise FaultError(
                    f"fault {window.label}: {exc.what}", where=str(self.loaded.path), fix=exc.fix
                ) from None

    # -- the run ------------------------------------------------------------------------

    def run(self) -> RunOutcome:
        """Execute the scenario; every fault is reverted whatever happens."""
        fault_ctx = FaultContext(
            stack=self.stack,
            journal=FaultJournal(self.config.resolved_state_dir() / "faults" / "journal.jsonl"),
            embedded=self.embedded,
        )
        manager = FaultManager(fault_ctx)
        self.preflight(manager)
        run_dir = new_run_dir(self.runs_root, self.scenario.name)
        secrets = self.stack.secret_values()
        write_scenario(run_dir, self.loaded.resolved, secrets)
        journal = RunJournal(run_dir / "journal.jsonl", self.clock, secrets=secrets)
        self.journal = journal
        outcome = RunOutcome(run_dir, "completed")
        self._run_start(journal)
        sink = self._alert_sink(journal)
        probes = self._probes(journal, run_dir)
        live = _Live(journal, manager, self._workloads(journal, run_dir), outcome, probes)
        try:
            with sigterm_raises():
                try:
                    for probe in probes:
                        probe.start()
                    self._timeline(live)
                finally:
                    for workload in live.workloads.values():
                        workload.stop()
                    self._revert_all(live)
                if outcome.status == "completed":
                    self._drain(journal)
        except (KeyboardInterrupt, Terminated):
            outcome.status, outcome.reason = "interrupted", "interrupted by the user (signal)"
        except DagstormError as exc:
            outcome.status, outcome.reason = "error", exc.render()
        finally:
            self._finish(journal, probes, sink, run_dir, outcome)
        return outcome

    def _run_start(self, journal: RunJournal) -> None:
        scenario = self.scenario
        journal.emit(
            "run_start",
            scenario=scenario.name,
            description=scenario.description,
            seed=scenario.seed,
            time_compression=scenario.time_compression,
            duration_s=scenario.duration,
            stack_kind=self.stack.kind,
            dagstorm_version=__version__,
            phases=[{"name": n, "start_s": s, "end_s": e} for n, s, e in self.plan.phases],
            faults=[
                {"key": w.key, "fault": w.spec.describe(), "start_s": w.start, "end_s": w.end}
                for w in self.plan.windows
            ],
            slos=[slo.model_dump(mode="json") for slo in scenario.slos],
            environment=self._environment(),
        )

    def _environment(self) -> dict[str, Any]:
        env: dict[str, Any] = {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": psutil.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        }
        if self.embedded is not None:
            for row in EmbeddedStack(self.embedded).status():
                env[f"version.{row.name}"] = row.version
        return env

    def _alert_sink(self, journal: RunJournal) -> AlertSink | None:
        def deliver(alert: Alert) -> None:
            journal.emit(
                "alert",
                alert_kind=alert.kind,
                dag_id=alert.dag_id,
                task_id=alert.task_id,
                run_id=alert.run_id,
                try_number=alert.try_number,
                exception_class=alert.exception_class,
                time=alert.time.isoformat() if alert.time else None,
                received_at=alert.received_at,
            )

        sink = AlertSink(self.stack.alert_sink_port, deliver)
        try:
            sink.start()
        except DagstormError as exc:
            journal.emit("log", level="warning", message=f"no alert sink: {exc.render()}")
            return None
        return sink

    def _probes(self, journal: RunJournal, run_dir: Path) -> list[Probe]:
        if self._probe_factory is not None:
            return self._probe_factory(self, journal, run_dir)
        return default_probes(self, journal)

    def _workloads(self, journal: RunJournal, run_dir: Path) -> dict[str, Workload]:
        if self._workload_factory is not None:
            built = self._workload_factory(self, journal, run_dir)
        else:
            built = default_workloads(self, journal, run_dir)
        return {w.name: w for w in built}

    def _timeline(self, live: _Live) -> None:
        interval = self.scenario.abort.slo_check_interval
        next_check = interval
        for action in self.plan.actions:
            while self.clock.elapsed() < action.at:
                wait = min(action.at, next_check) - self.clock.elapsed()
                if wait > 0 and self.clock.wait(self._stop, wait):
                    live.outcome.status, live.outcome.reason = "aborted", "stopped by the user"
                    return
                if self.clock.elapsed() >= next_check:
                    next_check += interval
                    errors = sum(probe.errors for probe in live.probes)
                    if errors > self.scenario.abort.max_probe_errors:
                        live.outcome.status = "aborted"
                        live.outcome.reason = (
                            f"{errors} probe errors (limit {self.scenario.abort.max_probe_errors}):"
                            " the stack is not observable"
                        )
                        live.journal.emit("log", level="error", message=live.outcome.reason)
                        return
                    failed = self._live_check(live.journal)
                    if failed:
                        live.outcome.status = "aborted"
                        live.outcome.reason = f"SLO failed live: {', '.join(failed)}"
                        live.journal.emit("log", level="error", message=live.outcome.reason)
                        return
            self._do(action, live)

    def _live_check(self, journal: RunJournal) -> list[str]:
        if self.live_check is None or not any(s.abort for s in self.scenario.slos):
            return []
        try:
            return self.live_check(journal.path)
        except Exception as exc:  # noqa: BLE001 - a live check never breaks the run
            journal.emit("log", level="warning", message=f"live SLO check failed: {exc!r}"[:300])
            return []

    def _do(self, action: Action, live: _Live) -> None:
        when = f"{clock_text(action.at)} (sim {clock_text(self.plan.sim(action.at))})"
        match action.kind:
            case "phase_start" | "phase_end":
                live.journal.emit(action.kind, phase=action.name)
                if action.kind == "phase_start":
                    self.progress.info(f"{when} phase {action.name}")
            case "workload_start":
                live.workloads[action.name].start()
            case "workload_stop":
                live.workloads[action.name].stop()
            case "fault_inject":
                assert action.window is not None
                self.progress.info(f"{when} inject {action.name}")
                self._inject(action.window, live)
            case "fault_revert":
                assert action.window is not None
                held = live.active.pop(action.window.key, None)
                if held is not None:
                    self.progress.info(f"{when} revert {action.name}")
                    self._revert(held, action.window, live)
            case "run_end":
                pass

    def _inject(self, window: FaultWindow, live: _Live) -> None:
        describe = window.spec.describe()
        live.journal.emit(
            "fault_intent",
            fault_id=window.key,
            fault=describe,
            spec=window.spec.model_dump(mode="json"),
        )
        started = time.monotonic()
        try:
            held = live.manager.inject(window.spec)
        except FaultError as exc:
            live.outcome.fault_errors.append(exc.render())
            live.journal.emit(
                "fault_error", fault_id=window.key, fault=describe, error=exc.render()
            )
            return
        live.active[window.key] = held
        live.journal.emit(
            "fault_applied",
            fault_id=window.key,
            fault=describe,
            evidence=held.evidence,
            took_s=round(time.monotonic() - started, 3),
            journal_id=held.fault_id,
        )

    def _revert(self, held: ActiveFault, window: FaultWindow, live: _Live) -> None:
        started = time.monotonic()
        try:
            live.manager.revert(held)
        except FaultError as exc:
            live.outcome.fault_errors.append(exc.render())
            live.journal.emit(
                "fault_error", fault_id=window.key, fault=window.spec.describe(), error=exc.render()
            )
            return
        live.journal.emit(
            "fault_reverted",
            fault_id=window.key,
            fault=window.spec.describe(),
            took_s=round(time.monotonic() - started, 3),
        )

    def _revert_all(self, live: _Live) -> None:
        """Every fault still applied, newest first (also after an error or a signal)."""
        windows = {w.key: w for w in self.plan.windows}
        for key, held in reversed(list(live.active.items())):
            self._revert(held, windows[key], live)
        live.active.clear()
        live.outcome.fault_errors.extend(live.manager.revert_all())  # anything left over

    def _drain(self, journal: RunJournal) -> None:
        """Wait (≤ ``drain`` s) for DAG runs this run started to finish."""
        if self.scenario.drain <= 0:
            return
        journal.emit("phase_start", phase="drain")
        left = wait_for_runs(self.stack, journal.path, self.clock, self.scenario.drain, self._stop)
        journal.emit("phase_end", phase="drain", unfinished_runs=left)

    def _finish(
        self,
        journal: RunJournal,
        probes: list[Probe],
        sink: AlertSink | None,
        run_dir: Path,
        outcome: RunOutcome,
    ) -> None:
        for probe in probes:
            probe.stop()
        if sink is not None:
            sink.stop()
        try:
            rows = snapshot_serving(self.stack.serving_db_dsn, run_dir)
            journal.emit("log", level="info", message=f"serving snapshot: {rows} rows")
        except Exception as exc:  # noqa: BLE001 - completeness is then "not measured"
            journal.emit("log", level="warning", message=f"no serving snapshot: {exc!r}"[:300])
        journal.emit(
            "run_end",
            status=outcome.status,
            reason=outcome.reason,
            fault_errors=outcome.fault_errors,
        )
        journal.close()

    def stop(self) -> None:
        """Ask the run to end early (the TUI's abort): faults are reverted as usual."""
        self._stop.set()
