"""The run's alert sink on a port of its own, and the pipeline pointed at it.

The sink listens on the stack's ``ports.alert_sink`` when that port is free and
on any free port (the system picks one) when it is not — say another run on this
machine holds it — so two runs never collide. The pipeline learns where to post
from the Airflow Variable ``dagstorm_alert_sink_url`` (set by the deploy step):
when the sink's URL differs from the Variable's, the run points the Variable at
its sink and, at the end, points it back if nobody changed it since — unless the
Variable's URL is another live run's sink: one Airflow posts to one sink, and
the run that holds it keeps it (this run then says it receives no alerts). A stack
whose Airflow has no such Variable (DAGs dagstorm did not deploy) is left as it
is. Deadline callbacks take the URL when their DAG file is parsed, so on a
fallback port they follow after the DAG processor's next parse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import httpx
from airflow_client.client import VariableApi, VariableBody
from airflow_client.client.exceptions import NotFoundException

from dagstorm.clients.airflow import api_client
from dagstorm.core.errors import DagstormError
from dagstorm.probes.alert_sink import Alert, AlertCallback, AlertSink
from dagstorm.run.events import Alert as AlertEvent
from dagstorm.run.events import Log, LogLevel
from dagstorm.run.journal import RunJournal
from dagstorm.stack.endpoints import Stack

#: The Airflow Variable the pipeline reads the sink's URL from (pipelines/dags/…/settings.py).
SINK_VARIABLE = "dagstorm_alert_sink_url"
#: Seconds each Variable call may take.
TIMEOUT_S = 10.0

Say = Callable[[str, str], None]


@dataclass
class AlertRoute:
    """A started sink, and the Variable value it replaced (None: the Variable was not changed)."""

    sink: AlertSink
    replaced: str | None = None

    def stop(self, stack: Stack, say: Say) -> None:
        """Stop the sink; point the Variable back if it still points at this sink."""
        self.sink.stop()
        if self.replaced is None:
            return
        try:
            with api_client(stack) as client:
                api = VariableApi(client)
                if api.get_variable(SINK_VARIABLE, _request_timeout=TIMEOUT_S).value != (
                    self.sink.url
                ):
                    return  # another run points it at its own sink now
                body = VariableBody(key=SINK_VARIABLE, value=self.replaced)
                api.patch_variable(SINK_VARIABLE, body, _request_timeout=TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - the run's result does not depend on it
            say("warning", f"the alert sink Variable was not pointed back: {exc!r}"[:300])


def is_live_sink(url: str) -> bool:
    """True when ``url`` is a dagstorm alert sink that answers (another run's, say)."""
    try:
        response = httpx.get(url, timeout=2.0)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and "alerts received" in response.text


def open_sink(port: int, on_alert: AlertCallback) -> AlertSink:
    """A started sink on ``port``, or on a free port when ``port`` is taken."""
    sink = AlertSink(port, on_alert)
    try:
        sink.start()
    except DagstormError:
        sink = AlertSink(0, on_alert)
        sink.start()
    return sink


def start_route(stack: Stack, on_alert: AlertCallback, say: Say) -> AlertRoute | None:
    """Start the run's sink and point the pipeline's Variable at it (None: no sink)."""
    try:
        sink = open_sink(stack.alert_sink_port, on_alert)
    except DagstormError as exc:
        say("warning", f"no alert sink: {exc.render()}")
        return None
    route = AlertRoute(sink)
    if sink.port != stack.alert_sink_port:
        say("info", f"alert sink on port {sink.port} ({stack.alert_sink_port} is taken)")
    if not stack.declares("airflow"):
        return route
    try:
        with api_client(stack) as client:
            api = VariableApi(client)
            try:
                current = api.get_variable(SINK_VARIABLE, _request_timeout=TIMEOUT_S).value
            except NotFoundException:
                return route  # the pipeline under test does not post to dagstorm's sink
            if current != sink.url and current and is_live_sink(current):
                say("warning", f"alerts go to another run's sink ({current}); this run gets none")
            elif current != sink.url:
                body = VariableBody(key=SINK_VARIABLE, value=sink.url)
                api.patch_variable(SINK_VARIABLE, body, _request_timeout=TIMEOUT_S)
                route.replaced = current
                say("info", f"alerts now go to {sink.url} (Variable {SINK_VARIABLE})")
    except Exception as exc:  # noqa: BLE001 - alerts are then missed; the run goes on
        say("warning", f"the alert sink Variable was not set: {exc!r}"[:300])
    return route


def journal_say(journal: RunJournal) -> Say:
    """``say(level, message)`` as a ``log`` event of ``journal``."""

    def say(level: str, message: str) -> None:
        journal.emit(Log(level=cast(LogLevel, level), message=message))

    return say


def start_journal_route(stack: Stack, journal: RunJournal) -> AlertRoute | None:
    """:func:`start_route` with every alert an ``alert`` event of ``journal``."""

    def deliver(alert: Alert) -> None:
        journal.emit(
            AlertEvent(
                alert_kind=alert.kind,
                dag_id=alert.dag_id,
                task_id=alert.task_id,
                run_id=alert.run_id,
                try_number=alert.try_number,
                exception_class=alert.exception_class,
                time=alert.time.isoformat() if alert.time else None,
                received_at=alert.received_at,
            )
        )

    return start_route(stack, deliver, journal_say(journal))
