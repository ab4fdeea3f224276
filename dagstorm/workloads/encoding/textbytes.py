"""Vectorized text formatting: numbers, ids and timestamps as ASCII bytes.

Every function works on whole numpy arrays with table look-ups and 64-bit word
arithmetic (little-endian: byte 0 of a word is its lowest byte), so formatting a
row costs nanoseconds; there is no per-record Python. Fixed-width results come
back as ``(n, width)`` uint8 matrices that :func:`fixed_strings` turns into Arrow
strings without copying.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

U8Matrix = NDArray[np.uint8]
I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]

MS_PER_HOUR = 3_600_000
MS_PER_MINUTE = 60_000

_HEX = b"0123456789abcdef"
#: byte value -> its two hex digits, as one little-endian uint16 (high nibble first).
_HEX_PAIRS = np.array([_HEX[b >> 4] | (_HEX[b & 15] << 8) for b in range(256)], dtype=np.uint16)


def _digits_word(value: int, width: int) -> int:
    """``value`` as ``width`` zero-padded ASCII digits packed into an int (byte 0 first)."""
    text = f"{value:0{width}d}".encode()
    return int.from_bytes(text, "little")


#: 0..999 -> three ASCII digits packed in the low 24 bits.
_THREE_DIGITS = np.array([_digits_word(i, 3) for i in range(1000)], dtype=np.uint64)
#: minute 0..59 -> "MM" in bytes 6-7 of a word.
_MINUTE_BYTES = np.array([_digits_word(m, 2) << 48 for m in range(60)], dtype=np.uint64)


def _second_millis_words() -> U64:
    """(second * 1000 + millis) -> the word ":SS.mmmZ"."""
    seconds = np.repeat(np.arange(60, dtype=np.uint64), 1000)
    millis = np.tile(np.arange(1000, dtype=np.uint64), 60)
    colon, dot, zulu = np.uint64(ord(":")), np.uint64(ord(".")), np.uint64(ord("Z"))
    tens, ones = seconds // np.uint64(10) + np.uint64(48), seconds % np.uint64(10) + np.uint64(48)
    return (
        colon
        | (tens << np.uint64(8))
        | (ones << np.uint64(16))
        | (dot << np.uint64(24))
        | (_THREE_DIGITS[millis] << np.uint64(32))
        | (zulu << np.uint64(56))
    )


_SECOND_MILLIS = _second_millis_words()


def hex16(values: U64) -> U8Matrix:
    """Each uint64 as 16 lower-case hex digits, most significant first: ``(n, 16)``."""
    big_endian = values.astype(">u8", copy=True).view(np.uint8)
    out = np.empty(big_endian.size, dtype=np.uint16)
    np.take(_HEX_PAIRS, big_endian, out=out, mode="clip")
    return out.view(np.uint8).reshape(-1, 16)


def _hour_words(first_hour: int, count: int) -> tuple[U64, U64]:
    """For hours since the epoch ``first_hour ..``: words "YYYY-MM-" and "DDTHH:" (6 bytes)."""
    word0 = np.empty(count, dtype=np.uint64)
    word1 = np.empty(count, dtype=np.uint64)
    for i in range(count):
        stamp = datetime.fromtimestamp((first_hour + i) * 3600, tz=UTC)
        text = stamp.strftime("%Y-%m-%dT%H:").encode()
        word0[i] = int.from_bytes(text[:8], "little")
        word1[i] = int.from_bytes(text[8:14], "little")
    return word0, word1


def iso_millis(epoch_ms: I64) -> U8Matrix:
    """Epoch milliseconds as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (UTC): ``(n, 24)``."""
    n = epoch_ms.size
    out = np.empty((n, 3), dtype=np.uint64)
    if n == 0:
        return out.view(np.uint8).reshape(0, 24)
    hours = epoch_ms // MS_PER_HOUR
    first = int(hours.min())
    span = int(hours.max()) - first + 1
    if span <= 4096:
        index = hours - first
        word0, word1 = _hour_words(first, span)
    else:  # rare: a batch spanning months; look up only the hours present
        uniq, index = np.unique(hours, return_inverse=True)
        pairs = [_hour_words(int(h), 1) for h in uniq]
        word0 = np.array([p[0][0] for p in pairs], dtype=np.uint64)
        word1 = np.array([p[1][0] for p in pairs], dtype=np.uint64)
    within = epoch_ms - hours * MS_PER_HOUR
    minutes = within // MS_PER_MINUTE
    np.take(word0, index, out=out[:, 0], mode="clip")
    out[:, 1] = word1[index] | _MINUTE_BYTES[minutes]
    np.take(_SECOND_MILLIS, within - minutes * MS_PER_MINUTE, out=out[:, 2], mode="clip")
    return out.view(np.uint8).reshape(n, 24)


def micros_8(micros: I64) -> U8Matrix:
    """Amounts in millionths below 10 as ``D.DDDDDD``: ``(n, 8)``. Larger values are clipped."""
    clipped = np.clip(micros, 0, 9_999_999).astype(np.uint64)
    units = clipped // np.uint64(1_000_000)
    frac = clipped - units * np.uint64(1_000_000)
    high = frac // np.uint64(1000)
    low = frac - high * np.uint64(1000)
    words = (units + np.uint64(48)) | np.uint64(ord(".") << 8)
    words |= _THREE_DIGITS[high] << np.uint64(16)
    words |= _THREE_DIGITS[low] << np.uint64(40)
    return words.view(np.uint8).reshape(-1, 8)


def fixed_strings(block: U8Matrix) -> pa.StringArray:
    """An ``(n, width)`` C-contiguous byte matrix as Arrow strings of ``width`` bytes (no copy)."""
    n, width = block.shape
    if not block.flags.c_contiguous:
        block = np.ascontiguousarray(block)
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(block)]
    return pa.Array.from_buffers(pa.string(), n, buffers)


@lru_cache(maxsize=8)
def decimal_texts(max_units: int, decimals: int, *, suffix: str = "") -> pa.StringArray:
    """Strings ``f"{i / 10**decimals:.{decimals}f}{suffix}"`` for ``i`` in ``0..max_units``.

    The texts are made once per ``(max_units, decimals)``; each suffix is appended
    to them in one Arrow pass.
    """
    if suffix:
        plain = decimal_texts(max_units, decimals)
        joined: pa.StringArray = pc.binary_join_element_wise(plain, suffix, "")
        return joined
    scale = 10**decimals
    texts = [f"{i // scale}.{i % scale:0{decimals}d}" for i in range(max_units + 1)]
    return pa.array(texts, type=pa.string())


def string_bytes(strings: pa.StringArray) -> pa.Buffer:
    """The concatenated UTF-8 bytes of a string array (a zero-copy slice of its data)."""
    if len(strings) == 0:
        return pa.py_buffer(b"")
    offsets = strings.buffers()[1]
    data = strings.buffers()[2]
    assert offsets is not None and data is not None
    bounds = np.frombuffer(offsets, dtype=np.int32)
    first = int(bounds[strings.offset])
    last = int(bounds[strings.offset + len(strings)])
    return data.slice(first, last - first)
