"""Completion signals on their way: cut, ledgered, sent to the control topic, re-sent.

The ``kafka_burst`` workload hands every acknowledged record's offset and counts
to :class:`SignalSender` as it settles. When a signal is due (a burst ended,
``every_records`` acked records, ``every`` seconds, the end of the run) the
offsets collected are cut into signals (:class:`~dagstorm.workloads.kafka.signal.AckedRanges`),
the acked counts they cover are written as their own small ledger
(``ledger/kafka/signals/cut-NNNNN/``), and every pending signal goes to the control
topic on a producer of its own. A signal the control topic does not acknowledge
stays pending and is re-sent with the same id; every attempt is journaled as a
``kafka_signal`` event.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from dagstorm.core.polling import poll_until
from dagstorm.run.clock import Clock
from dagstorm.run.events import KafkaSignal
from dagstorm.run.journal import RunJournal
from dagstorm.run.rundir import RunDirectory
from dagstorm.workloads.kafka.config import KafkaBurstConfig
from dagstorm.workloads.kafka.producer import ProducerFactory, abandon
from dagstorm.workloads.kafka.signal import AckedRanges, Signal
from dagstorm.workloads.sinks.ledger import KeyCounts, LedgerWriter

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np

    from dagstorm.workloads.model.catalog import Catalog

#: Seconds between two attempts of :meth:`SignalSender.retry`.
_RETRY_INTERVAL_S = 1.0


class SignalSender:
    """The completion signals of one ``kafka_burst`` workload; see the module docstring.

    ``data_producer`` returns the workload's data producer (or None): a factory may
    hand out one producer for both, and the data producer is never closed here.
    """

    def __init__(
        self,
        name: str,
        journal: RunJournal,
        clock: Clock,
        *,
        config: KafkaBurstConfig,
        producer_factory: ProducerFactory,
        data_producer: Callable[[], Any],
        ledger_dir: Path,
        catalog: Catalog,
        run_tag: str,
    ) -> None:
        self.name = name
        self.journal = journal
        self.clock = clock
        self.config = config
        self.producer_factory = producer_factory
        self.data_producer = data_producer
        self.ledger_dir = ledger_dir
        self.catalog = catalog
        self.run_tag = run_tag
        self.ranges = AckedRanges()
        self._unsent: list[Signal] = []
        #: Acked counts since the last cut of signals (see :meth:`_write_cut`).
        self._cut_counts: list[tuple[int, KeyCounts]] = []
        self._cuts = 0
        self._producer: Any = None
        self._signals = 0
        self._last_sent = clock.elapsed()

    @property
    def unsent_records(self) -> int:
        """Records covered by signals not acknowledged yet."""
        return sum(s.records for s in self._unsent)

    def acked(
        self, hour_ms: int, counts: KeyCounts, partition: np.ndarray, offset: np.ndarray
    ) -> None:
        """Collect acknowledged records: their counts and offsets (parallel arrays)."""
        self._cut_counts.append((hour_ms, counts))
        self.ranges.add(partition, offset)

    def due(self, now: float) -> str | None:
        """Why a signal is due at wall time ``now`` (``records``, ``interval``), or None."""
        cfg = self.config.signal
        if cfg.every_records is not None and self.ranges.records >= cfg.every_records:
            return "records"
        if cfg.every is not None and now - self._last_sent >= cfg.every:
            return "interval"
        return None

    def send(self, why: str) -> int:
        """Send every pending signal, then new ones for the acked ranges collected.

        Returns the records covered by the signals the control topic acknowledged.
        """
        self._last_sent = self.clock.elapsed()
        control = self.config.control_topic
        if control is None:
            self.ranges.clear()
            self._cut_counts = []
            return 0
        fresh = self.ranges.cut(self.config.topic, self._next_signal_id)
        self.ranges.clear()
        if fresh:
            self._write_cut(fresh)
        pending, self._unsent = [*self._unsent, *fresh], []
        signalled = 0
        for signal in pending:
            ok, error = self._send_signal(control, signal)
            if ok:
                signalled += signal.records
            else:
                self._unsent.append(signal)
            self.journal.emit(
                KafkaSignal(
                    workload=self.name,
                    signal_id=signal.signal_id,
                    topic=signal.topic,
                    control_topic=control,
                    ranges={p: list(r) for p, r in signal.ranges.items()},
                    records=signal.records,
                    reason=why,
                    ok=ok,
                    error=error,
                )
            )
        return signalled

    def retry(self, budget: float) -> int:
        """Re-send unacknowledged signals (same ids) for at most ``budget`` wall seconds.

        Returns the records covered by the signals acknowledged meanwhile.
        """
        signalled = 0

        def all_sent() -> bool | None:
            nonlocal signalled
            if self._unsent:
                signalled += self.send("retry")
            return True if not self._unsent else None

        poll_until(all_sent, timeout=budget, interval=_RETRY_INTERVAL_S)
        return signalled

    def close(self) -> None:
        """Close the signal producer without waiting (not the data producer)."""
        producer, self._producer = self._producer, None
        if producer is not None and producer is not self.data_producer():
            abandon(producer)

    def _write_cut(self, signals: list[Signal]) -> None:
        """The acked counts the ``signals`` of one cut cover, as their own small ledger.

        ``ledger/kafka/signals/cut-NNNNN/`` (same format, ``acked`` only; the summary
        names the signal ids): the analysis leaves out the cuts still being served
        when the run ended (in flight, not lost).
        """
        self._cuts += 1
        info = {
            "signal_ids": [s.signal_id for s in signals],
            "records": sum(s.records for s in signals),
        }
        directory = self.ledger_dir / RunDirectory.SIGNAL_LEDGERS / f"cut-{self._cuts:05d}"
        cut = LedgerWriter(directory, self.catalog, info=info, kafka=True)
        for hour_ms, counts in self._cut_counts:
            cut.add(hour_ms, counts, "acked")
        cut.close()
        self._cut_counts = []

    def _send_signal(self, control: str, signal: Signal) -> tuple[bool, str | None]:
        """Send one signal on the signal producer; a failure discards that producer.

        Signals have their own producer: after an outage the data producer may be
        left in an error state (expired idempotent batches), and a signal must
        still get through once the broker is back.
        """
        timeout = self.config.producer.request_timeout
        try:
            if self._producer is None:
                self._producer = self.producer_factory()
            future = self._producer.send(control, orjson.dumps(signal.message()))
            future.get(timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - any failure leaves the signal pending
            self.close()
            return False, repr(exc)[:300]
        return True, None

    def _next_signal_id(self) -> str:
        self._signals += 1
        return f"{self.config.signal.prefix}-{self.name}-{self.run_tag}-{self._signals}"
