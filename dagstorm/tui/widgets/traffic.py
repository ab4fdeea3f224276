"""Traffic: records/s, MB/s and failed/s from workload_stats, as sparklines."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline

from dagstorm.tui.format import megabytes, si
from dagstorm.tui.series import SecondBins
from dagstorm.tui.state import RunState
from dagstorm.tui.widgets.text_pane import TextPane

WINDOW_S = 60
#: The rates shown are averages over this many seconds: workloads report every few
#: seconds, so the last second alone is 0 most of the time.
RATE_S = 10


def rate(bins: SecondBins, now_t: float) -> float:
    """Per-second average over the last :data:`RATE_S` complete seconds before ``now_t``."""
    return sum(bins.values(now_t - 1, RATE_S)) / RATE_S


class TrafficPane(Vertical, can_focus=True):
    """Generated records/s and MB/s and Kafka failures over the last minute."""

    def compose(self) -> ComposeResult:
        """Labels and a sparkline per series."""
        yield TextPane("records/s -", id="traffic-records-label", classes="line")
        yield Sparkline([], id="traffic-records")
        yield TextPane("MB/s -", id="traffic-mb-label", classes="line")
        yield Sparkline([], id="traffic-mb")
        yield TextPane("failed/s -", id="traffic-failed-label", classes="line")

    def show(self, state: RunState) -> None:
        """Render the last minute of traffic up to ``state.now_t``."""
        now = state.now_t
        records = state.records.values(now, WINDOW_S)
        mb = [b / 1e6 for b in state.bytes.values(now, WINDOW_S)]
        self.query_one("#traffic-records-label", TextPane).put(
            f"records/s {si(rate(state.records, now))}  total {si(state.total_records)}"
        )
        self.query_one("#traffic-records", Sparkline).data = records
        self.query_one("#traffic-mb-label", TextPane).put(
            f"MB/s {megabytes(rate(state.bytes, now) / 1e6)}"
            f"  total {state.total_bytes / 1e6:.1f} MB"
        )
        self.query_one("#traffic-mb", Sparkline).data = mb
        self.query_one("#traffic-failed-label", TextPane).put(
            f"acked/s {si(rate(state.acked, now))}  failed/s {si(rate(state.failed, now))}  "
            f"p99 {state.p99_ms:.0f} ms"
        )
