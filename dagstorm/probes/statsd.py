"""Airflow's StatsD metrics, received on a loopback UDP port and summarised per interval.

Airflow sends ``name:value|type`` lines (``c`` counter, ``g`` gauge, ``ms``
timer). Per interval this probe emits one ``statsd`` event per metric of
interest: counters summed, gauges last value, timers count/p50/p95/max in
milliseconds (Airflow 3 sends timers in ms; percentiles by nearest rank,
``core.quantiles``). Memory is bounded: only the current interval's values of the
metrics of interest are kept.
"""

from __future__ import annotations

import socket
import threading
from collections import defaultdict
from typing import Any

from dagstorm.core.quantiles import quantile
from dagstorm.probes.base import Probe
from dagstorm.run.events import Statsd

#: Prefixes (after Airflow's ``airflow.`` prefix) of the metrics dagstorm keeps.
INTERESTING = (
    "scheduler.tasks.executable",
    "scheduler.tasks.starving",
    "scheduler.scheduler_loop_duration",
    "executor.open_slots",
    "executor.queued_tasks",
    "executor.running_tasks",
    "pool.open_slots",
    "pool.queued_slots",
    "pool.running_slots",
    "dagrun.schedule_delay",
    "dagrun.duration",
    "dag_processing.total_parse_time",
    "ti.start",
    "ti.finish",
    "ti_failures",
    "ti_successes",
    "scheduler_heartbeat",
)
MAX_TIMER_SAMPLES = 10_000


def parse_line(line: str, prefix: str = "airflow.") -> tuple[str, float, str] | None:
    """``airflow.x.y:12|ms|@0.5`` → (``x.y``, 12.0, ``ms``); None if not ours or malformed."""
    name, _, rest = line.partition(":")
    parts = rest.split("|")
    if len(parts) < 2 or not name.startswith(prefix):
        return None
    try:
        value = float(parts[0])
    except ValueError:
        return None
    metric = name.removeprefix(prefix)
    if not metric.startswith(INTERESTING):
        return None
    return metric, value, parts[1]


class StatsdProbe(Probe):
    """Listens on 127.0.0.1:``port`` (UDP) and emits interval summaries."""

    name = "statsd"

    def __init__(self, *args: Any, port: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.port = port
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._counters: dict[str, float] = defaultdict(float)
        self._gauges: dict[str, float] = {}
        self._timers: dict[str, list[float]] = defaultdict(list)
        self._reader: threading.Thread | None = None
        self.received = 0

    def setup(self) -> None:
        """Bind the UDP socket and start reading."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind(("127.0.0.1", self.port))
        except OSError as exc:
            sock.close()
            raise OSError(
                f"UDP port {self.port} is held ({exc.strerror}): another run receives the"
                " stack's StatsD metrics, so this run has none"
            ) from None
        sock.settimeout(0.5)
        self._sock = sock
        self._reader = threading.Thread(target=self._read, name="statsd-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                data = self._sock.recv(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            for line in data.decode("utf-8", "replace").splitlines():
                self.ingest(line)

    def ingest(self, line: str) -> None:
        """Account one StatsD line."""
        parsed = parse_line(line.strip())
        if parsed is None:
            return
        metric, value, kind = parsed
        with self._lock:
            self.received += 1
            if kind == "c":
                self._counters[metric] += value
            elif kind == "g":
                self._gauges[metric] = value
            elif kind in ("ms", "h") and len(self._timers[metric]) < MAX_TIMER_SAMPLES:
                self._timers[metric].append(value)

    def sample(self) -> None:
        """Emit and reset this interval's summaries."""
        with self._lock:
            counters, self._counters = dict(self._counters), defaultdict(float)
            gauges = dict(self._gauges)
            timers, self._timers = dict(self._timers), defaultdict(list)
        for metric, total in counters.items():
            self.journal.emit(Statsd(metric=metric, type="counter", value=total))
        for metric, value in gauges.items():
            self.journal.emit(Statsd(metric=metric, type="gauge", value=value))
        for metric, values in timers.items():
            if values:
                self.journal.emit(
                    Statsd(
                        metric=metric,
                        type="timer",
                        count=len(values),
                        p50_ms=quantile(values, 0.5),
                        p95_ms=quantile(values, 0.95),
                        max_ms=max(values),
                    )
                )

    def teardown(self) -> None:
        """Close the socket."""
        if self._sock is not None:
            self._sock.close()
        if self._reader is not None:
            self._reader.join(timeout=2)
