"""The main screen: header, timeline, the panes and the log."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid
from textual.screen import Screen
from textual.widgets import Footer

from dagstorm.tui.live_verdict import LiveVerdict
from dagstorm.tui.state import RunState
from dagstorm.tui.widgets.alerts import AlertsPane
from dagstorm.tui.widgets.dag_runs import DagRunsTable
from dagstorm.tui.widgets.log_pane import LogPane
from dagstorm.tui.widgets.run_header import RunHeader
from dagstorm.tui.widgets.scheduler import SchedulerPane
from dagstorm.tui.widgets.spark_kafka import SparkKafkaPane
from dagstorm.tui.widgets.stack_health import StackHealthPane
from dagstorm.tui.widgets.timeline import Timeline
from dagstorm.tui.widgets.traffic import TrafficPane

#: Pane ids in focus order (keys 1–7 focus them).
PANES = ("traffic", "dag-runs", "scheduler", "spark-kafka", "stack", "alerts", "log-filter")


class WatchScreen(Screen[None]):
    """Everything about one run at a glance; 3 columns when wide, 2 when narrow."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]

    def compose(self) -> ComposeResult:
        """Header, timeline, the pane grid, the log and the footer."""
        yield RunHeader(id="header")
        yield Timeline(id="timeline")
        with Grid(id="panes"):
            yield TrafficPane(id="traffic")
            yield DagRunsTable(id="dag-runs")
            yield SchedulerPane(id="scheduler")
            yield SparkKafkaPane(id="spark-kafka")
            yield StackHealthPane(id="stack")
            yield AlertsPane(id="alerts")
        yield LogPane(id="log")
        yield Footer()

    def on_mount(self) -> None:
        """Titles on the pane borders."""
        titles = {
            "traffic": "traffic",
            "dag-runs": "DAG runs",
            "scheduler": "scheduler",
            "spark-kafka": "spark · kafka",
            "stack": "stack health (CPU, RSS)",
            "alerts": "alerts",
            "log": "events",
        }
        for pane_id, title in titles.items():
            self.query_one(f"#{pane_id}").border_title = title

    def show(
        self,
        state: RunState,
        verdict: LiveVerdict,
        mode: str,
        dag_generation: int,
        end_t: float | None = None,
    ) -> None:
        """Render every pane from ``state``; ``end_t`` is the journal's end in a replay."""
        self.query_one(RunHeader).show(state, verdict, mode)
        self.query_one(Timeline).show(state, end_t)
        self.query_one(TrafficPane).show(state)
        self.query_one(DagRunsTable).show(state, dag_generation)
        self.query_one(SchedulerPane).show(state)
        self.query_one(SparkKafkaPane).show(state)
        self.query_one(StackHealthPane).show(state)
        self.query_one(AlertsPane).show(state)
        self.query_one(LogPane).show(state)

    def reset(self) -> None:
        """Forget what the log shows (a replay seeked backwards)."""
        self.query_one(LogPane).rebuild()
