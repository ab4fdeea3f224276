"""The runner: one scenario against the real stack, with the rollback guarantee.

Order of a run: preflight (the stack declares every part the scenario needs,
those parts answer, every fault target is declared: nothing is touched before
all hold; :mod:`.preflight`) → run directory and ``run_start`` →
alert sink and probes → the timeline (phases, workloads, faults) on one clock,
with live SLO checks → stop workloads, revert every fault (on every exit path:
normal end, error, Ctrl-C, SIGTERM) → drain in-flight DAG runs → final probe
samples → output checks → ``run_end``. Analysis reads the run directory
afterwards.

The faults' lifecycle (intent, inject, revert) is :mod:`.fault_lifecycle`, the
``run_start`` event :mod:`.run_start`, the drain :mod:`.drain`, commands from the
control inbox :mod:`.control_handler`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from dagstorm.control.inbox import ControlInbox
from dagstorm.core.durations import clock_text
from dagstorm.core.errors import DagstormError, FaultError, StackNotRunningError
from dagstorm.core.progress import Progress
from dagstorm.engine.alert_route import AlertRoute, journal_say, start_journal_route
from dagstorm.engine.check_cadence import check_spacing
from dagstorm.engine.control_handler import ControlHandler
from dagstorm.engine.drain import wait_for_runs
from dagstorm.engine.fault_lifecycle import expired_adhoc, inject_fault, revert_all, revert_fault
from dagstorm.engine.live_run import LiveRun, RunOutcome
from dagstorm.engine.output.asset_runs import journal_asset_runs
from dagstorm.engine.output.output_checks import OutputChecks
from dagstorm.engine.output.profile_hooks import begin_output_checks, signal_loads
from dagstorm.engine.preflight import ReachCheck, check_needs, check_reachable
from dagstorm.engine.probe_set import default_probes
from dagstorm.engine.run_start import emit_run_start
from dagstorm.engine.workload_set import default_workloads
from dagstorm.faults.base import FaultContext
from dagstorm.faults.journal import FaultJournal
from dagstorm.faults.manager import FaultManager, Terminated, sigterm_raises
from dagstorm.plugin.context import RunContext
from dagstorm.probes.base import Probe
from dagstorm.run.clock import Clock, WallClock
from dagstorm.run.events import Log, LogLevel, PhaseEnd, PhaseStart, RunEnd
from dagstorm.run.events.lifecycle import LIVE_SLO_ABORT
from dagstorm.run.journal import RunJournal
from dagstorm.run.rundir import RunDirectory
from dagstorm.scenarios.loader import LoadedScenario
from dagstorm.scenarios.plan import Action, FaultWindow, Plan, build_plan
from dagstorm.stack.config import StackConfig
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.launcher import EmbeddedStack
from dagstorm.stack.embedded.layout import StateLayout
from dagstorm.stack.endpoints import Stack, resolve_stack
from dagstorm.workloads.base import Workload

__all__ = ["CONTROL_POLL_S", "LiveCheck", "LiveRun", "RunOutcome", "Runner"]

#: A hook the runner calls at each live SLO check: (journal path) → failed SLO names that
#: are marked ``abort: true``. Set by the CLI from the analysis package.
LiveCheck = Callable[[Path], list[str]]
#: How often (wall s) the timeline looks at the control inbox.
CONTROL_POLL_S = 0.5
#: A scheduled fault that takes effect more than this (s) after its planned start is held
#: its whole duration from when it took effect (:meth:`Runner._hold_late_fault`).
LATE_EFFECT_S = 1.0


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
        workload_factory: Callable[[RunContext], list[Workload]] | None = None,
        probe_factory: Callable[[RunContext], list[Probe]] | None = None,
        on_run_dir: Callable[[Path], None] | None = None,
        reach: ReachCheck | None = None,
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
        #: Called once the run directory exists and its journal has ``run_start``.
        self._on_run_dir = on_run_dir
        #: How preflight asks a part of a non-embedded stack for an answer (default: for real).
        self._reach = reach
        self._stop = threading.Event()
        self.journal: RunJournal | None = None
        self.controls: ControlHandler | None = None

    # -- preflight ----------------------------------------------------------------------

    def check_needs(self) -> None:
        """Refuse (exit 2) a scenario needing a part the stack does not declare."""
        check_needs(self.loaded, self.stack)

    def preflight(self, faults: FaultManager) -> None:
        """The stack declares and answers what the scenario needs (nothing is touched)."""
        self.check_needs()
        if self.embedded is None:
            check_reachable(self.loaded, self.stack, self._reach)
        else:
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
            journal=FaultJournal(StateLayout(self.config.resolved_state_dir()).fault_journal),
            embedded=self.embedded,
        )
        manager = FaultManager(fault_ctx)
        self.preflight(manager)
        directory = RunDirectory.create(self.runs_root, self.scenario.name)
        run_dir = directory.path
        secrets = self.stack.secret_values()
        directory.write_scenario(self.loaded.resolved, secrets)
        outputs = begin_output_checks(self.loaded, self.stack, self.config, directory)
        journal = RunJournal(directory.journal, self.clock, secrets=secrets)
        self.journal = journal
        outcome = RunOutcome(run_dir, "completed")
        inbox = ControlInbox(run_dir)
        inbox.open()
        emit_run_start(journal, self.plan, self.stack, self.embedded)
        if self._on_run_dir is not None:
            self._on_run_dir(run_dir)
        sink = start_journal_route(self.stack, journal)
        ctx = self.context(journal, run_dir)
        probes = self._probes(ctx)
        live = LiveRun(journal, manager, self._workloads(ctx), outcome, probes)
        controls = self.controls = ControlHandler(self, live, inbox)
        try:
            with sigterm_raises():
                try:
                    for probe in probes:
                        probe.start()
                    self._timeline(live)
                finally:
                    for workload in live.workloads.values():
                        workload.stop()
                    revert_all(live)
                if outcome.status == "completed":
                    self._drain(journal, live)
        except (KeyboardInterrupt, Terminated):
            outcome.status, outcome.reason = "interrupted", "interrupted by the user (signal)"
        except DagstormError as exc:
            outcome.status, outcome.reason = "error", exc.render()
        finally:
            controls.close()
            self._finish(journal, probes, sink, outputs, outcome)
        return outcome

    def context(self, journal: RunJournal, run_dir: Path) -> RunContext:
        """What workloads and probes of this run are given (never the runner itself)."""
        return RunContext(
            clock=self.clock,
            journal=journal,
            stack=self.stack,
            run_dir=run_dir,
            state_dir=self.config.resolved_state_dir(),
            seed=self.scenario.seed,
            compression=self.scenario.time_compression,
            duration_s=self.scenario.duration,
            scenario_path=self.loaded.path,
            embedded=self.embedded,
            pipeline=None if self.loaded.profile is None else self.loaded.profile.profile,
        )

    def _probes(self, ctx: RunContext) -> list[Probe]:
        if self._probe_factory is not None:
            return self._probe_factory(ctx)
        return default_probes(ctx, self.scenario.probes)

    def _workloads(self, ctx: RunContext) -> dict[str, Workload]:
        if self._workload_factory is not None:
            built = self._workload_factory(ctx)
        else:
            built = default_workloads(ctx, self.scenario.workloads)
        return {w.name: w for w in built}

    def _timeline(self, live: LiveRun) -> None:
        interval = self.scenario.abort.slo_check_interval
        next_check = interval
        next_poll = 0.0
        for action in self.plan.actions:
            while self.clock.elapsed() < action.at:
                if self.clock.elapsed() >= next_poll:
                    next_poll = self.clock.elapsed() + CONTROL_POLL_S
                    assert self.controls is not None
                    self.controls.poll()
                    self._expire_adhoc(live)
                wait = min(action.at, next_check, next_poll) - self.clock.elapsed()
                if self._stop.is_set() or (wait > 0 and self.clock.wait(self._stop, wait)):
                    if live.outcome.status == "completed":
                        live.outcome.status, live.outcome.reason = "aborted", "stopped by the user"
                    return
                if self.clock.elapsed() >= next_check:
                    errors = sum(probe.errors for probe in live.probes)
                    if errors > self.scenario.abort.max_probe_errors:
                        live.outcome.status = "aborted"
                        live.outcome.reason = (
                            f"{errors} probe errors (limit {self.scenario.abort.max_probe_errors}):"
                            " the stack is not observable"
                        )
                        live.journal.emit(Log(level="error", message=live.outcome.reason))
                        return
                    cpu = time.thread_time()
                    failed = self._live_check(live.journal)
                    took = time.thread_time() - cpu  # this thread's CPU: the check's own
                    next_check = self.clock.elapsed() + check_spacing(interval, took)
                    if failed:
                        live.outcome.status = "aborted"
                        live.outcome.reason = LIVE_SLO_ABORT + ", ".join(failed)
                        live.journal.emit(Log(level="error", message=live.outcome.reason))
                        return
            self._do(action, live)

    def _live_check(self, journal: RunJournal) -> list[str]:
        if self.live_check is None or not any(s.abort for s in self.scenario.slos):
            return []
        try:
            return self.live_check(journal.path)
        except Exception as exc:  # noqa: BLE001 - a live check never breaks the run
            journal.emit(Log(level="warning", message=f"live SLO check failed: {exc!r}"[:300]))
            return []

    def _do(self, action: Action, live: LiveRun) -> None:
        when = f"{clock_text(action.at)} (sim {clock_text(self.plan.sim(action.at))})"
        match action.kind:
            case "phase_start":
                live.journal.emit(PhaseStart(phase=action.name))
                self.progress.info(f"{when} phase {action.name}")
            case "phase_end":
                live.journal.emit(PhaseEnd(phase=action.name))
            case "workload_start":
                if live.paused:  # a workload that starts during a pause starts paused
                    live.workloads[action.name].pause()
                live.workloads[action.name].start()
            case "workload_stop":
                live.workloads[action.name].stop()
            case "fault_inject":
                assert action.window is not None
                self.progress.info(f"{when} inject {action.name}")
                error = inject_fault(action.window.key, action.window.spec, live)
                if error:
                    live.outcome.fault_errors.append(error)
                else:
                    self._hold_late_fault(action.window, live)
            case "fault_revert":
                assert action.window is not None
                key = action.window.key
                # Not reverted early by a command, and not held longer for a late start.
                if key in live.active and key not in live.deadlines:
                    self.progress.info(f"{when} revert {action.name}")
                    revert_fault(key, live)
            case "run_end":
                pass

    def _hold_late_fault(self, window: FaultWindow, live: LiveRun) -> None:
        """A fault that took effect late is held its whole duration from then.

        A fault that waits for its target (a JVM fault for the pipeline's Spark job to
        start) may take effect long after its planned start; reverted at the planned end,
        it would hold for less than asked, or not at all. Its revert moves to its
        ``duration`` after it took effect (the run's end still reverts it).
        """
        now = self.clock.elapsed()
        late = now - window.start
        if late <= LATE_EFFECT_S:
            return
        held = window.end - window.start
        live.deadlines[window.key] = now + held
        self.progress.info(
            f"{clock_text(now)} {window.key} took effect {clock_text(late)} after its planned "
            f"start: held {clock_text(held)} from now, until {clock_text(now + held)}"
        )

    def _expire_adhoc(self, live: LiveRun) -> None:
        """Revert the faults whose hold is over (ad-hoc ones, and scheduled ones held late)."""
        now = self.clock.elapsed()
        for key in expired_adhoc(live, now):
            self.progress.info(f"{clock_text(now)} revert {key} (its duration is over)")
            revert_fault(key, live)

    def _drain(self, journal: RunJournal, live: LiveRun) -> None:
        """Wait (≤ ``drain`` s) for DAG runs this run started to finish (an abort ends it)."""
        if self.scenario.drain <= 0:
            return
        assert self.controls is not None
        journal.emit(PhaseStart(phase="drain"))
        left = wait_for_runs(
            self.stack,
            journal.path,
            self.clock,
            self.scenario.drain,
            self._stop,
            between=self.controls.poll,
            signal_loads=signal_loads(self.loaded, self.stack),
        )
        journal.emit(PhaseEnd(phase="drain", unfinished_runs=left))

    def _finish(
        self,
        journal: RunJournal,
        probes: list[Probe],
        sink: AlertRoute | None,
        outputs: OutputChecks | None,
        outcome: RunOutcome,
    ) -> None:
        # Anything Airflow did before this moment, the last samples below still see:
        # it is where the run's measures end (RunEnd.observed_until).
        observed_until = round(journal.clock.elapsed(), 3)
        for probe in probes:
            probe.request_stop()  # their last samples run side by side
        for probe in probes:
            probe.stop()
        if sink is not None:
            sink.stop(self.stack, journal_say(journal))
        # Before the output checks: the runs the asset events started are this run's too.
        journal_asset_runs(self.stack, journal)
        if outputs is not None:
            for figures in outputs.finish():  # a failed check is "not measured", never raises
                level: LogLevel = "warning" if figures.error else "info"
                found = figures.error or f"{figures.count} rows"
                journal.emit(Log(level=level, message=f"output check {figures.name}: {found}"))
        journal.emit(
            RunEnd(
                status=outcome.status,
                reason=outcome.reason,
                fault_errors=outcome.fault_errors,
                observed_until=observed_until,
            )
        )
        journal.close()

    def stop(self) -> None:
        """Ask the run to end early: workloads stop, faults are reverted as usual."""
        self._stop.set()

    def abort(self, outcome: RunOutcome, reason: str) -> None:
        """End the run as interrupted (exit code 130), e.g. an ``abort`` command."""
        if outcome.status == "completed":
            outcome.status, outcome.reason = "interrupted", reason
        self.stop()
