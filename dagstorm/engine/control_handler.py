"""The engine's side of the control protocol: execute commands on the run's clock.

The runner calls :meth:`ControlHandler.poll` from its timeline (every
``CONTROL_POLL_S`` wall seconds) and while draining. Each command is journalled
as ``control`` when taken and ``control_ack`` when handled, with ``outcome``
``done``, ``rejected`` (invalid, or not possible now: nothing was changed) or
``failed`` (tried, and it did not work). A command never raises into the engine.
Protocol: docs/control.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from dagstorm.control.inbox import ControlInbox, Received
from dagstorm.control.protocol import Abort, Command, Inject, Outcome, Pause, Resume, Revert
from dagstorm.core.durations import clock_text
from dagstorm.core.errors import FaultError
from dagstorm.engine.fault_lifecycle import Adhoc, inject_fault, revert_fault
from dagstorm.faults.kinds import parse_fault_spec
from dagstorm.faults.specs import FaultSpecBase
from dagstorm.run.events import Control, ControlAck

if TYPE_CHECKING:
    from dagstorm.engine.live_run import LiveRun
    from dagstorm.engine.runner import Runner

#: At most this many ad-hoc faults applied at once.
MAX_ADHOC_FAULTS = 4


class Rejected(Exception):
    """A command that cannot be carried out now; nothing was changed."""


def fault_spec(command: Inject) -> FaultSpecBase:
    """The command's fault as a validated spec, or :class:`Rejected` saying what is wrong."""
    try:
        return parse_fault_spec(command.fault)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'fault'}: {err['msg']}"
            for err in exc.errors()[:3]
        )
        raise Rejected(f"invalid fault: {problems}") from None


