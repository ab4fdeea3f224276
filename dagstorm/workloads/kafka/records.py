"""Kafka record batches (message format v2) built from columns, without a per-record loop.

kafka-python appends one record at a time (varints encoded in Python, one future
per record): ~30 µs a record, a third of what one process must reach for the 2
TB/day rate. Here a chunk's records are laid out at once: the small per-record
fields (length, attributes, timestamp and offset deltas, key, value length) are
written as one "meta" column by vectorised varint encoding (numpy), and Arrow
joins each record's meta, value and header count into one buffer in C++ — no
Python object per record. A batch's records section is then a slice of that
buffer, compressed without a copy. The wire format is the one kafka-python's own
reader decodes (tests check it):

    record  := varint length, int8 attributes (0), varint timestamp delta (0),
               varint offset delta, varint key length, key,
               varint value length, value, varint header count (0)

Varints are zig-zag encoded. Every record of a batch has the batch's timestamp
(delta 0): what a producer sending them at one instant would give them.

:func:`build_batches` cuts a chunk into batches (one partition each, a bounded
size) and wraps each records section in a
:class:`~dagstorm.workloads.kafka.record_batch.PrebuiltRecords`, the batch
kafka-python's sender sends.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dagstorm.workloads.kafka.record_batch import PrebuiltRecords

#: A records section never exceeds this many (uncompressed) bytes: with the header it
#: stays under the broker's and kafka-python's default 1 MiB limits even uncompressed,
#: so no batch is ever split by the producer (a split batch loses its batch future).
MAX_SECTION_BYTES = 1_000_000


def zigzag(values: np.ndarray) -> np.ndarray:
    """Zig-zag encoding of signed integers (``(v << 1) ^ (v >> 63)``), as uint64."""
    v = values.astype(np.int64)
    return ((v << 1) ^ (v >> 63)).astype(np.uint64)


def varint_sizes(encoded: np.ndarray) -> np.ndarray:
    """Bytes each (already zig-zag encoded) value takes as a varint (1-10)."""
    sizes = np.ones(len(encoded), dtype=np.int64)
    for bits in range(7, 64, 7):
        above = encoded >= np.uint64(1 << bits)
        if not above.any():
            break
        sizes += above
    return sizes


def put_varint_columns(out: np.ndarray, encoded: np.ndarray) -> None:
    """Write each (zig-zag encoded) value's varint bytes in its row of ``out``.

    Row ``i``'s first ``varint_sizes(encoded)[i]`` bytes are its varint; the rest
    of the row is padding (never read). ``out`` must be wide enough for the largest.
    """
    part = encoded.astype(np.uint64)
    for k in range(out.shape[1]):
        rest = part >> np.uint64(7)
        out[:, k] = (part & np.uint64(0x7F)) | ((rest > 0).astype(np.uint64) << np.uint64(7))
        part = rest


@dataclass(frozen=True)
class KeyTable:
    """Keys drawn from a small set: their bytes (zero-padded rows) and lengths."""

    data: np.ndarray  # uint8, (keys, widest)
    lengths: np.ndarray  # int64, (keys,)

    @classmethod
    def of(cls, keys: list[bytes]) -> KeyTable:
        """The table of ``keys`` (row i is ``keys[i]``)."""
        width = max((len(k) for k in keys), default=0)
        data = np.zeros((len(keys), max(width, 1)), dtype=np.uint8)
        for i, key in enumerate(keys):
            data[i, : len(key)] = np.frombuffer(key, dtype=np.uint8)
        return cls(data, np.array([len(k) for k in keys], dtype=np.int64))


#: The byte that ends every record: its header count (0, as a varint).
_HEADER_COUNT = pa.scalar(b"\x00", type=pa.binary())


class _PaddedRows:
    """Rows of fields each padded to a fixed width: the real bytes, row by row, are a stream."""

    def __init__(self, n: int, width: int) -> None:
        self.data = np.zeros((n, width), dtype=np.uint8)
        self.used = np.ones((n, width), dtype=bool)
        self._col = 0

    def field(self, width: int, sizes: np.ndarray | None = None) -> np.ndarray:
        """The next ``width`` columns (to write into); row ``i`` uses ``sizes[i]`` of them."""
        cols = slice(self._col, self._col + width)
        self._col += width
        if sizes is not None and sizes.size and int(sizes.min()) < width:
            np.less(np.arange(width), sizes[:, None], out=self.used[:, cols])
        view: np.ndarray = self.data[:, cols]
        return view

    def stream(self) -> np.ndarray:
        """The used bytes of every row, in row order."""
        out: np.ndarray = self.data[self.used]
        return out


def record_metas(
    keys: KeyTable, key_index: np.ndarray, value_lengths: np.ndarray, deltas: np.ndarray
) -> pa.BinaryArray:
    """Each record's bytes before its value, as one Arrow binary array.

    Record ``i``'s meta is its length, attributes, timestamp delta, offset delta,
    key length, key and value length; the record is its meta, its value, then its
    header count (one 0 byte).
    """
    key_len = keys.lengths[key_index]
    z_delta, z_key, z_val = zigzag(deltas), zigzag(key_len), zigzag(value_lengths)
    s_delta, s_key, s_val = varint_sizes(z_delta), varint_sizes(z_key), varint_sizes(z_val)
    body = _body_size(s_delta, s_key + key_len, s_val + value_lengths)
    z_body = zigzag(body)
    s_body = varint_sizes(z_body)
    n = len(value_lengths)
    widest = [int(f.max()) if n else 0 for f in (s_body, s_delta, s_key, s_val)]
    key_width = keys.data.shape[1]
    rows = _PaddedRows(n, sum(widest) + 2 + key_width)
    put_varint_columns(rows.field(widest[0], s_body), z_body)
    rows.field(2)  # attributes and timestamp delta: 0
    put_varint_columns(rows.field(widest[1], s_delta), z_delta)
    put_varint_columns(rows.field(widest[2], s_key), z_key)
    rows.field(key_width, key_len)[:] = keys.data[key_index]
    put_varint_columns(rows.field(widest[3], s_val), z_val)
    meta = rows.stream()
    sizes = s_body + 2 + s_delta + s_key + key_len + s_val
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(sizes, out=offsets[1:])
    return pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(meta)])


def join_records(metas: pa.BinaryArray, values: pa.Array) -> tuple[memoryview, np.ndarray]:
    """The records (meta, value, header count) back to back, and where each starts.

    ``values`` are Arrow binary or string values, one per meta. Returns the bytes
    and ``n + 1`` offsets: records ``lo..hi-1`` are ``bytes[offsets[lo]:offsets[hi]]``.
    """
    if pa.types.is_string(values.type):
        values = values.view(pa.binary())
    joined = pc.binary_join_element_wise(metas, values, _HEADER_COUNT, b"")
    offsets_buf, data_buf = joined.buffers()[1], joined.buffers()[2]
    assert offsets_buf is not None and data_buf is not None
    offsets = np.frombuffer(offsets_buf, dtype=np.int32)[
        joined.offset : joined.offset + len(joined) + 1
    ]
    return memoryview(data_buf), offsets.astype(np.int64)


def cut(partition: np.ndarray, sizes: np.ndarray, limit: int) -> list[tuple[int, int, int]]:
    """Batches of records sorted by partition: ``(partition, lo, hi)``, each ≤ ``limit`` bytes.

    ``partition`` must be sorted; ``sizes`` are (upper bounds of) record sizes. A
    record larger than ``limit`` gets a batch of its own.
    """
    batches: list[tuple[int, int, int]] = []
    n = len(partition)
    if n == 0:
        return batches
    bounds = np.flatnonzero(np.diff(partition)) + 1
    group_starts = np.concatenate(([0], bounds)).tolist()
    group_ends = np.concatenate((bounds, [n])).tolist()
    total = np.concatenate(([0], np.cumsum(sizes)))
    for first, hi in zip(group_starts, group_ends, strict=True):
        part, lo = int(partition[first]), first
        while lo < hi:
            # the furthest end whose records fit in limit bytes from lo
            end = int(np.searchsorted(total, total[lo] + limit, side="right")) - 1
            end = min(max(end, lo + 1), hi)
            batches.append((part, lo, end))
            lo = end
    return batches


def offset_deltas(n: int, batches: list[tuple[int, int, int]]) -> np.ndarray:
    """Each record's offset within its batch (``batches`` cover ``0..n-1`` in order)."""
    los = np.array([lo for _, lo, _ in batches], dtype=np.int64)
    his = np.array([hi for _, _, hi in batches], dtype=np.int64)
    return np.arange(n, dtype=np.int64) - np.repeat(los, his - los)


