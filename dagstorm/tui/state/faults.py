"""Handler of fault events: the fault windows, planned, applied and reverted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagstorm.run.events import FAULT_EVENT_KINDS, Kind
from dagstorm.tui.state.records import Event, FaultSpan, num

if TYPE_CHECKING:
    from dagstorm.tui.state.run_state import Handler, RunState


def on_fault(state: RunState, e: Event, t: float) -> None:
    """Update a fault's window (an ad-hoc fault is planned from its intent)."""
    state.verdict.fault(e)
    key = str(e.get("fault_id"))
    span = state.faults.get(key)
    if span is None:
        span = state.faults[key] = FaultSpan(key, str(e.get("fault", key)))
    kind = e.get("kind")
    if kind == Kind.FAULT_INTENT and e.get("adhoc"):  # an ad-hoc fault: planned from now
        span.planned_start_s = t
        duration = e.get("duration_s")
        span.planned_end_s = t + float(duration) if isinstance(duration, int | float) else None
    if kind == Kind.FAULT_APPLIED:
        span.applied_t = t - num(e.get("took_s"))
    elif kind == Kind.FAULT_REVERTED:
        span.reverted_t = t
    elif kind == Kind.FAULT_ERROR:
        span.error = str(e.get("error", ""))


HANDLERS: dict[str, Handler] = dict.fromkeys(FAULT_EVENT_KINDS, on_fault)