class ControlHandler:
    """Takes commands from the run's inbox and carries them out on ``live``."""

    def __init__(self, runner: Runner, live: LiveRun, inbox: ControlInbox) -> None:
        self.runner = runner
        self.live = live
        self.inbox = inbox
        #: False once the timeline is over: only ``abort`` is still accepted.
        self.timeline = True
        self.closed = False

    # -- polling ------------------------------------------------------------------------

    def poll(self) -> None:
        """Handle every waiting command (at most a bounded number a call)."""
        for received in self.inbox.poll():
            self._handle(received)

    def close(self) -> None:
        """The run is ending: commands still waiting are rejected, new ones are not read."""
        if self.closed:
            return
        self.timeline = False
        self.closed = True
        for received in self.inbox.poll(limit=1000):
            self._take(received)
            self._ack(received, "rejected", reason="the run is ending")

    # -- one command --------------------------------------------------------------------

    def _handle(self, received: Received) -> None:
        self._take(received)
        command = received.command
        if command is None:
            self._ack(received, "rejected", reason=received.error)
            return
        if not self.timeline and not isinstance(command, Abort):
            self._ack(received, "rejected", reason="the timeline is over (the run is draining)")
            return
        try:
            outcome, fields = self._execute(command)
        except Rejected as exc:
            self._ack(received, "rejected", reason=str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a command never breaks the run
            self._ack(received, "failed", reason=f"{type(exc).__name__}: {exc}"[:300])
            return
        self._ack(received, outcome, **fields)

    def _execute(self, command: Command) -> tuple[Outcome, dict[str, Any]]:
        match command:
            case Pause():
                return self._pause(command)
            case Resume():
                return self._resume(command)
            case Abort():
                self.runner.abort(self.live.outcome, f"aborted by {command.by}")
                self.runner.progress.info(f"abort requested by {command.by}")
                return "done", {}
            case Inject():
                return self._inject(command)
            case Revert():
                return self._revert(command)
        raise Rejected(f"unknown command {command!r}")

    def _pause(self, command: Pause) -> tuple[Outcome, dict[str, Any]]:
        if self.live.paused:
            raise Rejected("the workloads are already paused")
        self.live.paused = True
        for workload in self.live.workloads.values():
            workload.pause()
        self.runner.progress.info(f"workloads paused by {command.by}")
        return "done", self._workload_fields()

    def _resume(self, command: Resume) -> tuple[Outcome, dict[str, Any]]:
        if not self.live.paused:
            raise Rejected("the workloads are not paused")
        self.live.paused = False
        for workload in self.live.workloads.values():
            workload.resume()
        self.runner.progress.info(f"workloads resumed by {command.by}")
        return "done", self._workload_fields()

    def _workload_fields(self) -> dict[str, Any]:
        """The workloads that pause, and those whose loop does not (``pausable`` false)."""
        workloads = self.live.workloads
        fields: dict[str, Any] = {
            "workloads": sorted(n for n, w in workloads.items() if w.pausable)
        }
        ignored = sorted(n for n, w in workloads.items() if not w.pausable)
        if ignored:
            fields["not_pausable"] = ignored
        return fields

    def _inject(self, command: Inject) -> tuple[Outcome, dict[str, Any]]:
        live = self.live
        adhoc = [key for key in live.active if key.startswith("adhoc")]
        if len(adhoc) >= MAX_ADHOC_FAULTS:
            raise Rejected(
                f"{len(adhoc)} ad-hoc faults are applied (limit {MAX_ADHOC_FAULTS}): revert one"
            )
        spec = fault_spec(command)
        try:
            live.manager.check(spec)
        except FaultError as exc:
            raise Rejected(exc.render()) from None
        live.adhoc_count += 1
        key = f"adhoc{live.adhoc_count}"
        now = self.runner.clock.elapsed()
        self.runner.progress.info(
            f"{clock_text(now)} inject {key}: {spec.describe()} (by {command.by})"
        )
        error = inject_fault(key, spec, live, Adhoc(by=command.by, duration_s=command.duration_s))
        if error:
            return "failed", {"fault_id": key, "reason": error}
        if command.duration_s is not None:
            live.deadlines[key] = now + command.duration_s
        return "done", {"fault_id": key}

    def _revert(self, command: Revert) -> tuple[Outcome, dict[str, Any]]:
        live = self.live
        if command.fault_id not in live.active:
            applied = ", ".join(live.active) or "none"
            raise Rejected(f"no applied fault {command.fault_id} (applied: {applied})")
        self.runner.progress.info(f"revert {command.fault_id} (by {command.by})")
        error = revert_fault(command.fault_id, live, by=command.by)
        if error:
            return "failed", {"fault_id": command.fault_id, "reason": error}
        return "done", {"fault_id": command.fault_id}

    # -- journal ------------------------------------------------------------------------

    def _take(self, received: Received) -> None:
        command = received.command
        command_id = received.command_id
        if command is None:  # unreadable: what could be read of it
            raw = received.raw or {}
            name, by = raw.get("command"), raw.get("by")
            event = Control(
                command_id=command_id,
                command=name if isinstance(name, str) else None,
                by=by[:200] if isinstance(by, str) else None,
            )
        elif isinstance(command, Inject):
            try:
                described = fault_spec(command).describe()
            except Rejected:
                described = str(command.fault.get("kind"))
            event = Control(
                command_id=command_id,
                command=command.command,
                by=command.by,
                fault=described,
                spec=command.fault,
                duration_s=command.duration_s,
            )
        elif isinstance(command, Revert):
            event = Control(
                command_id=command_id,
                command=command.command,
                by=command.by,
                fault_id=command.fault_id,
            )
        else:
            event = Control(command_id=command_id, command=command.command, by=command.by)
        self.live.journal.emit(event)

    def _ack(self, received: Received, outcome: Outcome, **fields: Any) -> None:
        command = received.command
        name = command.command if command is not None else (received.raw or {}).get("command")
        self.live.journal.emit(
            ControlAck(
                command_id=received.command_id,
                command=name if isinstance(name, str) else None,
                outcome=outcome,
                **fields,
            )
        )
