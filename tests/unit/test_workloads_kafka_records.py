"""Record batches built from columns decode, with kafka-python's own reader, to the records."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from dagstorm.workloads.kafka.producer import BatchProducer, check_internals
from dagstorm.workloads.kafka.record_batch import HEADER_SIZE, PrebuiltRecords
from dagstorm.workloads.kafka.records import (
    MAX_SECTION_BYTES,
    KeyTable,
    build_batches,
    cut,
    put_varint_columns,
    varint_sizes,
    zigzag,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka.codec import lz4_decode
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
    rows = np.full((len(values), int(sizes.max()) + 1), 0xEE, dtype=np.uint8)
    put_varint_columns(rows, encoded)
    for v, row, size in zip(values.tolist(), rows, sizes.tolist(), strict=True):
        expected = bytearray()
        encode_varint(v, expected.append)
        assert row[:size].tobytes() == bytes(expected)


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


@pytest.mark.parametrize("sort", [False, True])
def test_an_arrow_column_of_values_gives_the_same_batches_as_bytes(sort: bool) -> None:
    key_index, values, lengths, partition = _records(2500, seed=8)
    if sort:  # already grouped by partition: nothing is reordered
        order = np.argsort(partition, kind="stable")
        key_index, lengths, partition = key_index[order], lengths[order], partition[order]
        values = [values[i] for i in order.tolist()]
    column = pa.array([v.decode() for v in values], type=pa.string()).slice(0)
    keys = KeyTable.of(KEYS)
    from_bytes = build_batches(
        keys, key_index, values, lengths, partition, limit=40_000, codec="none"
    )
    from_arrow = build_batches(
        keys, key_index, column, lengths, partition, limit=40_000, codec="none"
    )
    assert len(from_bytes) == len(from_arrow) > 1
    for a, b in zip(from_bytes, from_arrow, strict=True):
        a.records.close()
        b.records.close()
        assert a.partition == b.partition and a.index.tolist() == b.index.tolist()
        assert bytes(a.records.buffer())[HEADER_SIZE:] == bytes(b.records.buffer())[HEADER_SIZE:]
    if sort:
        assert np.concatenate([b.index for b in from_arrow]).tolist() == list(range(2500))


def test_a_sliced_arrow_column_is_read_from_its_offset() -> None:
    key_index, values, lengths, partition = _records(300, seed=9)
    column = pa.array([b"junk", *values, b"more"], type=pa.binary()).slice(1, 300)
    batches = build_batches(
        KeyTable.of(KEYS), key_index, column, lengths, partition, limit=10**6, codec="lz4"
    )
    for batch in batches:
        decoded = [r.value for r in _decode(batch.records)]
        assert decoded == [values[i] for i in batch.index.tolist()]


def test_lz4_sections_are_one_kafka_lz4_frame_with_blocks_of_up_to_1_mib() -> None:
    key_index, _, lengths, partition = _records(3000, seed=4)
    values = [b'{"n":%d,"pad":"%s"}' % (i, b"x" * (i % 300)) for i in range(3000)]
    lengths = np.array([len(v) for v in values], dtype=np.int64)
    partition[:] = 0
    [batch, *_] = build_batches(
        KeyTable.of(KEYS), key_index, values, lengths, partition, limit=10**6, codec="lz4"
    )
    batch.records.close()
    frame = bytes(batch.records.buffer())[HEADER_SIZE:]
    assert frame[:4] == b"\x04\x22\x4d\x18"  # the LZ4 frame magic
    flags, descriptor = frame[4], frame[5]
    assert flags >> 6 == 1  # version 01
    assert flags & 0x20  # independent blocks: Kafka refuses dependent ones
    assert not flags & 0x10 and not flags & 0x04  # no block or content checksum
    assert (descriptor >> 4) & 7 == 6  # 1 MiB blocks (Kafka takes 4..7: 64 KiB..4 MiB)
    section = lz4_decode(frame)
    block_size = int.from_bytes(frame[7 + 8 * bool(flags & 0x08) :][:4], "little") & 0x7FFFFFFF
    assert len(section) > 64 * 1024 and block_size < len(section)  # one compressed block
    assert [r.value for r in _decode(batch.records)] == [values[i] for i in batch.index]
