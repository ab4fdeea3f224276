"""The app's keys that steer the engine (live only), and the acknowledgements it shows.

A mixin of :class:`~dagstorm.tui.app.WatchApp`: pause or resume the workloads,
abort the run, inject or revert an ad-hoc fault, and quit (which aborts the run
under ``dagstorm run --tui``, once confirmed). Commands are written off the UI
thread; the engine's ``control_ack`` comes back through the journal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from textual import work

from dagstorm.core.errors import ControlError
from dagstorm.tui.messages import ControlFailed, ControlSent
from dagstorm.tui.screens.confirm_screen import ConfirmScreen
from dagstorm.tui.screens.pick_screen import PickScreen
from dagstorm.tui.steering.fault_menu import fault_choices

if TYPE_CHECKING:
    from textual.app import App

    from dagstorm.tui.state import RunState
    from dagstorm.tui.steering.port import ControlPort

    _AppBase = App[None]
else:
    _AppBase = object


class SteeringActions(_AppBase):
    """Actions and message handlers of the app that send commands to the engine."""

    state: RunState
    #: The engine's control inbox (a stub in tests).
    control: ControlPort
    #: Ids of the commands this app sent, until the engine acknowledges them.
    sent: dict[str, str]
    #: ``dagstorm run --tui``: quitting the TUI aborts the run (after a confirmation).
    quit_aborts: bool

    def _can_steer(self) -> bool:
        """Whether commands can go to the engine now; says why not otherwise."""
        if self.state.ended:
            self.notify("the run has ended: nothing to steer", severity="warning")
            return False
        if not self.state.control:
            self.notify(
                "this run takes no commands (its engine reads no control inbox)",
                severity="warning",
            )
            return False
        return True

    def action_pause_workloads(self) -> None:
        """Pause the workloads, or resume them when paused."""
        if self._can_steer():
            self.send_command("resume" if self.state.paused else "pause", {})

    def action_abort_run(self) -> None:
        """Abort the run, after a confirmation."""
        if not self._can_steer():
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.send_command("abort", {})

        self.push_screen(
            ConfirmScreen(
                "Abort the run?\n\nThe workloads stop, every fault is reverted, and the run "
                "ends as interrupted (exit code 130).",
                "Abort the run",
            ),
            answered,
        )

    def action_inject_fault(self) -> None:
        """Pick an ad-hoc fault on one of the stack's declared targets."""
        if not self._can_steer():
            return
        choices = fault_choices(self.state.fault_links, self.state.fault_components)
        if not choices:
            self.notify("the stack declares no fault targets", severity="warning")
            return

        def picked(index: int | None) -> None:
            if index is not None:
                choice = choices[index]
                self.send_command("inject", {"fault": choice.spec, "duration_s": choice.duration_s})

        labels = [f"{c.label} — {c.duration_s:g} s" for c in choices]
        self.push_screen(PickScreen("Inject a fault (reverted after its time)", labels), picked)

    def action_revert_fault(self) -> None:
        """Pick an applied fault to revert now."""
        if not self._can_steer():
            return
        active = self.state.active_faults()
        if not active:
            self.notify("no fault is applied")
            return

        def picked(index: int | None) -> None:
            if index is not None:
                self.send_command("revert", {"fault_id": active[index].fault_id})

        labels = [f"{f.fault_id}: {f.fault}" for f in active]
        self.push_screen(PickScreen("Revert a fault now", labels), picked)

    @work(thread=True, group="control")
    def send_command(self, command: str, fields: dict[str, Any]) -> None:
        """Write the command file off the UI thread."""
        try:
            command_id = self.control.send(command, **fields)
        except ControlError as exc:
            self.post_message(ControlFailed(command, exc.render()))
            return
        self.post_message(ControlSent(command, command_id))

    def on_control_sent(self, message: ControlSent) -> None:
        """Wait for the engine's acknowledgement (it arrives through the journal)."""
        self.sent[message.command_id] = message.command
        self.notify(f"{message.command}: sent, waiting for the engine")

    def on_control_failed(self, message: ControlFailed) -> None:
        """The command could not even be sent."""
        self.notify(f"{message.command}: {message.error}", severity="error")

    def _acknowledged(self, ack: dict[str, Any]) -> None:
        command = self.sent.pop(str(ack.get("command_id")), None)
        if command is None:
            return
        outcome = ack.get("outcome")
        detail = ack.get("reason") or ack.get("fault_id") or ""
        if ack.get("not_pausable"):
            detail = f"(not pausable, still running: {', '.join(ack['not_pausable'])})"
        severity: Literal["information", "warning", "error"] = (
            "information" if outcome == "done" else "error" if outcome == "failed" else "warning"
        )
        self.notify(f"{command}: {outcome} {detail}".rstrip(), severity=severity)

    async def action_quit(self) -> None:
        """Quit; under `dagstorm run --tui` a run under way is aborted first (confirmed)."""
        if not (self.quit_aborts and self.state.control and not self.state.ended):
            self.exit()
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                self.control.send("abort")
            except ControlError as exc:
                self.notify(f"abort: {exc.render()}", severity="error")
                return
            self.exit()

        self.push_screen(
            ConfirmScreen(
                "Quit and abort the run?\n\nThe workloads stop and every fault is reverted; "
                "dagstorm then prints the verdict of the run so far (exit code 130).",
                "Quit and abort",
            ),
            answered,
        )
