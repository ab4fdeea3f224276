"""The ``kafka_burst`` workload: ad events produced to Kafka in bursts, with exact ground truth.

The event source is the landing generator's (same model, seed, rate, scale and
shape semantics); each event becomes one JSON message keyed by campaign.
Every wall interval a ``workload_stats`` event reports records, bytes, acked,
failed, dropped, retried and ack latency p50/p99. The ledger (``ledger/kafka/``)
counts per key what was generated, handed to the producer (``written``) and
acknowledged (``acked``, from delivery callbacks only). After each burst (and/or
every N records or seconds) a completion signal with the acked offset ranges
goes to the control topic and a ``kafka_signal`` event to the journal.

Bounded: ``max_records`` generated, ``max_duration`` wall seconds, a bounded
in-flight buffer (policy drop or back-pressure with a timeout), a timeout on
every producer call. At the end, records whose delivery is still unknown after
``close_timeout`` count as failed, and the producer is closed without waiting,
so nothing is delivered after the ledger was written.

The hand-over to the producer (encoding, the buffer bound, record batches, a
producer made anew) is :class:`~dagstorm.workloads.kafka.record_sender.RecordSender`'s;
this module runs the loop and settles deliveries into the ledger and the signals.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dagstorm import __version__
from dagstorm.run.clock import Clock
from dagstorm.run.events import Log, WorkloadDone, WorkloadStats
from dagstorm.run.journal import RunJournal
from dagstorm.run.rundir import RunDirectory
from dagstorm.workloads.base import Workload
from dagstorm.workloads.kafka.config import KafkaBurstConfig
from dagstorm.workloads.kafka.delivery import ACKED, UNSENT, Chunk, DeliveryTracker
from dagstorm.workloads.kafka.producer import ProducerFactory, abandon, make_producer
from dagstorm.workloads.kafka.record_sender import RecordSender
from dagstorm.workloads.kafka.signal_sender import SignalSender
from dagstorm.workloads.kafka.stats import StatsWindow
from dagstorm.workloads.model.events import EventColumns
from dagstorm.workloads.sinks.ledger import LedgerWriter
from dagstorm.workloads.source import EventSource

if TYPE_CHECKING:
    from dagstorm.plugin.context import RunContext
    from dagstorm.workloads.specs import KafkaBurstWorkload

#: Records per send call: small enough for the buffer bound, large enough to amortise.
CHUNK_ROWS = 8192


class KafkaBurst(Workload):
    """Produces generated ad events to Kafka; see the module docstring.

    Pausable: while paused it generates and sends nothing (chunks its encode pool
    already had are still handed over), but keeps settling deliveries and emitting
    its per-second stats; on resume the shape's clock goes
    on from where it stopped (the pause is left out of the schedule and of
    ``max_duration``).
    """

    pausable = True

    def __init__(
        self,
        name: str,
        journal: RunJournal,
        clock: Clock,
        *,
        config: KafkaBurstConfig,
        producer_factory: ProducerFactory,
        ledger_dir: Path,
        run_tag: str,
        interval: float = 1.0,
    ) -> None:
        super().__init__(name, journal, clock)
        self.config = config
        self.producer_factory = producer_factory
        self.interval = interval
        self.run_tag = run_tag
        self.source = EventSource(config)
        info = {
            "seed": config.seed,
            "format": "kafka",
            "topic": config.topic,
            "generator": f"dagstorm {__version__}",
            "rate": self.source.plan.describe(),
        }
        self.ledger = LedgerWriter(ledger_dir, self.source.model.catalog, info=info, kafka=True)
        self.stats = StatsWindow(clock.elapsed())
        producer_cfg = config.producer
        self.tracker = DeliveryTracker(
            self.stats,
            max_records=producer_cfg.max_in_flight_records,
            max_bytes=producer_cfg.max_in_flight_bytes,
        )
        #: Totals over the run.
        self.totals = dict.fromkeys(
            ("generated", "sent", "acked", "failed", "dropped", "signalled"), 0
        )
        self.sender = RecordSender(
            name,
            journal,
            config=config,
            producer_factory=producer_factory,
            tracker=self.tracker,
            stats=self.stats,
            ledger=self.ledger,
            totals=self.totals,
        )
        self._started = False
        self.signals = SignalSender(
            name,
            journal,
            clock,
            config=config,
            producer_factory=producer_factory,
            data_producer=lambda: self.sender.producer,
            ledger_dir=self.ledger.directory,
            catalog=self.source.model.catalog,
            run_tag=run_tag,
        )
        self._bursting = False
        self._last_hour: int | None = None

    @property
    def producer(self) -> Any:
        """The data producer (None between a failed replacement and the next try)."""
        return self.sender.producer

    @classmethod
    def from_spec(cls, spec: KafkaBurstWorkload, ctx: RunContext) -> KafkaBurst:
        """Build from the scenario (seed and compression from its top level)."""
        source = spec.model_dump(exclude={"kind", "name"})
        source.update(seed=ctx.seed, time_compression=ctx.compression)
        config = KafkaBurstConfig.model_validate(source)
        bootstrap = ctx.stack.endpoint("kafka")
        return cls(
            spec.name,
            ctx.journal,
            ctx.clock,
            config=config,
            producer_factory=lambda: make_producer(config, bootstrap),
            ledger_dir=RunDirectory(ctx.run_dir).kafka_ledger,
            run_tag=ctx.run_dir.name.split("-")[0].lower(),
        )

    # -- the loop -----------------------------------------------------------------

    def run(self) -> None:
        """Generate, send, account — until stopped or a bound is reached; then settle."""
        try:
            self.sender.open()
        except RuntimeError:
            self.ledger.close()
            raise
        self._started = True
        try:
            self.sender.connect(self.source.model.catalog)
            self._loop()
        finally:
            self._finish()

    def _bounded(self, started: float) -> bool:
        limit = self.config.max_duration
        over_time = limit is not None and self.clock.elapsed() - started >= limit
        return over_time or self.totals["generated"] >= self.config.max_records

    def _loop(self) -> None:
        started = self.clock.elapsed()
        compression = self.clock.compression
        while not self._stop.is_set() and not self._bounded(started):
            if self.paused:
                started += self._hold()
                continue
            sim = (self.clock.elapsed() - started) * compression
            for window, events in self.source.batches(sim, max_batches=8):
                if self._stop.is_set() or self._bounded(started):
                    break
                # A burst ends when the shape's rate drops to 0 (no new impressions; late
                # clicks and conversions still trickle in and go with the next burst).
                was_bursting, self._bursting = self._bursting, window.count > 0
                if was_bursting and not self._bursting and self.config.signal.on_burst_end:
                    self.sender.flush(self.config.producer.request_timeout)
                    self._settle()
                    self._signal("burst end")
                self._window(window.hour_ms, events)
                self._housekeeping()
            self._housekeeping()
            self.clock.wait(self._stop, 0.05)

    def _hold(self) -> float:
        """Settle deliveries and emit stats while paused; the wall seconds it lasted."""
        began = self.clock.elapsed()
        while self.paused and not self._stop.is_set():
            self._housekeeping()
            self.clock.wait(self._stop, 0.05)
        return self.clock.elapsed() - began

    def _window(self, hour_ms: int, events: EventColumns) -> None:
        left = self.config.max_records - self.totals["generated"]
        if len(events) > left:
            events = events.take(np.arange(left))
        if not len(events):
            return
        if self._last_hour is not None and hour_ms != self._last_hour:
            self.ledger.flush(self._last_hour)
        self._last_hour = hour_ms
        generated = self.ledger.count(hour_ms, events)
        self.ledger.add(hour_ms, generated, "generated")
        self.totals["generated"] += len(events)
        if len(events) <= CHUNK_ROWS:
            self.sender.send(hour_ms, events, counts=generated)
            self._housekeeping()
            return
        for start in range(0, len(events), CHUNK_ROWS):
            if self._stop.is_set():
                # Stopped mid-window: the rest was generated but never handed over.
                break
            self.sender.send(
                hour_ms, events.take(np.arange(start, min(start + CHUNK_ROWS, len(events))))
            )
            self._housekeeping()

    # -- accounting -----------------------------------------------------------------

    def _housekeeping(self) -> None:
        self.sender.poll()  # chunks the encode pool finished go to the producer
        self._settle()
        timeouts = self.config.producer
        if self.tracker.stalled(timeouts.delivery_timeout + timeouts.request_timeout):
            self._replace_producer()
        now = self.clock.elapsed()
        if now - self.stats_started >= self.interval:
            self._emit_stats(now)
        if (why := self.signals.due(now)) is not None:
            self._signal(why)

    @property
    def stats_started(self) -> float:
        """Start of the current stats window (wall seconds)."""
        return self.stats.started

    def _settle(self, chunks: list[Chunk] | None = None) -> None:
        for chunk in self.tracker.pop_settled() if chunks is None else chunks:
            acked = chunk.status == ACKED
            n_acked = int(np.count_nonzero(acked))
            self.totals["acked"] += n_acked
            self.totals["failed"] += chunk.records - n_acked - chunk.count(UNSENT)
            if not n_acked:
                continue
            if n_acked < chunk.records:
                counts = self.ledger.count(chunk.hour_ms, chunk.events.take(acked))
            elif chunk.counts is not None:  # every record acked: the whole chunk's counts
                counts = chunk.counts
            else:
                counts = self.ledger.count(chunk.hour_ms, chunk.events)
            self.ledger.add(chunk.hour_ms, counts, "acked")
            self.signals.acked(chunk.hour_ms, counts, chunk.partition[acked], chunk.offset[acked])

    def _replace_producer(self) -> None:
        """Replace a wedged producer: its pending records count as unknown (failed).

        A producer whose batches neither succeed nor fail past their delivery timeout
        is wedged (kafka-python's idempotent producer can be, after a broker restart).
        It is closed without waiting, so its records can never be delivered later.
        """
        unknown = self.tracker.in_flight_records
        self._settle(self.tracker.give_up())
        if not self.sender.replace():
            return  # the next send tries again
        self.journal.emit(
            Log(
                level="warning",
                message=f"workload {self.name}: producer stalled; {unknown} records in flight "
                "counted as failed, producer replaced",
            )
        )

    def _emit_stats(self, now: float) -> None:
        self.stats.retries(self.sender.retries.delta())
        snap = self.stats.close(now)
        self.journal.emit(
            WorkloadStats(
                workload=self.name,
                workload_kind="kafka_burst",
                topic=self.config.topic,
                **snap.event_fields(),
                in_flight=self.tracker.in_flight_records,
                sim_generated_s=round(self.source.sim_seconds, 1),
            )
        )

    def _signal(self, why: str) -> None:
        """Send the completion signals due (see :class:`SignalSender`); count what they cover."""
        self.totals["signalled"] += self.signals.send(why)

    def _finish(self) -> None:
        """Settle what can be, count the rest as unknown, signal, close everything."""
        try:
            if self._started:
                self.sender.flush(self.config.producer.close_timeout)
                self._settle()
                unknown = self.tracker.open_chunks
                self._settle(self.tracker.give_up())
                # Abandon what is left now: nothing may be delivered after it was counted.
                if self.producer is not None:
                    abandon(self.producer)
                if unknown:
                    self.journal.emit(
                        Log(
                            level="warning",
                            message=f"workload {self.name}: delivery unknown for {unknown}"
                            " chunk(s) at the end; counted as failed",
                        )
                    )
                self._signal("end")
                self.totals["signalled"] += self.signals.retry(self.config.producer.close_timeout)
                self._emit_stats(self.clock.elapsed())
        finally:
            self.sender.close()
            if self._last_hour is not None:
                self.ledger.flush(self._last_hour)
            self.ledger.close()
            self.signals.close()
            if self.producer is not None:
                abandon(self.producer)  # a no-op when already closed
            self.journal.emit(
                WorkloadDone(
                    workload=self.name,
                    workload_kind="kafka_burst",
                    topic=self.config.topic,
                    **self.totals,
                    unsignalled=self.signals.unsent_records,
                )
            )
