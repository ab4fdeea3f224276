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
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dagstorm import __version__
from dagstorm.clients.kafka import KafkaError
from dagstorm.run.clock import Clock
from dagstorm.run.events import Log, WorkloadDone, WorkloadStats
from dagstorm.run.journal import RunJournal
from dagstorm.run.rundir import RunDirectory
from dagstorm.workloads.base import Workload
from dagstorm.workloads.kafka.config import KafkaBurstConfig
from dagstorm.workloads.kafka.delivery import ACKED, UNSENT, Chunk, DeliveryTracker
from dagstorm.workloads.kafka.messages import MessageEncoder
from dagstorm.workloads.kafka.producer import ProducerFactory, abandon, make_producer
from dagstorm.workloads.kafka.records import Batch, build_batches
from dagstorm.workloads.kafka.retries import RetryCounter
from dagstorm.workloads.kafka.signal_sender import SignalSender
from dagstorm.workloads.kafka.stats import StatsWindow
from dagstorm.workloads.model.events import EventColumns
from dagstorm.workloads.sinks.ledger import KeyCounts, LedgerWriter
from dagstorm.workloads.source import EventSource

if TYPE_CHECKING:
    from dagstorm.plugin.context import RunContext
    from dagstorm.workloads.specs import KafkaBurstWorkload

#: Records per send call: small enough for the buffer bound, large enough to amortise.
CHUNK_ROWS = 8192


class KafkaBurst(Workload):
    """Produces generated ad events to Kafka; see the module docstring.

    Pausable: while paused it generates and sends nothing, but keeps settling
    deliveries and emitting its per-second stats; on resume the shape's clock goes
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
        #: The data producer (None between a failed replacement and the next try).
        self.producer: Any = None
        self._started = False
        self.signals = SignalSender(
            name,
            journal,
            clock,
            config=config,
            producer_factory=producer_factory,
            data_producer=lambda: self.producer,
            ledger_dir=self.ledger.directory,
            catalog=self.source.model.catalog,
            run_tag=run_tag,
        )
        #: Totals over the run.
        self.totals = dict.fromkeys(
            ("generated", "sent", "acked", "failed", "dropped", "signalled"), 0
        )
        self._bursting = False
        self._last_hour: int | None = None
        self._send_errors = 0

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
            producer = self.producer_factory()
        except Exception as exc:
            self.ledger.close()
            raise RuntimeError(f"no Kafka producer: {exc}") from exc
        self.producer, self._started = producer, True
        self.retries = RetryCounter(producer)
        try:
            partitions = producer.partitions_for(self.config.topic)
            if not partitions:
                raise RuntimeError(f"topic {self.config.topic} has no partitions")
            self.encoder = MessageEncoder(self.source.model.catalog, len(partitions))
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
                    self._flush(self.config.producer.request_timeout)
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
            self._send(hour_ms, events, counts=generated)
            self._housekeeping()
            return
        for start in range(0, len(events), CHUNK_ROWS):
            if self._stop.is_set():
                # Stopped mid-window: the rest was generated but never handed over.
                break
            self._send(hour_ms, events.take(np.arange(start, min(start + CHUNK_ROWS, len(events)))))
            self._housekeeping()

    def _send(self, hour_ms: int, events: EventColumns, counts: KeyCounts | None = None) -> None:
        """Hand ``events`` to the producer as record batches, within the buffer bound.

        ``counts`` are the ledger counts of ``events`` when the caller has them.
        """
        n = len(events)
        # Grouped by partition (each partition's records in their order) before they
        # are encoded, so the values need no reordering when batches are cut.
        partition = self.encoder.partitions(events)
        order = np.argsort(partition, kind="stable")
        events, partition = events.take(order), partition[order]
        values, lengths = self.encoder.value_column(events)
        size = int(lengths.sum())
        cfg = self.config.producer
        room = self.tracker.has_room(n, size) or (
            cfg.policy == "backpressure" and self.tracker.wait_for_room(n, size, cfg.block_timeout)
        )
        if not room:
            self.stats.dropped_records(n)
            self.totals["dropped"] += n
            return
        batches = build_batches(
            self.encoder.key_table,
            self.encoder.key_index(events),
            values,
            lengths,
            partition,
            limit=cfg.batch_size,
            codec=cfg.compression,
        )
        queued = self._enqueue(batches)
        index = np.concatenate([i for _, i in queued]) if queued else np.zeros(0, np.int64)
        accepted = len(index)
        written: KeyCounts | None = None
        if accepted == n:
            written = counts if counts is not None else self.ledger.count(hour_ms, events)
        elif accepted:
            written = self.ledger.count(hour_ms, events.take(np.sort(index)))
        if written is not None:
            self.ledger.add(hour_ms, written, "written")
        chunk = Chunk(
            hour_ms,
            events,
            partition,
            int(lengths[index].sum()),
            counts=written if accepted == n else None,
        )
        self.stats.sent(accepted, chunk.value_bytes)
        self.totals["sent"] += accepted
        self.totals["failed"] += n - accepted
        self.tracker.track(chunk, queued, time.monotonic())

    def _enqueue(self, batches: list[Batch]) -> list[tuple[Any, np.ndarray]]:
        """Queue ``batches`` on the producer; the (future, record positions) of those queued."""
        producer = self._live_producer()
        queued: list[tuple[Any, np.ndarray]] = []
        if producer is None:
            return queued
        topic = self.config.topic
        try:
            for batch in batches:
                future = producer.enqueue(topic, batch.partition, batch.records)
                queued.append((future, batch.index))
        except KafkaError as exc:
            self._send_error(exc)
        if queued:
            producer.wakeup()
        return queued

    def _live_producer(self) -> Any:
        """The data producer, made anew if the last replacement failed (None: cannot be made)."""
        if self.producer is None:
            try:
                self.producer = self.producer_factory()
            except Exception as exc:  # noqa: BLE001 - counted as a send error; tried again later
                self._send_error(exc)
                return None
            self.retries = RetryCounter(self.producer)
        return self.producer

    def _send_error(self, exc: BaseException) -> None:
        self._send_errors += 1
        if self._send_errors <= 5 or self._send_errors % 100 == 0:
            failed = f"send failed ({self._send_errors})"
            self.journal.emit(
                Log(level="warning", message=f"workload {self.name}: {failed}: {exc!r}"[:500])
            )

    # -- accounting -----------------------------------------------------------------

    def _housekeeping(self) -> None:
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
        old, unknown = self.producer, self.tracker.in_flight_records
        self._settle(self.tracker.give_up())
        abandon(old)
        self.producer = None
        if self._live_producer() is None:
            return  # the next send tries again
        self.journal.emit(
            Log(
                level="warning",
                message=f"workload {self.name}: producer stalled; {unknown} records in flight "
                "counted as failed, producer replaced",
            )
        )

    def _emit_stats(self, now: float) -> None:
        self.stats.retries(self.retries.delta())
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

    def _flush(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for every record handed over to be settled."""
        if self.producer is None:
            return self.tracker.open_chunks == 0
        try:
            self.producer.flush(timeout=timeout)
        except KafkaError:
            return False
        return self.tracker.open_chunks == 0

    def _signal(self, why: str) -> None:
        """Send the completion signals due (see :class:`SignalSender`); count what they cover."""
        self.totals["signalled"] += self.signals.send(why)

    def _finish(self) -> None:
        """Settle what can be, count the rest as unknown, signal, close everything."""
        try:
            if self._started:
                self._flush(self.config.producer.close_timeout)
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
