"""Alert events posted to dagstorm's alert sink (task retries, failures, deadlines).

The sink URL comes from the Airflow Variable ``dagstorm_alert_sink_url``. An alert
is best effort: a missing Variable, an unreachable sink or an error answer is
logged and never fails the task (short timeout). Payload (JSON object)::

    {"source": "airflow", "kind": "task_retry" | "task_failure" | "deadline_missed" | ...,
     "dag_id", "task_id", "run_id", "try_number", "max_tries",
     "exception_class", "exception", "time" (ISO-8601 UTC, when the event happened)}

The sink's side is dagstorm/probes/alert_sink.py.
"""

# ruff: noqa: PLC0415 - heavy or Airflow-runtime imports stay inside functions: DAG files parse fast

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from ad_pipeline.settings import VAR_ALERT_SINK_URL

log = logging.getLogger(__name__)

#: Seconds one POST may take (connect + answer).
TIMEOUT = 2.0
#: Longest exception message kept in an alert.
MAX_MESSAGE = 500


def sink_url() -> str | None:
    """The alert sink's URL from the Variable, or None if it is not set."""
    try:
        from airflow.sdk import Variable

        url = Variable.get(VAR_ALERT_SINK_URL, default=None)
    except Exception as exc:  # noqa: BLE001 - an alert lookup must never fail the task
        log.warning("alert sink URL unavailable (%s)", exc.__class__.__name__)
        return None
    return str(url) if url else None


def post_alert(payload: dict[str, Any], url: str | None = None, timeout: float = TIMEOUT) -> bool:
    """POST one alert; True if the sink accepted it. Never raises."""
    import urllib.error
    import urllib.request

    target = url or sink_url()
    if not target:
        log.warning("no alert sink configured; alert %s dropped", payload.get("kind"))
        return False
    body = json.dumps(payload, default=str).encode()
    request = urllib.request.Request(
        target, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            ok = 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.warning("alert sink %s unreachable: %s", target, exc.__class__.__name__)
        return False
    if not ok:
        log.warning("alert sink %s refused the alert", target)
    return ok


def task_payload(context: dict[str, Any], kind: str) -> dict[str, Any]:
    """An alert describing the task instance in ``context``."""
    ti = context.get("ti") or context.get("task_instance")
    error = context.get("exception")
    return {
        "source": "airflow",
        "kind": kind,
        "dag_id": getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": getattr(ti, "run_id", None) or context.get("run_id"),
        "map_index": getattr(ti, "map_index", -1),
        "try_number": getattr(ti, "try_number", None),
        "max_tries": getattr(ti, "max_tries", None),
        "exception_class": type(error).__name__ if error is not None else None,
        "exception": str(error)[:MAX_MESSAGE] if error is not None else None,
        "time": datetime.now(UTC).isoformat(),
    }


def on_task_retry(context: dict[str, Any]) -> None:
    """on_retry_callback: the task failed and will be retried."""
    try:
        post_alert(task_payload(context, "task_retry"))
    except Exception:  # a callback must never turn into a second failure
        log.exception("could not build the retry alert")


def on_task_failure(context: dict[str, Any]) -> None:
    """on_failure_callback: the task failed for good (retries exhausted or fatal)."""
    try:
        post_alert(task_payload(context, "task_failure"))
    except Exception:
        log.exception("could not build the failure alert")


def parse_time_sink_url() -> str | None:
    """The sink URL read while the DAG file is parsed (None if unavailable).

    Deadline callbacks run in a process that Airflow 3.3.2 denies Variable access
    (AirflowSecretsBackendAccessDenied), so the URL travels in the callback's kwargs.
    """
    return sink_url()


def on_deadline_missed(context: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """Deadline Alert callback (SyncCallback, runs on the executor): a run is late.

    kwargs: ``sink_url`` (from parse time; else the Variable is tried), ``deadline_seconds``.
    """
    context = context or {}
    dag_run = context.get("dag_run") or {}
    deadline = context.get("deadline") or {}
    payload = {
        "source": "airflow",
        "kind": "deadline_missed",
        "dag_id": dag_run.get("dag_id") or kwargs.get("dag_id"),
        "task_id": None,
        "run_id": dag_run.get("dag_run_id") or dag_run.get("run_id"),
        "try_number": None,
        "exception_class": None,
        "exception": None,
        "deadline_time": str(deadline.get("deadline_time")) if deadline else None,
        "queued_at": dag_run.get("queued_at"),
        "deadline_seconds": kwargs.get("deadline_seconds"),
        "time": datetime.now(UTC).isoformat(),
    }
    post_alert(payload, url=kwargs.get("sink_url") or None)


def notice(kind: str, context: dict[str, Any], **detail: Any) -> None:
    """A pipeline-level event (say a rejected signal), posted like an alert."""
    payload = task_payload(context, kind)
    payload.update(detail)
    post_alert(payload)
