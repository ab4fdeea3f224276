"""The landing-zone generator: an event source written as hourly partitions, with a ledger.

Library entry points (the CLI and scenario workloads call these):

- :class:`~dagstorm.workloads.config.GeneratorConfig`: what to generate and where to land;
- :class:`AdLogGenerator`: ``advance_to(sim_seconds)`` generates and writes every
  batch window that ends by then and closes finished hours with ``_SUCCESS``;
  ``run(clock, duration_s)`` paces that on a clock; ``close()`` finishes;
- the clock is the run's one clock (:mod:`dagstorm.run.clock`: ``WallClock``, ``FakeClock``).

Output depends only on the config (seed included), never on how time advances.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagstorm import __version__
from dagstorm.run.clock import Clock, simulated
from dagstorm.workloads.config import GeneratorConfig, LandingConfig
from dagstorm.workloads.encoding.jsonl import mean_record_bytes
from dagstorm.workloads.encoding.tables import SCHEMA
from dagstorm.workloads.model.events import EventColumns
from dagstorm.workloads.model.schedule import Window
from dagstorm.workloads.model.schema import Label
from dagstorm.workloads.pause import PauseGate
from dagstorm.workloads.sinks.landing import LandingWriter, write_marker
from dagstorm.workloads.sinks.ledger import LedgerWriter
from dagstorm.workloads.sinks.partition import PartitionWriter
from dagstorm.workloads.source import EventSource

#: The configs are defined in :mod:`config` (cheap to import); re-exported here.
__all__ = ["AdLogGenerator", "BatchResult", "GeneratorConfig", "LandingConfig"]


@dataclass(frozen=True)
class BatchResult:
    """What one batch produced (for journal stats)."""

    window: Window
    records: int
    bytes: int
    labels: tuple[int, ...]


def landing_writer(landing: LandingConfig, *, replace: bool = False) -> LandingWriter:
    """The landing writer a config asks for (part size, fsync, page-cache drop).

    ``replace``: it writes whole partitions, emptying each of an earlier run's files.
    """
    return LandingWriter(
        landing.root,
        fmt=landing.format,
        part_max_bytes=landing.part_max_bytes,
        fsync=landing.fsync,
        drop_cache=landing.drop_cache,
        parquet_schema=SCHEMA,
        replace=replace,
    )


def marker_extra(seed: int) -> dict[str, Any]:
    """The generator's fields in every ``_SUCCESS`` marker."""
    return {"seed": seed, "generator": f"dagstorm {__version__}"}


def ledger_info(config: GeneratorConfig) -> dict[str, Any]:
    """The run's fields in the ledger's ``summary.json``."""
    plan = config.rate_plan(mean_record_bytes(config.model))
    info: dict[str, Any] = {
        "seed": config.seed,
        "format": config.landing.format,
        "generator": f"dagstorm {__version__}",
        "rate": plan.describe(),
    }
    if config.shape is not None:
        info["shape"] = config.shape.model_dump(mode="json")
    if config.skew is not None:
        info["skew"] = config.skew.model_dump(mode="json")
    return info


class AdLogGenerator:
    """Generates ad logs into the landing zone, with a ground-truth ledger.

    Not thread-safe: one thread calls ``advance_to``/``run``/``close``.
    """

    def __init__(self, config: GeneratorConfig, *, ledger_dir: Path) -> None:
        self.config = config
        self.source = EventSource(config)
        self.model = self.source.model
        self.plan = self.source.plan
        self.writer = landing_writer(config.landing, replace=True)
        info = ledger_info(config)
        if self.model.skew is not None:  # the hot key values drawn from the seed too
            info["skew"] = self.model.skew.describe()
        self.ledger = LedgerWriter(ledger_dir, self.model.catalog, info=info)
        self.partition = PartitionWriter(self.writer, self.model.catalog, self.ledger)
        self._hour_start_ms: int | None = None
        self._hour_end_ms = 0
        #: Totals so far: lines handed to the landing writer, bytes in its part files.
        self.records = 0
        self.bytes = 0
        self.closed = False

    @property
    def sim_seconds(self) -> float:
        """Simulated seconds generated so far (the end of the last window)."""
        return self.source.sim_seconds

    def advance_to(
        self, sim_seconds: float, *, max_batches: int | None = None
    ) -> list[BatchResult]:
        """Generate and write every window ending by ``sim_seconds``; finish complete hours."""
        if self.closed:
            raise RuntimeError("generator is closed")
        results: list[BatchResult] = []
        for window, events in self.source.batches(sim_seconds, max_batches=max_batches):
            results.append(self._write(window, events))
            if self.source.next_window.hour_ms != window.hour_ms:
                self._finish_hour(window.hour_ms)
        return results

    def _write(self, window: Window, events: EventColumns) -> BatchResult:
        hour = window.hour_ms
        if self._hour_start_ms is None:
            self._hour_start_ms = window.start_ms
            self.writer.begin(hour)
        self._hour_end_ms = window.end_ms
        if not len(events):
            return BatchResult(window, 0, 0, (0,) * len(Label))
        records, size, labels = self.partition.write(hour, events)
        self.records += records
        self.bytes += size
        return BatchResult(window, records, size, tuple(labels))

    def _finish_hour(self, hour: int) -> None:
        assert self._hour_start_ms is not None
        before = self.writer.bytes_written
        parts = self.partition.release(hour)
        # Parquet writes its footer and the drift side parts only now.
        self.bytes += max(0, self.writer.bytes_written - before)
        marker = write_marker(
            self.writer.root,
            hour,
            parts,
            fmt=self.writer.fmt,
            window=(self._hour_start_ms, self._hour_end_ms),
            extra=marker_extra(self.config.seed),
            fsync=self.writer.fsync,
        )
        self._hour_start_ms = None
        self.ledger.flush(hour, marker=marker)

    def run(
        self,
        clock: Clock,
        duration_s: float,
        *,
        stop: threading.Event | None = None,
        poll_wall_seconds: float = 0.2,
        gate: PauseGate | None = None,
    ) -> None:
        """Generate in step with ``clock`` until ``duration_s`` simulated seconds or ``stop``.

        Simulated time is ``clock.elapsed() * clock.compression`` (:mod:`dagstorm.run.clock`);
        its compression should be the config's ``time_compression``. When
        generation falls behind it catches up in bursts of at most 256 batches, so
        ``stop`` is seen promptly. With a ``gate``, a pause blocks generation and the
        paused span is not generated (the data's clock lags by the pauses).
        """
        never = threading.Event()
        while stop is None or not stop.is_set():
            if gate is not None:
                gate.wait(stop or never)
            lag = gate.paused_seconds * clock.compression if gate is not None else 0.0
            now = simulated(clock) - lag
            self.advance_to(min(now, duration_s), max_batches=256)
            next_end = (self.source.next_window.end_ms - self.source.start_ms) / 1000.0
            if next_end > duration_s:
                break
            if next_end > now:
                clock.sleep(poll_wall_seconds)

    def close(self, *, finish_partial: bool = True) -> None:
        """Finish the partition in progress (or drop it) and complete the ledger."""
        if self.closed:
            return
        hour = self.writer.open_hour
        if hour is not None and finish_partial:
            self._finish_hour(hour)
        elif hour is not None:
            self.writer.abort()
        self.ledger.close()
        self.closed = True
