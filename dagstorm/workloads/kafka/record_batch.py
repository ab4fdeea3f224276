"""One Kafka record batch (message format v2), prebuilt, as kafka-python's sender takes it.

:class:`PrebuiltRecords` holds one batch's records section (laid out by
:mod:`dagstorm.workloads.kafka.records`), compressed with kafka-python's codec
functions, and behaves like kafka-python's ``MemoryRecordsBuilder`` once full:
the producer's sender sets the producer id, epoch and base sequence when it
drains the batch (idempotence), then closes it, which writes the 61-byte batch
header and its CRC-32C.

lz4 is a KafkaLZ4 frame as kafka-python writes it (independent blocks, no content
checksum) but with one block of up to 1 MiB instead of 64 KiB blocks: a records
section (≤ 1,000,000 bytes) is one block, which compresses faster and smaller.
Kafka's reader takes block sizes 64 KiB to 4 MiB (``Lz4BlockOutputStream.BD``).
It is compressed with lz4's acceleration 2 (:data:`LZ4_LEVEL`): ~15% less CPU for
~2% more bytes, still ~5% fewer than 64 KiB blocks at the default.
"""

from __future__ import annotations

import struct
import time
import warnings

import lz4.frame

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka.codec import gzip_encode, zstd_encode
    from kafka.errors import IllegalStateError
    from kafka.record.default_records import DefaultRecordBase
    from kafka.record.memory_records import MemoryRecords
    from kafka.record.util import calc_crc32c

HEADER = DefaultRecordBase.HEADER_STRUCT
HEADER_SIZE: int = int(HEADER.size)


#: lz4 frame compression level: below 0, lz4's fast mode with acceleration ``1 - level``.
LZ4_LEVEL = -1


def lz4_frame(payload: bytes | memoryview) -> bytes:
    """``payload`` as a KafkaLZ4 frame: independent blocks of up to 1 MiB, no checksums."""
    packed: bytes = lz4.frame.compress(
        payload,
        block_size=lz4.frame.BLOCKSIZE_MAX1MB,
        block_linked=False,
        content_checksum=False,
        compression_level=LZ4_LEVEL,
    )
    return packed


#: Codec name → (attribute bits, encoder).
CODECS = {
    "none": (DefaultRecordBase.CODEC_NONE, None),
    "gzip": (DefaultRecordBase.CODEC_GZIP, gzip_encode),
    "lz4": (DefaultRecordBase.CODEC_LZ4, lz4_frame),
    "zstd": (DefaultRecordBase.CODEC_ZSTD, zstd_encode),
}
_ATTRS = DefaultRecordBase.ATTRIBUTES_OFFSET
_CRC = struct.Struct(">I")
_MAGIC = 2


class PrebuiltRecords:
    """One full record batch, standing in for kafka-python's ``MemoryRecordsBuilder``.

    It accepts no appends (it is full); the sender may set the producer state once,
    before :meth:`close` writes the header and CRC (kafka-python's contract).
    """

    __slots__ = (
        "_attributes",
        "_base_sequence",
        "_buffer",
        "_count",
        "_producer_epoch",
        "_producer_id",
        "_raw_size",
        "_section",
        "_timestamp",
        "_transactional",
    )

    def __init__(
        self,
        section: bytes | memoryview,
        count: int,
        *,
        codec: str = "none",
        timestamp_ms: int | None = None,
    ) -> None:
        bits, encode = CODECS[codec]
        self._raw_size = HEADER_SIZE + len(section)
        if encode is not None:
            packed = encode(section)
            if len(packed) < len(section):
                section = packed
            else:
                bits = DefaultRecordBase.CODEC_NONE  # no gain: sent as is (as kafka-python does)
        self._section = section
        self._attributes = bits
        self._count = count
        self._timestamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
        self._buffer: bytearray | None = None
        self._producer_id = -1
        self._producer_epoch = -1
        self._base_sequence = -1
        self._transactional = False

    def __getstate__(self) -> dict[str, object]:
        """Picklable (an encoding worker sends it back): the section as ``bytes``."""
        state = {name: getattr(self, name) for name in self.__slots__}
        if isinstance(self._section, memoryview):
            state["_section"] = bytes(self._section)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        """Restore what :meth:`__getstate__` kept."""
        for name, value in state.items():
            setattr(self, name, value)

    # -- what kafka-python's accumulator and sender call --------------------------------

    def append(
        self, timestamp: int, key: bytes | None, value: bytes | None, headers: object = None
    ) -> None:
        """A prebuilt batch is full: nothing more can be appended."""
        return None

    def set_producer_state(
        self, producer_id: int, producer_epoch: int, base_sequence: int, is_transactional: bool
    ) -> None:
        """Set by the sender when it drains the batch (before :meth:`close`)."""
        if self._buffer is not None:
            raise IllegalStateError("producer state set on a closed batch")
        self._producer_id = producer_id
        self._producer_epoch = producer_epoch
        self._base_sequence = base_sequence
        self._transactional = is_transactional

    @property
    def producer_id(self) -> int:
        """Producer id written in the header (-1: none)."""
        return self._producer_id

    @property
    def producer_epoch(self) -> int:
        """Producer epoch written in the header (-1: none)."""
        return self._producer_epoch

    @property
    def base_sequence(self) -> int:
        """Sequence number of the first record (-1: none)."""
        return self._base_sequence

    def close(self) -> None:
        """Write the header and CRC (once; retries reuse the same bytes)."""
        if self._buffer is not None:
            return
        buf = bytearray(HEADER_SIZE + len(self._section))
        attrs = self._attributes | (
            DefaultRecordBase.TRANSACTIONAL_MASK if self._transactional else 0
        )
        HEADER.pack_into(
            buf,
            0,
            0,  # base offset: set by the broker
            len(buf) - DefaultRecordBase.AFTER_LEN_OFFSET,
            0,  # partition leader epoch
            _MAGIC,
            0,  # CRC, below
            attrs,
            self._count - 1,  # last offset delta
            self._timestamp,
            self._timestamp,
            self._producer_id,
            self._producer_epoch,
            self._base_sequence,
            self._count,
        )
        buf[HEADER_SIZE:] = self._section
        _CRC.pack_into(buf, DefaultRecordBase.CRC_OFFSET, calc_crc32c(memoryview(buf)[_ATTRS:]))
        self._buffer = buf

    def buffer(self) -> bytearray:
        """The batch's bytes (after :meth:`close`)."""
        if self._buffer is None:
            raise IllegalStateError("batch not closed")
        return self._buffer

    def records(self) -> MemoryRecords:
        """kafka-python's reader over the batch (after :meth:`close`)."""
        return MemoryRecords(bytes(self.buffer()))

    def size_in_bytes(self) -> int:
        """Bytes on the wire."""
        return HEADER_SIZE + len(self._section)

    def compression_rate(self) -> float:
        """Wire size over uncompressed size."""
        return self.size_in_bytes() / self._raw_size

    def is_full(self) -> bool:
        """Always: the sender may send it at once."""
        return True

    def next_offset(self) -> int:
        """Records in the batch."""
        return self._count
