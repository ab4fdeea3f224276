"""``--metrics-port``: serve a live run's metrics over HTTP for Prometheus.

A thread follows the run's journal (:class:`dagstorm.run.follow.JournalFollower`)
into :class:`dagstorm.metrics.live.LiveMetrics`; prometheus-client's HTTP server
renders them on ``GET /metrics`` from a registry of their own (never the process's
global one). The server binds 127.0.0.1 unless ``--metrics-host`` says otherwise,
and it reads only the journal: the run never waits for a scrape.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from prometheus_client import CollectorRegistry, make_wsgi_app, start_http_server
from prometheus_client.core import Metric

from dagstorm.core.errors import UsageError
from dagstorm.metrics.live import LiveMetrics
from dagstorm.run.follow import JournalFollower

__all__ = ["MetricsAddress", "MetricsServer", "serve_metrics"]

#: How often the follower reads new journal lines.
FOLLOW_INTERVAL_S = 0.5


@dataclass(frozen=True)
class MetricsAddress:
    """Where to serve ``/metrics``."""

    port: int
    host: str = "127.0.0.1"


class MetricsServer:
    """The HTTP server of ``/metrics`` (serving once built) and the journal-following thread.

    ``journal`` returns the journal's path once the run has created it (None
    before): the run directory is only known when the run starts. Until then a
    scrape gets no samples.
    """

    def __init__(self, address: MetricsAddress, journal: Callable[[], Path | None]) -> None:
        self._journal = journal
        self._lock = threading.Lock()
        self._metrics: LiveMetrics | None = None
        self._follower: JournalFollower | None = None
        self._stop = threading.Event()
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self)
        try:
            self._http, self._http_thread = start_http_server(
                address.port, address.host, registry=registry
            )
        except OSError as exc:
            raise UsageError(
                f"cannot serve metrics on {address.host}:{address.port}: {exc.strerror}",
                where="--metrics-port",
                fix="choose a free port (or 0 for any)",
            ) from None
        # The library's app answers on every path; the endpoint keeps to /metrics.
        self._http.set_app(_only_metrics(make_wsgi_app(registry)))
        self._follow_thread = threading.Thread(
            target=self._follow_loop, name="metrics-follow", daemon=True
        )

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        return int(self._http.server_address[1])

    @property
    def host(self) -> str:
        """The bound address."""
        return str(self._http.server_address[0])

    def start(self) -> None:
        """Start following the journal."""
        self._follow_thread.start()

    def stop(self) -> None:
        """Stop serving and following; the port is free again when this returns."""
        self._stop.set()
        self._http.shutdown()
        self._http.server_close()
        self._http_thread.join(timeout=5)
        if self._follow_thread.is_alive():
            self._follow_thread.join(timeout=5)

    def poll(self) -> None:
        """Read what the journal gained since the last call."""
        path = self._journal()
        if path is None:
            return
        with self._lock:
            if self._metrics is None or self._follower is None or self._follower.path != path:
                self._follower = JournalFollower(path)
                self._metrics = LiveMetrics(path.parent)
            self._metrics.feed(self._follower.read())

    def collect(self) -> Iterable[Metric]:
        """The metric families as the journal holds them now (a collector, called per scrape)."""
        self.poll()
        with self._lock:
            return [] if self._metrics is None else list(self._metrics.collect())

    def _follow_loop(self) -> None:
        while not self._stop.wait(FOLLOW_INTERVAL_S):
            self.poll()


def _only_metrics(app: WSGIApplication) -> WSGIApplication:
    """``app`` on ``/metrics``, 404 elsewhere (prometheus-client answers on any path)."""

    def serve(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"only /metrics is served\n"]
        return app(environ, start_response)

    return serve


@contextmanager
def serve_metrics(runner: Any, address: MetricsAddress | None) -> Iterator[MetricsServer | None]:
    """Serve ``runner``'s journal while the block runs (nothing when ``address`` is None)."""
    if address is None:
        yield None
        return

    def journal() -> Path | None:
        current = getattr(runner, "journal", None)
        return None if current is None else Path(current.path)

    server = MetricsServer(address, journal)
    server.start()
    try:
        yield server
    finally:
        server.stop()
