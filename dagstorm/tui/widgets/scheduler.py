"""The scheduler: task tries started and finished per minute, StatsD gauges.

The gauges shown are the ones that move: a gauge that never changed (LocalExecutor
reports ``executor.open_slots`` and ``executor.running_tasks`` once) is listed as
constant with its value, and running tasks are read where they change
(``pool.running_slots.default_pool`` under LocalExecutor) — the analysis' rules
(:mod:`dagstorm.analysis.measures.scheduler.scheduler_metrics`), applied to what has arrived.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline

from dagstorm.analysis.measures.scheduler.scheduler_metrics import (
    EXECUTABLE,
    OPEN_SLOTS,
    RUNNING_TASKS,
    STARVING,
    GaugeRange,
    running_tasks_gauge,
)
from dagstorm.tui.format import cells, fit
from dagstorm.tui.state import RunState
from dagstorm.tui.widgets.text_pane import TextPane

MINUTES = 30
#: What each headline gauge is called in the pane.
LABELS = {
    EXECUTABLE: "executable",
    STARVING: "starving",
    OPEN_SLOTS: "open slots",
    RUNNING_TASKS[0]: "executor running",
    RUNNING_TASKS[1]: "pool running",
}
#: The constant ones, the executor's first (the ones LocalExecutor never updates).
CONSTANT_ORDER = (OPEN_SLOTS, *RUNNING_TASKS, EXECUTABLE, STARVING)


def gauge_lines(values: Mapping[str, float], ranges: Mapping[str, GaugeRange]) -> tuple[str, str]:
    """The moving headline gauges, and the constant ones (``constant: name value, …``)."""
    if not ranges:
        return "no StatsD yet", ""
    running = running_tasks_gauge(ranges)
    moving = [
        f"{LABELS[name]} {values[name]:g}"
        for name in (EXECUTABLE, STARVING, OPEN_SLOTS)
        if name in ranges and not ranges[name].constant
    ]
    if running is not None:
        source = "" if running.startswith("executor.") else f" ({running.rsplit('.', 1)[-1]})"
        moving.append(f"running {values[running]:g}{source}")
    constant = [
        f"{LABELS[name]} {values[name]:g}"
        for name in CONSTANT_ORDER
        if name in ranges and ranges[name].constant
    ]
    return (
        "  ".join(moving) or "no gauge has changed yet",
        f"constant: {', '.join(constant)}" if constant else "",
    )


def fit_items(line: str, width: int) -> str:
    """``constant: a 8, b 0, …`` cut at a whole item (``+N more``), never mid-word."""
    if cells(line) <= width or ": " not in line:
        return line
    head, _, rest = line.partition(": ")
    items = rest.split(", ")
    for keep in range(len(items) - 1, 0, -1):
        shown = f"{head}: {', '.join(items[:keep])}, +{len(items) - keep} more"
        if cells(shown) <= width:
            return shown
    return f"{head}: {len(items)} gauges"


class SchedulerPane(Vertical, can_focus=True):
    """Tries per minute (sparkline of finished), retries and the scheduler's gauges."""

    def compose(self) -> ComposeResult:
        """A summary line, a sparkline, the moving gauges and the constant ones."""
        yield TextPane("tries/min -", id="scheduler-summary", classes="line")
        yield Sparkline([], id="scheduler-finished")
        yield TextPane("", id="scheduler-gauges", classes="line")
        yield TextPane("", id="scheduler-constant", classes="line muted")

    def show(self, state: RunState) -> None:
        """Render the last minutes of scheduling."""
        now = state.now_t
        finished = state.tries_finished.series(now, MINUTES)
        # The last 60 s, whatever the minute: a minute's count would read 0 at its start
        # while the sparkline (per minute, the current one included) shows tries.
        started_60 = state.recent_started.count(now, 60)
        finished_60 = state.recent_finished.count(now, 60)
        summary = self.query_one("#scheduler-summary", TextPane)
        # Whole words on a narrow pane: retries give way while there are none.
        summary.put(
            fit(
                [
                    (0, f"tries last 60 s: started {started_60} finished {finished_60}"),
                    (0 if state.retries else 1, f"retries {state.retries}"),
                ],
                summary.size.width or 200,
            )
        )
        self.query_one("#scheduler-finished", Sparkline).data = [float(v) for v in finished]
        moving, constant = gauge_lines(state.statsd, state.statsd_ranges)
        self.query_one("#scheduler-gauges", TextPane).put(moving)
        pane = self.query_one("#scheduler-constant", TextPane)
        pane.put(fit_items(constant, pane.size.width or 200))
