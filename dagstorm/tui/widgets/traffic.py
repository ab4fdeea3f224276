"""Traffic: records/s, MB/s and failed/s from workload_stats, as sparklines."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Sparkline

from dagstorm.tui.format import si
from dagstorm.tui.state import RunState

WINDOW_S = 60


class TrafficPane(Vertical, can_focus=True):
    """Generated records/s and MB/s and Kafka failures over the last minute."""

    def compose(self) -> ComposeResult:
        """Labels and a sparkline per series."""
        yield Label("records/s -", id="traffic-records-label")
        yield Sparkline([], id="traffic-records")
        yield Label("MB/s -", id="traffic-mb-label")
        yield Sparkline([], id="traffic-mb")
        yield Label("failed/s -", id="traffic-failed-label")

    def show(self, state: RunState) -> None:
        """Render the last minute of traffic up to ``state.now_t``."""
        now = state.now_t
        records = state.records.values(now, WINDOW_S)
        mb = [b / 1e6 for b in state.bytes.values(now, WINDOW_S)]
        self.query_one("#traffic-records-label", Label).update(
            f"records/s {si(state.records.last(now))}  total {si(state.total_records)}"
        )
        self.query_one("#traffic-records", Sparkline).data = records
        self.query_one("#traffic-mb-label", Label).update(
            f"MB/s {state.bytes.last(now) / 1e6:.2f}  total {state.total_bytes / 1e6:.1f} MB"
        )
        self.query_one("#traffic-mb", Sparkline).data = mb
        self.query_one("#traffic-failed-label", Label).update(
            f"acked/s {si(state.acked.last(now))}  failed/s {si(state.failed.last(now))}  "
            f"p99 {state.p99_ms:.0f} ms"
        )
