"""The alert sink: a small HTTP server on loopback that receives the pipeline's alerts.

The reference pipeline's callbacks (task retry, task failure, missed deadline,
rejected signal) POST one JSON object each to ``http://127.0.0.1:<port>/alerts``
(the Airflow Variable ``dagstorm_alert_sink_url``, set by the deploy step). The
sink checks the request (path, size, a JSON object with a ``kind``), hands an
:class:`Alert` to a callback (whose errors are logged, never raised into the server)
and only then answers 202, so an acknowledged alert is always in the record.
Payload fields: pipelines/dags/ad_pipeline/alerts.py.

Example::

    received: list[Alert] = []
    with AlertSink(port=8127, on_alert=received.append) as sink:
        ...  # sink.url is what the Variable points at
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from dagstorm.core.errors import ServiceUnreachableError

log = logging.getLogger(__name__)

#: Largest request body accepted, in bytes.
MAX_BODY_BYTES = 64 * 1024
#: Seconds a client may take to send its request.
REQUEST_TIMEOUT = 5.0
ALERTS_PATH = "/alerts"


@dataclass(frozen=True)
class Alert:
    """One alert as received."""

    kind: str
    dag_id: str | None
    task_id: str | None
    run_id: str | None
    try_number: int | None
    exception_class: str | None
    #: When it happened, as the sender says (ISO-8601), parsed if it could be.
    time: datetime | None
    #: Wall-clock time of receipt (``time.time()``).
    received_at: float
    #: The whole payload, as sent.
    payload: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], received_at: float) -> Alert:
        """Build from a decoded JSON object; raises ValueError if ``kind`` is missing."""
        kind = payload.get("kind")
        if not isinstance(kind, str) or not kind:
            raise ValueError("an alert needs a non-empty string `kind`")

        def text(name: str) -> str | None:
            value = payload.get(name)
            return str(value) if value is not None else None

        try_number = payload.get("try_number")
        moment: datetime | None = None
        if isinstance(payload.get("time"), str):
            try:
                moment = datetime.fromisoformat(payload["time"])
            except ValueError:
                moment = None
        return cls(
            kind=kind,
            dag_id=text("dag_id"),
            task_id=text("task_id"),
            run_id=text("run_id"),
            try_number=try_number if isinstance(try_number, int) else None,
            exception_class=text("exception_class"),
            time=moment,
            received_at=received_at,
            payload=dict(payload),
        )


AlertCallback = Callable[[Alert], None]


class _Handler(BaseHTTPRequestHandler):
    """POST /alerts → 202; anything else → 4xx. One JSON object per request."""

    server: _SinkServer
    timeout = REQUEST_TIMEOUT
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("alert sink: " + format, *args)

    def _answer(self, status: HTTPStatus, message: str = "") -> None:
        body = json.dumps({"status": status.value, "message": message}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        """GET /alerts answers with the count received (a liveness probe)."""
        if self.path.split("?", 1)[0] != ALERTS_PATH:
            self._answer(HTTPStatus.NOT_FOUND, "no such path")
            return
        self._answer(HTTPStatus.OK, f"{self.server.sink.received} alerts received")

    def do_POST(self) -> None:
        """Receive one alert."""
        sink = self.server.sink
        if self.path.split("?", 1)[0] != ALERTS_PATH:
            self._answer(HTTPStatus.NOT_FOUND, f"POST alerts to {ALERTS_PATH}")
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._answer(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required")
            return
        if length < 0 or length > MAX_BODY_BYTES:
            sink.count_rejected()
            self._answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"at most {MAX_BODY_BYTES} bytes")
            return
        raw = self.rfile.read(length)
        try:
            payload = json.loads(raw)
            if not isinstance(payload, dict):
                raise ValueError("the body must be a JSON object")
            alert = Alert.from_payload(payload, time.time())
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            sink.count_rejected()
            self._answer(HTTPStatus.BAD_REQUEST, str(exc)[:200])
            return
        # Counted and handed on before the 202: a sender that has its answer knows the alert
        # is in the run's record (a run that stops right after cannot miss it).
        sink.count_received()
        sink.deliver(alert)
        self._answer(HTTPStatus.ACCEPTED, "accepted")


class _SinkServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sink: AlertSink) -> None:
        super().__init__(address, _Handler)
        self.sink = sink


class AlertSink:
    """An HTTP alert receiver on loopback, served from a background thread."""

    def __init__(self, port: int, on_alert: AlertCallback, *, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self.on_alert = on_alert
        self._server: _SinkServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._received = 0
        self._rejected = 0

    @property
    def url(self) -> str:
        """Where alerts are posted."""
        return f"http://{self.host}:{self.port}{ALERTS_PATH}"

    @property
    def received(self) -> int:
        """Alerts accepted so far."""
        return self._received

    @property
    def rejected(self) -> int:
        """Requests refused (bad JSON, no kind, too large)."""
        return self._rejected

    def count_rejected(self) -> None:
        """Count one refused request."""
        with self._lock:
            self._rejected += 1

    def count_received(self) -> None:
        """Count one accepted alert (before its 202 goes out)."""
        with self._lock:
            self._received += 1

    def deliver(self, alert: Alert) -> None:
        """Hand an alert to the callback; its errors are logged, not raised."""
        try:
            self.on_alert(alert)
        except Exception:
            log.exception("alert callback failed for %s", alert.kind)

    def start(self) -> None:
        """Bind and serve in a daemon thread (port 0 picks a free port)."""
        if self._server is not None:
            return
        try:
            server = _SinkServer((self.host, self.port), self)
        except OSError as exc:
            raise ServiceUnreachableError(
                f"the alert sink cannot listen: {exc.strerror}",
                where=f"{self.host}:{self.port}",
                fix="free the port or set ports.alert_sink in the stack config",
            ) from None
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="alert-sink",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
