"""The scheduler: task tries started and finished per minute, StatsD gauges."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline

from dagstorm.tui.state import RunState
from dagstorm.tui.widgets.text_pane import TextPane

MINUTES = 30


class SchedulerPane(Vertical, can_focus=True):
    """Tries per minute (sparkline of finished), retries and the scheduler's gauges."""

    def compose(self) -> ComposeResult:
        """A summary line, a sparkline and the gauges."""
        yield TextPane("tries/min -", id="scheduler-summary", classes="line")
        yield Sparkline([], id="scheduler-finished")
        yield TextPane("", id="scheduler-gauges", classes="line")

    def show(self, state: RunState) -> None:
        """Render the last minutes of scheduling."""
        now = state.now_t
        finished = state.tries_finished.series(now, MINUTES)
        started = state.tries_started.series(now, MINUTES)
        # The last complete minute: the current one is still counting (0 at its start).
        self.query_one("#scheduler-summary", TextPane).put(
            f"tries last min: started {started[-2]} finished {finished[-2]}"
            f"  retries {state.retries}"
        )
        self.query_one("#scheduler-finished", Sparkline).data = [float(v) for v in finished]
        gauges = state.statsd
        parts = [
            f"{label} {gauges[metric]:g}"
            for label, metric in (
                ("executable", "scheduler.tasks.executable"),
                ("starving", "scheduler.tasks.starving"),
                ("open slots", "executor.open_slots"),
                ("running", "executor.running_tasks"),
            )
            if metric in gauges
        ]
        self.query_one("#scheduler-gauges", TextPane).put("  ".join(parts) or "no StatsD yet")
