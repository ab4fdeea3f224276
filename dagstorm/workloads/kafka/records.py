"""Kafka record batches (message format v2) built from columns, without a per-record loop.

kafka-python appends one record at a time (varints encoded in Python, one future
per record): ~30 µs a record, a third of what one process must reach for the 2
TB/day rate. Here a chunk's records are laid out at once with numpy: the small
per-record fields (length, attributes, timestamp and offset deltas, key, value
length) are written as one "meta" byte stream by vectorised varint encoding, and
joined with the values (already separate ``bytes``) by one ``bytes.join``. The
wire format is the one kafka-python's own reader decodes (tests check it):

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
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np

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


def put_varints(buf: np.ndarray, pos: np.ndarray, encoded: np.ndarray, sizes: np.ndarray) -> None:
    """Write ``encoded[i]`` as a varint of ``sizes[i]`` bytes at ``buf[pos[i]:]``."""
    top = int(sizes.max()) if len(sizes) else 0
    for k in range(top):
        if k == 0:
            sel: slice | np.ndarray = slice(None)
        else:
            sel = np.flatnonzero(sizes > k)
        part = encoded[sel] >> np.uint64(7 * k)
        byte = (part & np.uint64(0x7F)) | np.where(sizes[sel] > k + 1, np.uint64(0x80), 0)
        buf[pos[sel] + k] = byte.astype(np.uint8)


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


@dataclass(frozen=True)
class Layout:
    """Where each record's meta bytes go: offsets deltas, sizes, stream positions."""

    meta: bytes
    #: Start of each record's meta in ``meta`` (record 0 has no leading header count).
    meta_starts: np.ndarray
    meta_ends: np.ndarray
    #: Bytes of each whole record (length varint included).
    record_sizes: np.ndarray


def layout(
    keys: KeyTable, key_index: np.ndarray, value_lengths: np.ndarray, deltas: np.ndarray
) -> Layout:
    """The meta stream of records with these keys, value lengths and offset deltas.

    Record ``i``'s meta is the header count (0) of record ``i - 1`` (absent for the
    first record of a batch, where ``deltas`` is 0), then its length, attributes,
    timestamp delta, offset delta, key length, key and value length. A batch's
    records section is ``meta[i] + value[i]`` for each record, then one 0 byte.
    """
    n = len(value_lengths)
    key_len = keys.lengths[key_index]
    z_delta, z_key, z_val = zigzag(deltas), zigzag(key_len), zigzag(value_lengths)
    s_delta, s_key, s_val = varint_sizes(z_delta), varint_sizes(z_key), varint_sizes(z_val)
    body = _body_size(s_delta, s_key + key_len, s_val + value_lengths)
    z_body = zigzag(body)
    s_body = varint_sizes(z_body)
    head = s_body + 2 + s_delta + s_key + key_len + s_val  # meta bytes before the value
    lead = np.ones(n, dtype=np.int64)  # the previous record's header count
    per = lead + head
    ends = np.cumsum(per)
    starts = ends - per
    buf = np.zeros(int(ends[-1]) if n else 0, dtype=np.uint8)
    pos = starts + lead
    put_varints(buf, pos, z_body, s_body)
    pos = pos + s_body + 2  # attributes and timestamp delta stay 0
    put_varints(buf, pos, z_delta, s_delta)
    pos = pos + s_delta
    put_varints(buf, pos, z_key, s_key)
    pos = pos + s_key
    for k in range(int(key_len.max()) if n else 0):
        sel = np.flatnonzero(key_len > k)
        buf[pos[sel] + k] = keys.data[key_index[sel], k]
    pos = pos + key_len
    put_varints(buf, pos, z_val, s_val)
    first = deltas == 0
    meta_starts = starts + first  # a batch's first record carries no previous header count
    return Layout(buf.tobytes(), meta_starts, ends, s_body + body)


def records_section(lay: Layout, values: list[bytes], lo: int, hi: int) -> bytes:
    """The records section of records ``lo..hi-1`` (one batch: deltas 0..hi-lo-1)."""
    meta = lay.meta
    pieces: list[bytes] = [b""] * (2 * (hi - lo))
    pieces[0::2] = map(
        meta.__getitem__, map(slice, lay.meta_starts[lo:hi].tolist(), lay.meta_ends[lo:hi].tolist())
    )
    pieces[1::2] = values[lo:hi]
    pieces.append(b"\x00")
    return b"".join(pieces)


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
    values: list[bytes],
    value_lengths: np.ndarray,
    partition: np.ndarray,
    *,
    limit: int,
    codec: str,
) -> list[Batch]:
    """Record batches of these records, grouped by partition, each section ≤ ``limit`` bytes.

    Within a partition the records keep their order. ``limit`` is capped at
    :data:`MAX_SECTION_BYTES`.
    """
    n = len(values)
    if n == 0:
        return []
    limit = min(limit, MAX_SECTION_BYTES)
    order = np.argsort(partition, kind="stable")
    parts = partition[order]
    k_idx, v_len = key_index[order], value_lengths[order]
    # sizes with offset delta 0, plus the slack a real delta may add
    rough = layout_sizes(keys, k_idx, v_len) + _DELTA_SLACK
    cuts = cut(parts, rough, limit - 1)
    lay = layout(keys, k_idx, v_len, offset_deltas(n, cuts))
    ordered = list(itemgetter(*order.tolist())(values)) if n > 1 else list(values)
    stamp = int(time.time() * 1000)
    return [
        Batch(
            part,
            order[lo:hi],
            PrebuiltRecords(
                records_section(lay, ordered, lo, hi), hi - lo, codec=codec, timestamp_ms=stamp
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