@dataclass(frozen=True)
class Batch:
    """One record batch for one partition, and which of the caller's records it holds."""

    partition: int
    #: Positions, in the caller's columns, of the batch's records (in batch order).
    index: np.ndarray
    records: PrebuiltRecords


#: Bytes a record's size can grow by once its offset delta is known (delta varint
#: ≤ 3 bytes below 2**20 records a batch, length varint one byte longer at most).
_DELTA_SLACK = 3


def build_batches(
    keys: KeyTable,
    key_index: np.ndarray,
    values: Sequence[bytes] | pa.Array,
    value_lengths: np.ndarray,
    partition: np.ndarray,
    *,
    limit: int,
    codec: str,
) -> list[Batch]:
    """Record batches of these records, grouped by partition, each section ≤ ``limit`` bytes.

    ``values`` are ``bytes`` or an Arrow binary/string array (cheaper: no Python
    object per record). Within a partition the records keep their order; when
    ``partition`` is already sorted nothing is reordered. ``limit`` is capped at
    :data:`MAX_SECTION_BYTES`.
    """
    n = len(values)
    if n == 0:
        return []
    limit = min(limit, MAX_SECTION_BYTES)
    column = values if isinstance(values, pa.Array) else pa.array(values, type=pa.binary())
    if n > 1 and bool(np.any(partition[1:] < partition[:-1])):
        order = np.argsort(partition, kind="stable")
        parts, k_idx, v_len = partition[order], key_index[order], value_lengths[order]
        column = column.take(pa.array(order))
    else:
        order = np.arange(n)
        parts, k_idx, v_len = partition, key_index, value_lengths
    # sizes with offset delta 0, plus the slack a real delta may add
    rough = layout_sizes(keys, k_idx, v_len) + _DELTA_SLACK
    cuts = cut(parts, rough, limit - 1)
    metas = record_metas(keys, k_idx, v_len, offset_deltas(n, cuts))
    data, offsets = join_records(metas, column)
    starts = offsets.tolist()
    stamp = int(time.time() * 1000)
    return [
        Batch(
            part,
            order[lo:hi],
            PrebuiltRecords(
                data[starts[lo] : starts[hi]], hi - lo, codec=codec, timestamp_ms=stamp
            ),
        )
        for part, lo, hi in cuts
    ]


def layout_sizes(keys: KeyTable, key_index: np.ndarray, value_lengths: np.ndarray) -> np.ndarray:
    """Each record's size with offset delta 0 (a lower bound; see :data:`_DELTA_SLACK`)."""
    key_len = keys.lengths[key_index]
    body = _body_size(
        1,
        varint_sizes(zigzag(key_len)) + key_len,
        varint_sizes(zigzag(value_lengths)) + value_lengths,
    )
    sizes: np.ndarray = varint_sizes(zigzag(body)) + body
    return sizes


def _body_size(delta_size: Any, key_field: Any, value_field: Any) -> np.ndarray:
    """A record's length field (the bytes after its length varint).

    Attributes and timestamp delta (1 + 1), the offset delta varint, the key and
    value fields (length varint + bytes), the header count (1).
    """
    body: np.ndarray = 2 + delta_size + key_field + value_field + 1
    return body
