"""The Textual app of ``dagstorm watch``: follow a run directory live, or replay it.

The app reads only the run directory. A thread worker owns the journal file: live,
it polls for new lines; in a replay it reads up to the replay clock's position.
Events reach the UI as :class:`EventsRead` messages and feed a :class:`RunState`;
a timer redraws the panes at most a few times a second, and the live verdict is
computed in a second worker.
"""

from __future__ import annotations

import threading
import webbrowser
from collections import deque
from pathlib import Path
from typing import Any, Literal

from textual import events, work
from textual.app import App
from textual.widgets import DataTable, Input
from textual.worker import get_current_worker

from dagstorm.run.events import Kind
from dagstorm.run.follow import JournalFollower, last_event
from dagstorm.run.rundir import RunDirectory
from dagstorm.tui.bindings import CONTROL_ACTIONS, KEY_ACTIONS, REPLAY_ACTIONS, WATCH_BINDINGS
from dagstorm.tui.driver import NoKeysDriver
from dagstorm.tui.live_verdict import EMPTY, LiveVerdict, live_verdict
from dagstorm.tui.messages import EventsRead, JournalMissing, VerdictComputed
from dagstorm.tui.replay import ReplayClock
from dagstorm.tui.screens.dag_run_screen import DagRunScreen
from dagstorm.tui.screens.help_screen import HelpScreen
from dagstorm.tui.screens.watch_screen import WatchScreen
from dagstorm.tui.state import RunState
from dagstorm.tui.steering.actions import SteeringActions
from dagstorm.tui.steering.port import ControlPort, InboxPort
from dagstorm.tui.widgets.dag_runs import DagRunsTable

Mode = Literal["auto", "live", "replay"]
#: How often the reader looks for new lines (live) and the panes are redrawn.
POLL_S = 0.25
REDRAW_S = 1.0
#: The live verdict runs pandas: at most this often.
VERDICT_S = 5.0
#: A replay reads the journal in chunks this big, so a seek never holds much.
REPLAY_CHUNK = 256 * 1024
#: At most this many events a message, so the UI stays responsive while catching up.
MAX_BATCH = 20_000
#: What a steering key says in a replay: why it does nothing, and what does instead.
REPLAY_STEERING = {
    "pause_workloads": "replay: p pauses a live run's workloads; space pauses the replay clock",
    "abort_run": "replay: a finished run cannot be aborted (a needs a live run)",
    "inject_fault": "replay: inject needs a live run (`dagstorm run --tui`)",
    "revert_fault": "replay: revert needs a live run (`dagstorm run --tui`)",
}


