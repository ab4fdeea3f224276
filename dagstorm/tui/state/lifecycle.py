"""Handlers of the run's own events: start and end, phases, SLO checks, probes, control."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from dagstorm.run.events import Kind
from dagstorm.tui.state.records import Event, FaultSpan, PhaseSpan, num

if TYPE_CHECKING:
    from dagstorm.tui.state.run_state import Handler, RunState


def on_run_start(state: RunState, e: Event, t: float) -> None:
    """The scenario, its plan (phases, faults, SLOs) and what the control inbox can target."""
    state.verdict.start(e)
    state.status = "running"
    state.scenario = str(e.get("scenario", ""))
    state.description = str(e.get("description", ""))
    state.compression = num(e.get("time_compression"), 1.0) or 1.0
    duration = e.get("duration_s")
    state.duration_s = float(duration) if isinstance(duration, int | float) else None
    state.origin_wall = num(e.get("wall")) - t
    state.phases = [
        PhaseSpan(str(p.get("name")), num(p.get("start_s")), num(p.get("end_s")))
        for p in e.get("phases") or []
        if isinstance(p, Mapping)
    ]
    for f in e.get("faults") or []:
        if isinstance(f, Mapping):
            key = str(f.get("key"))
            state.faults[key] = FaultSpan(
                key, str(f.get("fault", key)), num(f.get("start_s")), num(f.get("end_s"))
            )
    state.slo_specs = [dict(s) for s in e.get("slos") or [] if isinstance(s, Mapping)]
    state.control = bool(e.get("control"))
    targets = e.get("fault_targets")
    if isinstance(targets, Mapping):
        state.fault_links = tuple(str(x) for x in targets.get("links") or ())
        state.fault_components = tuple(str(x) for x in targets.get("components") or ())
    for spec in state.slo_specs:
        if spec.get("type") == "sla" and isinstance(spec.get("within"), int | float):
            state.sla_within_s[str(spec.get("dag"))] = float(spec["within"])


def on_run_end(state: RunState, e: Event, t: float) -> None:
    """The run's final status and why."""
    state.verdict.end(e)
    state.status = str(e.get("status", "completed"))
    state.reason = str(e.get("reason") or "")


def on_phase_start(state: RunState, e: Event, t: float) -> None:
    """The phase now running."""
    state.phase = str(e.get("phase", ""))


def on_probe_error(state: RunState, e: Event, t: float) -> None:
    """Count a probe's failure to sample."""
    state.probe_errors += 1


def on_control_ack(state: RunState, e: Event, t: float) -> None:
    """Workloads paused or resumed by a control command that was done."""
    if e.get("outcome") == "done" and e.get("command") in ("pause", "resume"):
        state.paused = e.get("command") == "pause"


HANDLERS: dict[str, Handler] = {
    Kind.RUN_START: on_run_start,
    Kind.RUN_END: on_run_end,
    Kind.PHASE_START: on_phase_start,
    Kind.PROBE_ERROR: on_probe_error,
    Kind.CONTROL_ACK: on_control_ack,
}
