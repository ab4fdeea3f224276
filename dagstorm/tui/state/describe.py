"""One line of text per journal event for the log pane, and its level."""

from __future__ import annotations

from dagstorm.run.events import Kind
from dagstorm.tui.state.records import Event, num


def describe(e: Event) -> str:  # noqa: PLR0912 (one case per kind)
    """A one-line text of an event for the log pane."""
    kind = e.get("kind")
    match kind:
        case Kind.RUN_START:
            return f"run {e.get('scenario')} started (×{e.get('time_compression')})"
        case Kind.RUN_END:
            return f"run {e.get('status')} {e.get('reason') or ''}".rstrip()
        case Kind.PHASE_START | Kind.PHASE_END:
            return f"phase {e.get('phase')} {'starts' if kind == Kind.PHASE_START else 'ends'}"
        case Kind.FAULT_INTENT | Kind.FAULT_APPLIED | Kind.FAULT_REVERTED:
            return f"{e.get('fault_id')}: {e.get('fault')}"
        case Kind.FAULT_ERROR:
            return f"{e.get('fault_id')}: {e.get('error')}"
        case Kind.DAG_RUN:
            return f"{e.get('dag_id')} {e.get('run_id')} → {e.get('state')}"
        case Kind.DAG_TRIGGERED if e.get("asset"):
            return f"event on {e.get('asset')} for {e.get('dag_id')} HTTP {e.get('status')}"
        case Kind.DAG_TRIGGERED:
            return f"{e.get('dag_id')} {e.get('run_id')} HTTP {e.get('status')}"
        case Kind.ASSET_RUNS:
            return (
                f"{e.get('events')} events on {e.get('asset')}: {e.get('consumed')} consumed,"
                f" {len(e.get('runs') or [])} runs"
            )
        case Kind.TASK_TRY:
            return (
                f"{e.get('dag_id')}.{e.get('task_id')} try {e.get('try_number')} → {e.get('state')}"
            )
        case Kind.ALERT:
            return (
                f"{e.get('alert_kind')} {e.get('dag_id')}.{e.get('task_id')} "
                f"try {e.get('try_number')} {e.get('exception_class') or ''}"
            ).rstrip()
        case Kind.SPARK_EXECUTOR_LOST:
            return f"{e.get('app_name')} executor {e.get('executor_id')}: {e.get('reason')}"
        case Kind.SPARK_APP:
            return f"{e.get('app_name')} finished in {num(e.get('duration_ms')) / 1000:.0f}s"
        case Kind.PARTITION_WRITTEN:
            return f"{e.get('dt')} {e.get('hour'):>02} {e.get('records')} records"
        case Kind.PROBE_ERROR:
            return f"{e.get('probe')}: {e.get('error')}"
        case Kind.LOG:
            return str(e.get("message", ""))
        case Kind.CONTROL:
            target = e.get("fault") or e.get("fault_id") or ""
            return f"{e.get('command')} {target} by {e.get('by')}".replace("  ", " ")
        case Kind.CONTROL_ACK:
            detail = e.get("reason") or e.get("fault_id") or ""
            return f"{e.get('command')} {e.get('outcome')} {detail}".rstrip()
    skip = {"v", "seq", "t", "wall", "sim", "kind"}
    return " ".join(f"{k}={v}" for k, v in e.items() if k not in skip)[:200]


def level(e: Event) -> str:
    """The log level of an event: error, warning or info."""
    kind = e.get("kind")
    if kind == Kind.LOG:
        return str(e.get("level", "info"))
    if kind in (Kind.FAULT_ERROR, Kind.PROBE_ERROR, Kind.SPARK_EXECUTOR_LOST):
        return "error"
    if kind in (Kind.ALERT, Kind.FAULT_APPLIED, Kind.FAULT_INTENT):
        return "warning"
    if kind == Kind.DAG_RUN and e.get("state") == "failed":
        return "error"
    if kind == Kind.RUN_END and e.get("status") != "completed":
        return "error"
    if kind == Kind.CONTROL_ACK and e.get("outcome") != "done":
        return "warning"
    return "info"
