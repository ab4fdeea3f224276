"""``--metrics-port``: serve a live run's metrics over HTTP for Prometheus.

A thread follows the run's journal (:class:`dagstorm.run.follow.JournalFollower`)
into :class:`dagstorm.metrics.live.LiveMetrics`; ``GET /metrics`` renders them.
The server binds 127.0.0.1 unless ``--metrics-host`` says otherwise, and it reads
only the journal: the run never waits for a scrape.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from dagstorm.core.errors import UsageError
from dagstorm.metrics.exposition import CONTENT_TYPE, render
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
    """An HTTP server for ``/metrics`` and the thread that follows the journal.

    ``journal`` returns the journal's path once the run has created it (None
    before): the run directory is only known when the run starts.
    """

    def __init__(self, address: MetricsAddress, journal: Callable[[], Path | None]) -> None:
        self._journal = journal
        self._lock = threading.Lock()
        self._metrics: LiveMetrics | None = None
        self._follower: JournalFollower | None = None
        self._stop = threading.Event()
        try:
            self._http = ThreadingHTTPServer((address.host, address.port), self._handler())
        except OSError as exc:
            raise UsageError(
                f"cannot serve metrics on {address.host}:{address.port}: {exc.strerror}",
                where="--metrics-port",
                fix="choose a free port (or 0 for any)",
            ) from None
        self._http.daemon_threads = True
        self._threads = [
            threading.Thread(target=self._http.serve_forever, name="metrics-http", daemon=True),
            threading.Thread(target=self._follow_loop, name="metrics-follow", daemon=True),
        ]

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        return int(self._http.server_address[1])

    @property
    def host(self) -> str:
        """The bound address."""
        return str(self._http.server_address[0])

    def start(self) -> None:
        """Start serving and following."""
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop both threads (a last read first, so the final state is served until then)."""
        self._stop.set()
        self._http.shutdown()
        self._http.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def poll(self) -> None:
        """Read what the journal gained since the last call."""
        path = self._journal()
        if path is None:
            return
        with self._lock:
            if self._follower is None or self._follower.path != path:
                self._follower = JournalFollower(path)
                self._metrics = LiveMetrics(path.parent)
            self._metrics.feed(self._follower.read())  # type: ignore[union-attr]

    def exposition(self) -> str:
        """The current metrics as exposition text."""
        self.poll()
        with self._lock:
            if self._metrics is None:
                return "# dagstorm: the run has not started yet\n"
            return render(self._metrics.families())

    def _follow_loop(self) -> None:
        while not self._stop.wait(FOLLOW_INTERVAL_S):
            self.poll()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404, "only /metrics is served")
                    return
                body = server.exposition().encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return  # scrapes every few seconds would flood the run's output

        return Handler


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
