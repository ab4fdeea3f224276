"""Handler of workload events: records, bytes, acks and failures per second, and totals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagstorm.run.events import Kind
from dagstorm.tui.state.records import Event, num

if TYPE_CHECKING:
    from dagstorm.tui.state.run_state import Handler, RunState


def on_workload_stats(state: RunState, e: Event, t: float) -> None:
    """Add an interval's figures to the per-second series and the totals."""
    records = num(e.get("records"))
    size = num(e.get("bytes"))
    state.records.add(t, records)
    state.bytes.add(t, size)
    state.acked.add(t, num(e.get("acked")))
    state.failed.add(t, num(e.get("failed")))
    state.total_records += int(records)
    state.total_bytes += int(size)
    state.total_failed += int(num(e.get("failed")))
    if isinstance(e.get("p99_ms"), int | float):
        state.p99_ms = float(e["p99_ms"])


HANDLERS: dict[str, Handler] = {Kind.WORKLOAD_STATS: on_workload_stats}
