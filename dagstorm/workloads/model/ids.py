"""Deterministic 64-bit ids and per-batch random streams derived from a run's seed.

Event ids are ``mix64(counter ^ key)`` where ``counter = batch_index << 24 | row``
and ``key`` depends only on the seed. ``mix64`` (the splitmix64 finaliser) is a
bijection on 64-bit integers, so ids are unique across a run for distinct
counters, look random, cost a few numpy operations, and any id can be recomputed
from (seed, batch, row) alone — no ``uuid4`` and no state.
"""

from __future__ import annotations

import zlib
from typing import Final

import numpy as np
from numpy.typing import NDArray

U64 = NDArray[np.uint64]

#: Rows a batch may create (events, clicks, conversions, late rows): 2**24.
ROW_BITS: Final = 24
MAX_ROWS_PER_BATCH: Final = 1 << ROW_BITS
#: Batches a run may have: 2**40, far beyond any run.
MAX_BATCHES: Final = 1 << 40

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_MASK64 = (1 << 64) - 1


def mix64(values: U64) -> U64:
    """The splitmix64 finaliser, element-wise: a bijection on uint64."""
    z = values ^ (values >> _S30)
    z *= _M1
    z ^= z >> _S27
    z *= _M2
    z ^= z >> _S31
    return z


def mix64_int(value: int) -> int:
    """:func:`mix64` for one Python int (used to derive keys)."""
    z = value & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def stream_code(name: str) -> int:
    """A stable 32-bit code for a named random stream ("events", "bad-data", ...)."""
    return zlib.crc32(name.encode())


def seed_key(seed: int, stream: str) -> int:
    """A 64-bit key for ``stream`` under ``seed``: different streams never share keys."""
    return mix64_int(mix64_int(seed) ^ stream_code(stream))


def batch_rng(seed: int, stream: str, batch_index: int) -> np.random.Generator:
    """The random generator of one batch: a pure function of (seed, stream, batch)."""
    return np.random.default_rng(np.random.SeedSequence([seed, stream_code(stream), batch_index]))


def event_ids(seed: int, batch_index: int, first_row: int, count: int) -> U64:
    """Ids of rows ``first_row .. first_row + count - 1`` created by batch ``batch_index``."""
    if not 0 <= batch_index < MAX_BATCHES:
        raise ValueError(f"batch index {batch_index} out of range")
    if first_row < 0 or first_row + count > MAX_ROWS_PER_BATCH:
        raise ValueError(f"a batch creates at most {MAX_ROWS_PER_BATCH} rows")
    base = np.uint64((batch_index << ROW_BITS) | first_row)
    counters = np.arange(count, dtype=np.uint64) + base
    counters ^= np.uint64(seed_key(seed, "event-id"))
    return mix64(counters)


def hashed(values: U64, key: int) -> U64:
    """``mix64(values ^ key)``: per-entity pseudo-random bits (user ids, attributes)."""
    return mix64(values ^ np.uint64(key & _MASK64))


def unit_floats(bits: U64) -> NDArray[np.float64]:
    """Uniform floats in [0, 1) from the top 53 bits of ``bits``."""
    return (bits >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def affine_ids(count: int, *, base: int, span: int, key: int) -> NDArray[np.int64]:
    """``count`` distinct ids in ``[base, base + span)``, scattered by a seeded affine map."""
    if count > span:
        raise ValueError(f"cannot draw {count} distinct ids from a span of {span}")
    multiplier = (key % span) | 1
    while np.gcd(multiplier, span) != 1:
        multiplier += 2
    offset = (key >> 32) % span
    index = np.arange(count, dtype=np.int64)
    return base + (index * multiplier + offset) % span