class WatchApp(SteeringActions, App[None]):
    """Watch one run directory (see docs/tui.md)."""

    CSS_PATH = "watch.tcss"
    TITLE = "dagstorm watch"
    BINDINGS = WATCH_BINDINGS

    def __init__(
        self,
        run_dir: Path,
        *,
        mode: Mode = "auto",
        speed: float = 1.0,
        paused: bool = False,
        advance: bool = True,
        control: ControlPort | None = None,
        quit_aborts: bool = False,
        read_keys: bool = True,
    ) -> None:
        # Without a terminal on stdin there are no keys: a driver that does not spin on
        # stdin's end of file (tui/driver.py).
        super().__init__(driver_class=None if read_keys else NoKeysDriver)
        self.run_dir = Path(run_dir)
        #: False without a terminal on stdin: nobody can press q, so the app quits by
        #: itself once the run has ended (live) or its replay reached the end.
        self.read_keys = read_keys
        self.control = control or InboxPort(self.run_dir)
        self.quit_aborts = quit_aborts
        self.sent = {}
        self.journal = RunDirectory(self.run_dir).journal
        tail = last_event(self.journal)
        finished = tail is not None and tail.get("kind") == Kind.RUN_END
        self.replaying = mode == "replay" or (mode == "auto" and finished)
        end_t = float(tail.get("t", 0.0)) if tail is not None else None
        self.replay = ReplayClock(speed=speed, playing=not paused, end_t=end_t)
        #: False in tests: the replay clock moves only by key presses.
        self.advance = advance
        self.state = RunState()
        self.verdict: LiveVerdict = EMPTY
        self._wake = threading.Event()
        self._dirty = True
        self._dag_generation = 0
        self._verdict_generation = -1
        self._verdict_busy = False
        self._seen_dag_runs = 0
        self._result_stamp = 0

    # ---- lifecycle ---------------------------------------------------------------

    def on_mount(self) -> None:
        """Show the screen, start the reader and the redraw timer."""
        self.push_screen(WatchScreen())
        self.follow_journal()
        self.set_interval(REDRAW_S, self._tick)
        self.set_interval(VERDICT_S, self._maybe_verdict)

    def _tick(self) -> None:
        if self.replaying and self.advance:
            before = self.replay.position()
            after = self.replay.tick(REDRAW_S)
            if after.t != before.t:
                self._wake.set()
        self.redraw()
        if not self.read_keys and self.state.ended:
            self.exit()

    def redraw(self, *, force: bool = False) -> None:
        """Redraw the panes if anything changed since the last redraw."""
        if not (self._dirty or force):
            return
        self._dirty = False
        if self.replaying:
            self.state.now_t = max(self.state.now_t, self.replay.position().t)
        screen = self.screen
        if isinstance(screen, WatchScreen):
            end_t = self.replay.end_t if self.replaying else None
            screen.show(self.state, self.verdict, self.mode_text(), self._dag_generation, end_t)

    def mode_text(self) -> str:
        """LIVE, or the replay's state, position and speed."""
        if not self.replaying:
            return "● LIVE" if not self.state.ended else "■ ENDED"
        pos = self.replay.position()
        glyph = "▶" if pos.playing else "❚❚"
        return f"{glyph} REPLAY {pos.speed:g}×"

    # ---- reading -----------------------------------------------------------------

    @work(thread=True, exclusive=True, group="reader")
    def follow_journal(self) -> None:
        """Read the journal: new lines as they come (live) or up to the replay clock."""
        worker = get_current_worker()
        follower = JournalFollower(self.journal)
        if not self.journal.exists():
            self.post_message(JournalMissing(str(self.journal)))
        epoch = self.replay.position().epoch
        ahead: deque[dict[str, Any]] = deque()  # replay: read but not yet due
        while not worker.is_cancelled:
            if not self.replaying:
                events = follower.read()
                if events:
                    self.post_message(EventsRead(events))
                    continue  # more may be waiting: read on without sleeping
            else:
                position = self.replay.position()
                reset = position.epoch != epoch
                if reset:
                    epoch = position.epoch
                    follower.rewind()
                    ahead.clear()
                due: list[dict[str, Any]] = []
                while True:
                    while ahead and float(ahead[0].get("t", 0.0)) <= position.t:
                        due.append(ahead.popleft())
                    if ahead or len(due) >= MAX_BATCH:
                        break
                    more = follower.read(REPLAY_CHUNK)
                    if not more:
                        break
                    ahead.extend(more)
                if due or reset:
                    self.post_message(EventsRead(due, reset=reset))
                if len(due) >= MAX_BATCH:
                    continue  # catching up after a seek: no pause between batches
            self._wake.wait(POLL_S)
            self._wake.clear()

    def on_events_read(self, message: EventsRead) -> None:
        """Feed the state; the next redraw shows it."""
        if message.reset:
            self.state = RunState()
            self.verdict = EMPTY
            self._verdict_generation = -1
            self._dag_generation += 1
            screen = self.screen
            if isinstance(screen, WatchScreen):
                screen.reset()
        self.state.feed_all(message.events)
        if self.state.ended and not self.verdict.final:
            # The final verdict now, not on the next timer tick: until it comes the
            # header would show the last live one (a stale score, SLOs still pending).
            self._maybe_verdict()
        if self.sent and not message.reset:
            for event in message.events:
                if event.get("kind") == Kind.CONTROL_ACK:
                    self._acknowledged(event)
        if len(self.state.dag_runs) != self._seen_dag_runs or any(
            e.get("kind") == Kind.DAG_RUN for e in message.events
        ):
            self._seen_dag_runs = len(self.state.dag_runs)
            self._dag_generation += 1
        self._dirty = True

    def on_journal_missing(self, message: JournalMissing) -> None:
        """Say so; the reader keeps looking for it."""
        self.notify(f"no journal yet at {message.path}; waiting", severity="warning")

    # ---- the live verdict --------------------------------------------------------

    def _maybe_verdict(self) -> None:
        generation = self.state.verdict_generation
        if self._verdict_busy:
            return
        if generation == self._verdict_generation and not self._result_written():
            return
        self._verdict_busy = True
        self.compute_verdict(self.state.verdict_events(), generation)

    def _result_written(self) -> bool:
        """Whether ``result.json`` came after the verdict shown: read it.

        A live run is analysed after its end, so its first final verdict is the
        events' (no PASS without the analysis). Each version of the file is tried
        once: one the TUI cannot read is not read again every few seconds.
        """
        if not (self.state.ended and self.verdict.final) or self.verdict.from_result:
            return False
        try:
            stamp = RunDirectory(self.run_dir).result.stat().st_mtime_ns
        except OSError:
            return False
        if stamp == self._result_stamp:
            return False
        self._result_stamp = stamp
        return True

    @work(thread=True, exclusive=True, group="verdict")
    def compute_verdict(self, events: list[Any], generation: int) -> None:
        """Judge the SLOs off the UI thread."""
        self.post_message(VerdictComputed(live_verdict(events, run_dir=self.run_dir), generation))

    def on_verdict_computed(self, message: VerdictComputed) -> None:
        """Show the new verdict."""
        self._verdict_busy = False
        self._verdict_generation = message.generation
        self.verdict = message.verdict
        self._dirty = True
        if self.state.ended and not message.verdict.final:
            self._maybe_verdict()  # the run ended while this one was computed

    # ---- actions (steering the engine: tui/steering/actions.py) -------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Replay keys only in a replay, engine keys only live (the footer follows)."""
        if action in CONTROL_ACTIONS:
            return not self.replaying
        if action in REPLAY_ACTIONS:
            return self.replaying
        return True

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a DAG run: its task tries, as Airflow's grid would show them."""
        if event.data_table.id != "dag-runs":
            return
        key = self.screen.query_one(DagRunsTable).run_at(event.cursor_row)
        if key is None or key not in self.state.dag_runs:
            return
        tries = self.state.verdict.tries_of(*key)
        self.push_screen(DagRunScreen(self.state.dag_runs[key], self.state, tries))

    def on_key(self, event: events.Key) -> None:
        """A steering key in a replay, or a replay key live: say why nothing happens.

        Those bindings are off (:meth:`check_action`), so the footer shows only what
        applies; the key itself reaches here unhandled.
        """
        action = KEY_ACTIONS.get(event.key)
        if action in CONTROL_ACTIONS and self.replaying:
            self.notify(REPLAY_STEERING[action], severity="warning")
        elif action in REPLAY_ACTIONS and not self.replaying and action != "toggle_play":
            self.notify("live: seeking and speed work in a replay of a finished run")

    def action_open_report(self) -> None:
        """Open the capacity report once the run has one."""
        report = RunDirectory(self.run_dir).report
        if not report.exists():
            self.notify("no report yet: it is written when the run ends", severity="warning")
            return
        self.open_in_browser(report)

    @work(thread=True, group="browser")
    def open_in_browser(self, report: Path) -> None:
        """Start a browser (it may block); over SSH there is none: show the path."""
        opened = webbrowser.open(report.resolve().as_uri())
        self.call_from_thread(
            self.notify, f"{'opened' if opened else 'report (no browser here)'}: {report}"
        )

    def action_help(self) -> None:
        """Show the keys."""
        self.push_screen(HelpScreen())

    def action_toggle_play(self) -> None:
        """Replay: play or pause."""
        if not self.replaying:
            self.notify("live: nothing to pause (watch only reads the run)")
            return
        self.replay.toggle()
        self._after_replay_change()

    def action_seek(self, delta: float) -> None:
        """Replay: jump ``delta`` wall seconds."""
        if self.replaying:
            self.replay.seek_by(delta)
            self._after_replay_change()

    def action_seek_to(self, t: float) -> None:
        """Replay: jump to ``t`` (negative: the end)."""
        if self.replaying:
            self.replay.seek(t if t >= 0 else float("inf"))
            self._after_replay_change()

    def action_speed(self, direction: int) -> None:
        """Replay: faster (1) or slower (-1)."""
        if self.replaying:
            self.replay.faster() if direction > 0 else self.replay.slower()
            self._after_replay_change()

    def action_focus_filter(self) -> None:
        """Focus the log filter."""
        self.screen.query_one("#log-filter", Input).focus()

    def action_leave_filter(self) -> None:
        """Leave the filter box for the panes."""
        self.screen.query_one("#traffic").focus()

    def action_focus_pane(self, pane: str) -> None:
        """Focus a pane by id."""
        self.screen.query_one(f"#{pane}").focus()

    def _after_replay_change(self) -> None:
        self._wake.set()
        self._dirty = True
        self.redraw()


def create_app(
    run_dir: Path,
    *,
    mode: Mode = "auto",
    speed: float = 1.0,
    paused: bool = False,
    advance: bool = True,
    control: ControlPort | None = None,
    quit_aborts: bool = False,
    read_keys: bool = True,
) -> WatchApp:
    """The app for ``run_dir``: the one factory the CLI and the tests share.

    ``read_keys`` False: stdin is not a terminal (see :class:`WatchApp`).
    """
    return WatchApp(
        run_dir,
        mode=mode,
        speed=speed,
        paused=paused,
        advance=advance,
        control=control,
        quit_aborts=quit_aborts,
        read_keys=read_keys,
    )
