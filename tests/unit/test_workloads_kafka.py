"""The kafka_burst workload without a broker: config, stats, signals, buffer policy, ledger."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from dagstorm.clients.kafka import KafkaTimeoutError
from dagstorm.run.clock import FakeClock
from dagstorm.run.journal import RunJournal, read_journal
from dagstorm.scenarios.model import Scenario
from dagstorm.workloads.kafka.burst import KafkaBurst
from dagstorm.workloads.kafka.config import KafkaBurstConfig
from dagstorm.workloads.kafka.record_batch import PrebuiltRecords
from dagstorm.workloads.kafka.signal import AckedRanges, contiguous_runs
from dagstorm.workloads.kafka.stats import StatsWindow
from dagstorm.workloads.sinks.ledger import load_ledger
from dagstorm.workloads.specs import KafkaBurstWorkload

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka.producer.future import FutureProduceResult, FutureRecordMetadata
    from kafka.record.default_records import DefaultRecordBatch
    from kafka.structs import TopicPartition


# -- config -----------------------------------------------------------------------


def _scenario(workload: dict[str, Any]) -> Scenario:
    return Scenario.model_validate(
        {"name": "k", "duration": 60, "workloads": [{"kind": "kafka_burst", **workload}]}
    )


def test_a_kafka_burst_spec_parses_human_rates_and_timeouts() -> None:
    spec = _scenario({"rate": "50k events/s", "scale": "1/10", "producer": {"block_timeout": "5s"}})
    workload = spec.workloads[0]
    assert isinstance(workload, KafkaBurstWorkload)
    assert workload.rate.per_second == 50_000 and workload.scale == pytest.approx(0.1)
    assert workload.producer.block_timeout == 5.0
    kwargs = workload.producer.kafka_kwargs()
    assert kwargs["acks"] == "all" and kwargs["enable_idempotence"] is True


@pytest.mark.parametrize(
    ("workload", "message"),
    [
        ({"producer": {"compression": "snappy"}}, "compression"),
        ({"producer": {"policy": "retry"}}, "policy"),
        ({"topic": "bad topic"}, "topic"),
        ({"control_topic": "ad_events"}, "control_topic must differ"),
        ({"producer": {"request_timeout": 30, "delivery_timeout": 10}}, "delivery_timeout"),
        ({"seed": 3}, "set once for the whole scenario"),
        ({"max_records": 0}, "max_records"),
        ({"producr": {}}, "producr"),
    ],
)
def test_bad_kafka_burst_specs_are_refused_with_the_reason(
    workload: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        _scenario(workload)


# -- stats and signals ---------------------------------------------------------------


def test_a_window_counts_each_batch_latency_by_its_records() -> None:
    window = StatsWindow(0.0)
    window.settled(1, ok=True, latency_ms=10.0)
    window.settled(98, ok=True, latency_ms=20.0)
    window.settled(1, ok=True, latency_ms=30.0)
    snap = window.close(1.0)
    assert (snap.p50_ms, snap.p99_ms) == (20.0, 20.0)


def test_a_stats_window_reports_its_interval_and_starts_anew() -> None:
    window = StatsWindow(10.0)
    window.sent(100, 40_000)
    window.settled(60, ok=True, latency_ms=5.0)
    window.settled(40, ok=True, latency_ms=50.0)
    window.settled(7, ok=False)
    window.dropped_records(3)
    window.retries(2)
    snap = window.close(11.5)
    assert (snap.records, snap.bytes, snap.acked, snap.failed) == (100, 40_000, 100, 7)
    assert (snap.dropped, snap.retried, snap.interval_s) == (3, 2, 1.5)
    assert (snap.p50_ms, snap.p99_ms) == (5.0, 50.0)
    empty = window.close(12.5)
    assert (empty.records, empty.acked, empty.p50_ms, empty.interval_s) == (0, 0, None, 1.0)


def test_contiguous_runs_split_at_gaps() -> None:
    assert contiguous_runs(np.array([5, 3, 4, 9, 10, 4])) == [(3, 6), (9, 11)]
    assert contiguous_runs(np.array([], dtype=np.int64)) == []


def test_signals_hold_only_acked_offsets_and_records_equal_their_ranges() -> None:
    ranges = AckedRanges()
    ranges.add(np.array([0, 0, 0, 2, 2]), np.array([10, 11, 12, 0, 1]))
    ranges.add(np.array([0, 0, 2]), np.array([15, 16, 2]))  # 13-14 failed: a gap
    ids = iter(["a", "b", "c"])
    signals = ranges.cut("ad_events", lambda: next(ids))
    assert [s.signal_id for s in signals] == ["a", "b"]
    assert signals[0].ranges == {"0": (10, 13), "2": (0, 3)}
    assert signals[1].ranges == {"0": (15, 17)}
    assert sum(s.records for s in signals) == ranges.records == 8
    assert signals[0].message()["records"] == 6


# -- the workload with a fake producer ----------------------------------------------------


class FakeProducer:
    """Takes whole record batches (decoded to check them), resolved when the test says."""

    def __init__(self, *, partitions: int = 3, accept: int | None = None) -> None:
        self.n_partitions = partitions
        self.accept = accept  # raise KafkaTimeoutError once this many records were taken
        self.pending: list[tuple[int, FutureProduceResult]] = []
        self.size: dict[int, int] = {}
        self.next_offset = dict.fromkeys(range(partitions), 0)
        self.sent: list[tuple[str, bytes, bytes | None, int]] = []
        self.on_flush: Callable[[FakeProducer], None] = lambda p: p.ack_all()
        self.closed_with: float | None = None
        self.wakeups = 0

    def partitions_for(self, topic: str) -> set[int]:
        return set(range(self.n_partitions))

    def send(self, topic: str, value: bytes, key: bytes | None = None) -> Any:
        """The control topic: acknowledged at once."""
        future = FutureProduceResult(TopicPartition(topic, 0))
        record = FutureRecordMetadata(future, 0, -1, None, 0, len(value), -1)
        future.success((0, -1, None))
        self.sent.append((topic, value, key, 0))
        return record

    def enqueue(self, topic: str, partition: int, records: PrebuiltRecords) -> FutureProduceResult:
        taken = len([s for s in self.sent if s[0] == topic])
        if self.accept is not None and taken >= self.accept:
            raise KafkaTimeoutError("buffer full")
        assert topic == "ad_events" and 0 <= partition < self.n_partitions
        records.close()
        batch = DefaultRecordBatch(bytes(records.buffer()))
        decoded = list(batch)
        assert (
            [r.offset for r in decoded]
            == list(range(len(decoded)))
            == list(range(records.next_offset()))
        )
        self.sent.extend((topic, r.value, r.key, partition) for r in decoded)
        produce = FutureProduceResult(TopicPartition(topic, partition))
        self.pending.append((partition, produce))
        self.size[id(produce)] = len(decoded)
        return produce

    def wakeup(self) -> None:
        self.wakeups += 1

    def resolve(self, which: Callable[[int], bool]) -> None:
        """Ack batch number i (in creation order) when ``which(i)``, else fail it."""
        for i, (part, produce) in enumerate(self.pending):
            if which(i):
                base = self.next_offset[part]
                self.next_offset[part] += self.size[id(produce)]
                produce.success((base, -1, None))
            else:
                produce.failure(KafkaTimeoutError("expired"))
        self.pending = []

    def ack_all(self) -> None:
        self.resolve(lambda i: True)

    def flush(self, timeout: float | None = None) -> None:
        self.on_flush(self)

    def close(self, timeout: float | None = None) -> None:
        self.closed_with = timeout


def _workload(
    tmp_path: Path, fake: FakeProducer, **config: Any
) -> tuple[KafkaBurst, FakeClock, RunJournal]:
    clock = FakeClock()
    journal = RunJournal(tmp_path / "journal.jsonl", clock)
    cfg = KafkaBurstConfig.model_validate(
        {"rate": "10k events/s", "max_records": 3000, "seed": 5, "batch_rows": 1000, **config}
    )
    workload = KafkaBurst(
        "kb",
        journal,
        clock,
        config=cfg,
        producer_factory=lambda: fake,
        ledger_dir=tmp_path / "ledger" / "kafka",
        run_tag="t",
    )
    return workload, clock, journal


def _run(workload: KafkaBurst, clock: FakeClock) -> None:
    """Run to the end in this thread: the fake clock advances only when the loop waits."""
    workload.run()


def _events(journal: RunJournal, kind: str) -> list[dict[str, Any]]:
    journal.close()
    return [e for e in read_journal(journal.path) if e["kind"] == kind]


@pytest.mark.parametrize("encode_workers", [0, 1])
def test_the_ledger_counts_as_acked_exactly_the_records_of_acknowledged_batches(
    tmp_path: Path, encode_workers: int
) -> None:
    producer = FakeProducer()
    producer.on_flush = lambda p: p.resolve(lambda i: i % 4 != 1)  # a quarter of batches fail
    workload, clock, journal = _workload(
        tmp_path, producer, producer={"encode_workers": encode_workers}
    )
    _run(workload, clock)
    ledger = load_ledger(tmp_path / "ledger" / "kafka")
    sent = len([s for s in producer.sent if s[0] == "ad_events"])
    acked_offsets = sum(producer.next_offset.values())
    assert int(ledger["generated"].sum()) == 3000 == sent == int(ledger["written"].sum())
    assert int(ledger["acked"].sum()) == acked_offsets == workload.totals["acked"]
    assert 0 < acked_offsets < 3000
    assert workload.totals["failed"] == 3000 - acked_offsets
    signals = _events(journal, "kafka_signal")
    assert sum(s["records"] for s in signals) == acked_offsets
    assert all(s["ok"] for s in signals)


def test_records_whose_delivery_is_unknown_at_the_end_are_failed_not_acked(
    tmp_path: Path,
) -> None:
    producer = FakeProducer()
    producer.on_flush = lambda p: None  # the broker never answers
    workload, clock, journal = _workload(tmp_path, producer, producer={"close_timeout": 1})
    _run(workload, clock)
    ledger = load_ledger(tmp_path / "ledger" / "kafka")
    assert int(ledger["acked"].sum()) == 0 and workload.totals["failed"] == 3000
    assert producer.closed_with == 0  # nothing may be delivered after the ledger is final
    done = _events(journal, "workload_done")[0]
    assert done["acked"] == 0 and done["signalled"] == 0


@pytest.mark.parametrize("encode_workers", [0, 1])
def test_the_drop_policy_drops_and_counts_what_does_not_fit(
    tmp_path: Path, encode_workers: int
) -> None:
    producer = FakeProducer()
    producer.on_flush = lambda p: p.ack_all()
    workload, clock, journal = _workload(
        tmp_path,
        producer,
        batch_rows=500,
        producer={
            "policy": "drop",
            "max_in_flight_records": 600,
            "encode_workers": encode_workers,
        },
    )
    _run(workload, clock)  # nothing settles before the final flush: the buffer stays full
    totals = workload.totals
    assert totals["dropped"] > 0
    assert totals["generated"] == totals["sent"] + totals["dropped"] == 3000
    ledger = load_ledger(tmp_path / "ledger" / "kafka")
    assert int(ledger["written"].sum()) == totals["sent"] == int(ledger["acked"].sum())
    stats = _events(journal, "workload_stats")
    assert sum(e["dropped"] for e in stats) == totals["dropped"]


def test_back_pressure_waits_a_bounded_time_then_drops(tmp_path: Path) -> None:
    producer = FakeProducer()
    workload, clock, _ = _workload(
        tmp_path,
        producer,
        batch_rows=500,
        producer={"policy": "backpressure", "max_in_flight_records": 600, "block_timeout": 0.05},
    )
    _run(workload, clock)
    assert workload.totals["dropped"] > 0
    assert workload.totals["sent"] + workload.totals["dropped"] == 3000


@pytest.mark.parametrize("encode_workers", [0, 2])
def test_a_send_timeout_counts_the_unsent_rest_as_failed(
    tmp_path: Path, encode_workers: int
) -> None:
    producer = FakeProducer(accept=1234)
    workload, clock, journal = _workload(
        tmp_path, producer, producer={"encode_workers": encode_workers}
    )
    _run(workload, clock)
    ledger = load_ledger(tmp_path / "ledger" / "kafka")
    taken = len([s for s in producer.sent if s[0] == "ad_events"])
    assert 1234 <= taken < 3000  # whole batches are taken until the producer refuses
    assert int(ledger["written"].sum()) == taken == int(ledger["acked"].sum())
    assert workload.totals["failed"] == 3000 - taken
    assert any("send failed" in e["message"] for e in _events(journal, "log"))


@pytest.mark.parametrize("encode_workers", [0, 1])
def test_messages_are_json_records_keyed_by_campaign(tmp_path: Path, encode_workers: int) -> None:
    import orjson

    producer = FakeProducer()
    workload, clock, _ = _workload(
        tmp_path, producer, max_records=200, producer={"encode_workers": encode_workers}
    )
    _run(workload, clock)
    by_campaign: dict[bytes, set[int]] = {}
    for topic, value, key, partition in producer.sent:
        if topic != "ad_events":
            continue
        record = orjson.loads(value)
        assert not value.endswith(b"\n")
        assert key == str(record["campaign_id"]).encode()
        by_campaign.setdefault(key, set()).add(partition)
    assert all(len(parts) == 1 for parts in by_campaign.values())


def test_one_signal_per_burst_although_late_events_trickle_between_bursts(
    tmp_path: Path,
) -> None:
    producer = FakeProducer()
    workload, clock, journal = _workload(
        tmp_path,
        producer,
        rate="2k events/s",
        max_records=100_000,
        max_duration=30,
        batch_rows=500,
        shape={"kind": "square", "period": 10, "high": 1, "low": 0, "duty": 0.5},
    )
    _run(workload, clock)
    reasons = [s["reason"] for s in _events(journal, "kafka_signal")]
    assert reasons.count("burst end") == 3  # bursts end at 5 s, 15 s and 25 s
    assert reasons[-1] == "end"


def test_each_cut_of_signals_has_a_ledger_of_exactly_the_acked_counts_it_covers(
    tmp_path: Path,
) -> None:
    from dagstorm.analysis.rundata.signal_cuts import read_signal_cuts

    producer = FakeProducer()
    producer.on_flush = lambda p: p.resolve(lambda i: i % 5 != 2)
    workload, clock, journal = _workload(
        tmp_path,
        producer,
        rate="2k events/s",
        max_records=100_000,
        max_duration=30,
        batch_rows=500,
        shape={"kind": "square", "period": 10, "high": 1, "low": 0, "duty": 0.5},
    )
    _run(workload, clock)
    cuts = read_signal_cuts(tmp_path / "ledger" / "kafka")
    signals = {s["signal_id"]: s["records"] for s in _events(journal, "kafka_signal")}
    assert {i for c in cuts for i in c.signal_ids} == set(signals)
    for cut in cuts:
        assert (
            int(cut.ledger["acked"].sum()) == cut.records == sum(signals[i] for i in cut.signal_ids)
        )
    total = load_ledger(tmp_path / "ledger" / "kafka")
    assert sum(c.records for c in cuts) == int(total["acked"].sum()) == workload.totals["acked"]


class RefusingControl(FakeProducer):
    """The control topic refuses the first ``refuse`` signals; a closed producer sends nothing."""

    def __init__(self, refuse: int) -> None:
        super().__init__()
        self.refuse = refuse
        self.closed = False

    def send(self, topic: str, value: bytes, key: bytes | None = None) -> Any:
        if self.refuse:
            self.refuse -= 1
            raise KafkaTimeoutError("control topic unavailable")
        return super().send(topic, value, key)

    def enqueue(self, topic: str, partition: int, records: PrebuiltRecords) -> FutureProduceResult:
        if self.closed:
            raise KafkaTimeoutError("producer closed")
        return super().enqueue(topic, partition, records)

    def close(self, timeout: float | None = None) -> None:
        self.closed = True
        super().close(timeout)


def test_a_refused_signal_is_sent_again_with_its_id_and_the_data_producer_stays_open(
    tmp_path: Path,
) -> None:
    producer = RefusingControl(refuse=1)  # one producer for data and signals
    workload, clock, journal = _workload(
        tmp_path,
        producer,
        rate="2k events/s",
        max_records=100_000,
        max_duration=30,
        batch_rows=500,
        shape={"kind": "square", "period": 10, "high": 1, "low": 0, "duty": 0.5},
    )
    _run(workload, clock)
    events = _events(journal, "kafka_signal")
    first = events[0]
    assert not first["ok"] and "control topic unavailable" in first["error"]
    again = [e for e in events[1:] if e["signal_id"] == first["signal_id"]]
    assert [e["ok"] for e in again] == [True] and again[0]["records"] == first["records"]
    assert {e["signal_id"] for e in events} == {e["signal_id"] for e in events if e["ok"]}
    done = _events(journal, "workload_done")[0]
    assert done["unsignalled"] == 0 and done["failed"] == 0  # the data producer was not closed
    assert done["signalled"] == done["acked"] == workload.totals["acked"] > 0


class PromptProducer(FakeProducer):
    """Acknowledges every batch as soon as it is queued."""

    def enqueue(self, topic: str, partition: int, records: PrebuiltRecords) -> Any:
        future = super().enqueue(topic, partition, records)
        self.ack_all()
        return future


def test_a_stalled_producer_is_replaced_and_its_pending_records_count_as_failed(
    tmp_path: Path,
) -> None:
    wedged = FakeProducer()
    wedged.on_flush = lambda p: None  # neither acks nor fails: wedged
    fresh = PromptProducer()
    made = iter([wedged, fresh, fresh])
    clock = FakeClock()
    journal = RunJournal(tmp_path / "journal.jsonl", clock)
    config = KafkaBurstConfig.model_validate(
        {
            "rate": "10k events/s",
            "max_records": 60_000,
            "seed": 5,
            "batch_rows": 500,
            "signal": {"on_burst_end": False},
            "producer": {"request_timeout": 0.05, "delivery_timeout": 0.1, "linger_ms": 0},
        }
    )
    workload = KafkaBurst(
        "kb",
        journal,
        clock,
        config=config,
        producer_factory=lambda: next(made),
        ledger_dir=tmp_path / "ledger" / "kafka",
        run_tag="t",
    )
    workload.run()
    logs = [e["message"] for e in _events(journal, "log")]
    assert any("producer stalled" in m for m in logs), logs
    stuck = len([s for s in wedged.sent if s[0] == "ad_events"])
    acked = sum(fresh.next_offset.values())
    assert stuck > 0 and acked > 0
    ledger = load_ledger(tmp_path / "ledger" / "kafka")
    assert int(ledger["acked"].sum()) == acked == workload.totals["acked"]
    assert workload.totals["failed"] == stuck
    assert wedged.closed_with == 0


class ResumingClock(FakeClock):
    """Resumes ``workload`` once fake time reaches ``at`` (the engine's resume)."""

    def __init__(self, at: float) -> None:
        super().__init__()
        self.at = at
        self.workload: KafkaBurst | None = None

    def wait(self, event: Any, seconds: float) -> bool:
        done = super().wait(event, seconds)
        if self.workload is not None and self.workload.paused and self.elapsed() >= self.at:
            self.workload.resume()
        return done


def test_a_paused_burst_sends_nothing_keeps_reporting_and_resumes_on_schedule(
    tmp_path: Path,
) -> None:
    producer = FakeProducer()
    clock = ResumingClock(at=10.0)
    journal = RunJournal(tmp_path / "journal.jsonl", clock)
    cfg = KafkaBurstConfig.model_validate(
        {"rate": "10k events/s", "max_records": 3000, "seed": 5, "batch_rows": 1000}
    )
    workload = KafkaBurst(
        "kb",
        journal,
        clock,
        config=cfg,
        producer_factory=lambda: producer,
        ledger_dir=tmp_path / "ledger" / "kafka",
        run_tag="t",
    )
    clock.workload = workload
    sent_at: list[float] = []
    enqueue = producer.enqueue

    def timed_enqueue(*args: Any, **kwargs: Any) -> Any:
        sent_at.append(clock.elapsed())
        return enqueue(*args, **kwargs)

    producer.enqueue = timed_enqueue  # type: ignore[method-assign]
    assert KafkaBurst.pausable
    workload.pause()
    workload.run()
    assert not workload.paused
    assert min(sent_at) >= 10.0  # nothing left while paused
    assert workload.totals["generated"] == 3000 == workload.totals["acked"]
    stats = _events(journal, "workload_stats")
    assert any(e["t"] < 10.0 for e in stats)  # the per-second stats went on while paused


def test_a_failed_encoding_worker_fails_the_workload_and_its_chunks_are_never_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concurrent.futures import Future

    from dagstorm.workloads.kafka import encode_pool

    real = encode_pool.EncodePool.submit
    submitted: list[int] = []

    def submit(self: Any, events: Any) -> Any:
        submitted.append(len(events))
        if len(submitted) == 2:  # the second chunk's worker dies
            failed: Future[Any] = Future()
            failed.set_exception(OSError("worker died"))
            return failed
        return real(self, events)

    monkeypatch.setattr(encode_pool.EncodePool, "submit", submit)
    producer = FakeProducer()
    workload, _clock, journal = _workload(
        tmp_path, producer, batch_rows=500, producer={"encode_workers": 1}
    )
    with pytest.raises(RuntimeError, match="encoding worker failed: OSError"):
        workload.run()
    totals = workload.totals
    taken = len([s for s in producer.sent if s[0] == "ad_events"])
    assert taken == totals["sent"] == submitted[0]  # only the first chunk reached Kafka
    assert totals["generated"] > totals["sent"] + totals["failed"] + totals["dropped"]
    ledger = load_ledger(tmp_path / "ledger" / "kafka")
    assert int(ledger["written"].sum()) == taken == int(ledger["acked"].sum())
    assert _events(journal, "workload_done")[0]["sent"] == taken
