"""Record batches built from columns decode, with kafka-python's own reader, to the records."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from dagstorm.workloads.kafka.producer import BatchProducer, check_internals
from dagstorm.workloads.kafka.record_batch import PrebuiltRecords
from dagstorm.workloads.kafka.records import (
    MAX_SECTION_BYTES,
    KeyTable,
    build_batches,
    cut,
    put_varints,
    varint_sizes,
    zigzag,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka.errors import IllegalStateError
    from kafka.record.default_records import DefaultRecordBatch
    from kafka.record.util import encode_varint

KEYS = [str(i).encode() * (i % 3 + 1) for i in range(40)]


def _records(n: int, seed: int = 3, big: int | None = None) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    key_index = rng.integers(0, len(KEYS), n)
    lengths = rng.integers(0, 700, n).astype(np.int64)
    if big is not None:
        lengths[n // 2] = big
    values = [bytes(rng.integers(32, 127, int(k), dtype=np.uint8)) for k in lengths]
    partition = rng.integers(0, 5, n).astype(np.int32)
    return key_index, values, lengths, partition


def _decode(records: PrebuiltRecords) -> DefaultRecordBatch:
    records.close()
    return DefaultRecordBatch(bytes(records.buffer()))


def test_varints_are_kafkas_zigzag_varints() -> None:
    values = np.array([0, 1, -1, 63, -64, 64, 300, -300, 2**20, 2**31 - 1, -(2**31)])
    encoded = zigzag(values)
    sizes = varint_sizes(encoded)
    pos = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    buf = np.zeros(int(sizes.sum()), dtype=np.uint8)
    put_varints(buf, pos, encoded, sizes)
    expected = bytearray()
    for v in values.tolist():
        encode_varint(v, expected.append)
    assert buf.tobytes() == bytes(expected)


@pytest.mark.parametrize("codec", ["none", "gzip", "lz4", "zstd"])
def test_batches_decode_to_exactly_the_records_in_order_per_partition(codec: str) -> None:
    key_index, values, lengths, partition = _records(3000)
    batches = build_batches(
        KeyTable.of(KEYS), key_index, values, lengths, partition, limit=64 * 1024, codec=codec
    )
    covered: list[int] = []
    for batch in batches:
        batch.records.set_producer_state(42, 3, 1000, False)
        decoded = _decode(batch.records)
        assert decoded.validate_crc()
        assert (decoded.producer_id, decoded.producer_epoch, decoded.base_sequence) == (42, 3, 1000)
        records = list(decoded)
        assert [r.offset for r in records] == list(range(len(batch.index)))
        for record, i in zip(records, batch.index.tolist(), strict=True):
            assert (record.key, record.value) == (KEYS[key_index[i]], values[i])
            assert partition[i] == batch.partition
        # within a partition the records keep their order
        assert batch.index.tolist() == sorted(batch.index.tolist())
        covered.extend(batch.index.tolist())
    assert sorted(covered) == list(range(3000))


def test_sections_stay_within_the_limit_and_a_huge_record_gets_a_batch_of_its_own() -> None:
    key_index, values, lengths, partition = _records(2000, big=200_000)
    batches = build_batches(
        KeyTable.of(KEYS), key_index, values, lengths, partition, limit=50_000, codec="none"
    )
    for batch in batches:
        size = batch.records.size_in_bytes() - 61
        assert size <= 50_000 or len(batch.index) == 1
    assert any(len(b.index) == 1 and lengths[b.index[0]] == 200_000 for b in batches)


def test_the_limit_is_capped_below_the_brokers_default_message_size() -> None:
    key_index, values, lengths, partition = _records(6000)
    partition[:] = 0
    batches = build_batches(
        KeyTable.of(KEYS), key_index, values, lengths, partition, limit=10**8, codec="none"
    )
    assert len(batches) > 1
    assert all(b.records.size_in_bytes() - 61 <= MAX_SECTION_BYTES for b in batches)


def test_cut_groups_by_partition_and_splits_at_the_limit() -> None:
    parts = np.array([0, 0, 0, 1, 1, 2])
    sizes = np.array([40, 40, 40, 10, 10, 500])
    assert cut(parts, sizes, 100) == [(0, 0, 2), (0, 2, 3), (1, 3, 5), (2, 5, 6)]


def test_incompressible_records_go_uncompressed() -> None:
    rng = np.random.default_rng(1)
    values = [rng.bytes(500) for _ in range(50)]
    lengths = np.full(50, 500, dtype=np.int64)
    [batch] = build_batches(
        KeyTable.of(KEYS),
        np.zeros(50, dtype=np.int64),
        values,
        lengths,
        np.zeros(50, dtype=np.int32),
        limit=10**6,
        codec="lz4",
    )
    decoded = _decode(batch.records)
    assert decoded.compression_type == 0
    assert [r.value for r in decoded] == values


def test_the_producer_state_cannot_change_once_the_batch_is_closed() -> None:
    records = PrebuiltRecords(b"", 0)
    records.close()
    with pytest.raises(IllegalStateError):
        records.set_producer_state(1, 0, 0, False)
    assert records.is_full()
    records.append(0, None, b"x")  # full: refused by returning None (typed so), never raising


def test_a_producer_without_the_internals_is_refused_with_the_version_to_install() -> None:
    class Bare:
        _accumulator = object()
        _sender = object()

    with pytest.raises(RuntimeError, match=r"kafka-python==3\.0\.12"):
        check_internals(Bare())
    with pytest.raises(RuntimeError):
        BatchProducer(Bare())
