"""Handler of fault events: the fault windows, planned, applied and reverted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagstorm.tui.state.records import FAULT_KINDS, Event, FaultSpan, num

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
    if kind == "fault_intent" and e.get("adhoc"):  # an ad-hoc fault: planned from now
        span.planned_start_s = t
        duration = e.get("duration_s")
        span.planned_end_s = t + float(duration) if isinstance(duration, int | float) else None
    if kind == "fault_applied":
        span.applied_t = t - num(e.get("took_s"))
    elif kind == "fault_reverted":
        span.reverted_t = t
    elif kind == "fault_error":
        span.error = str(e.get("error", ""))


HANDLERS: dict[str, Handler] = dict.fromkeys(FAULT_KINDS, on_fault)
