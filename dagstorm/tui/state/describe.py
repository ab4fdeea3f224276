"""One line of text per journal event for the log pane, and its level."""

from __future__ import annotations

from dagstorm.tui.state.records import Event, num


def describe(e: Event) -> str:  # noqa: PLR0912 (one case per kind)
    """A one-line text of an event for the log pane."""
    kind = e.get("kind")
    match kind:
        case "run_start":
            return f"run {e.get('scenario')} started (×{e.get('time_compression')})"
        case "run_end":
            return f"run {e.get('status')} {e.get('reason') or ''}".rstrip()
        case "phase_start" | "phase_end":
            return f"phase {e.get('phase')} {'starts' if kind == 'phase_start' else 'ends'}"
        case "fault_intent" | "fault_applied" | "fault_reverted":
            return f"{e.get('fault_id')}: {e.get('fault')}"
        case "fault_error":
            return f"{e.get('fault_id')}: {e.get('error')}"
        case "dag_run":
            return f"{e.get('dag_id')} {e.get('run_id')} → {e.get('state')}"
        case "dag_triggered":
            return f"{e.get('dag_id')} {e.get('run_id')} HTTP {e.get('status')}"
        case "task_try":
            return (
                f"{e.get('dag_id')}.{e.get('task_id')} try {e.get('try_number')} → {e.get('state')}"
            )
        case "alert":
            return (
                f"{e.get('alert_kind')} {e.get('dag_id')}.{e.get('task_id')} "
                f"try {e.get('try_number')} {e.get('exception_class') or ''}"
            ).rstrip()
        case "spark_executor_lost":
            return f"{e.get('app_name')} executor {e.get('executor_id')}: {e.get('reason')}"
        case "spark_app":
            return f"{e.get('app_name')} finished in {num(e.get('duration_ms')) / 1000:.0f}s"
        case "partition_written":
            return f"{e.get('dt')} {e.get('hour'):>02} {e.get('records')} records"
        case "slo_check":
            return f"{e.get('slo')} = {e.get('value')} {'ok' if e.get('passed') else 'FAIL'}"
        case "probe_error":
            return f"{e.get('probe')}: {e.get('error')}"
        case "log":
            return str(e.get("message", ""))
        case "control":
            target = e.get("fault") or e.get("fault_id") or ""
            return f"{e.get('command')} {target} by {e.get('by')}".replace("  ", " ")
        case "control_ack":
            detail = e.get("reason") or e.get("fault_id") or ""
            return f"{e.get('command')} {e.get('outcome')} {detail}".rstrip()
    skip = {"v", "seq", "t", "wall", "sim", "kind"}
    return " ".join(f"{k}={v}" for k, v in e.items() if k not in skip)[:200]


def level(e: Event) -> str:
    """The log level of an event: error, warning or info."""
    kind = e.get("kind")
    if kind == "log":
        return str(e.get("level", "info"))
    if kind in ("fault_error", "probe_error", "spark_executor_lost"):
        return "error"
    if kind in ("alert", "fault_applied", "fault_intent"):
        return "warning"
    if kind == "dag_run" and e.get("state") == "failed":
        return "error"
    if kind == "run_end" and e.get("status") != "completed":
        return "error"
    if kind == "control_ack" and e.get("outcome") != "done":
        return "warning"
    return "info"
