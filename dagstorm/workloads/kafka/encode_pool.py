"""Events → record batches for one ``kafka_burst`` chunk, in this process or in worker processes.

:func:`encode_chunk` is the whole encoding of a chunk: each event's partition (by
its campaign), the events grouped by partition, the JSON values, the record
layout, the batches cut at ``batch_size`` and compressed. Its batches say which of
the chunk's events each holds as positions in the chunk **as given** (not as
grouped), so the caller keeps its events as they are.

Encoding is most of the producer's CPU (JSON values, layout and lz4: two thirds of
it, docs/benchmarks.md), and in the sending process it shares one interpreter lock
with kafka-python's network thread. :class:`EncodePool` runs it in ``workers``
processes instead (``producer.encode_workers``): the sending process generates the
events, counts them in the ledger and hands the finished batches to the producer,
while the next chunks are encoded beside it. Results come back in submission
order; each worker builds its own encoder from the catalogue once. A worker that
dies fails the workload (the pool is broken), like a producer that cannot be made;
a worker whose parent dies (``kill -9`` of dagstorm) exits within a second instead
of waiting forever for work (:func:`_exit_with_parent`).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from dagstorm.workloads.kafka.messages import MessageEncoder
from dagstorm.workloads.kafka.records import Batch, build_batches
from dagstorm.workloads.model.catalog import Catalog
from dagstorm.workloads.model.events import EventColumns

__all__ = ["EncodePool", "Encoded", "encode_chunk"]


@dataclass(frozen=True)
class Encoded:
    """One chunk's record batches, and per event (as given) its partition and value length."""

    batches: list[Batch]
    partition: np.ndarray
    value_lengths: np.ndarray

    @property
    def value_bytes(self) -> int:
        """Bytes of every value in the chunk."""
        return int(self.value_lengths.sum())


def encode_chunk(
    encoder: MessageEncoder, events: EventColumns, *, batch_size: int, codec: str
) -> Encoded:
    """The record batches of ``events`` (see the module docstring)."""
    partition = encoder.partitions(events)
    # Grouped by partition (each partition's records in their order) before they are
    # encoded, so the values need no reordering when batches are cut.
    order = np.argsort(partition, kind="stable")
    grouped = events.take(order)
    values, lengths = encoder.value_column(grouped)
    batches = build_batches(
        encoder.key_table,
        encoder.key_index(grouped),
        values,
        lengths,
        partition[order],
        limit=batch_size,
        codec=codec,
    )
    as_given = np.empty_like(lengths)
    as_given[order] = lengths
    return Encoded(
        [Batch(b.partition, order[b.index], b.records) for b in batches], partition, as_given
    )


#: In a worker process: its encoder, built once by :func:`_start_worker`.
_WORKER: dict[str, MessageEncoder] = {}


#: How often (s) a worker checks that the process that started it is alive.
PARENT_CHECK_S = 0.5


def _start_worker(catalog: Catalog, partitions: int, parent: int) -> None:
    threading.Thread(
        target=_exit_with_parent, args=(parent,), name="encode-parent-watch", daemon=True
    ).start()
    _WORKER["encoder"] = MessageEncoder(catalog, partitions)


def _exit_with_parent(parent: int) -> None:
    """Exit this worker once ``parent`` is gone (it was re-parented: the pool's manager died)."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(3)


def _encode_in_worker(events: EventColumns, batch_size: int, codec: str) -> Encoded:
    encoder = _WORKER.get("encoder")
    if encoder is None:
        raise RuntimeError("encoding worker not started")
    return encode_chunk(encoder, events, batch_size=batch_size, codec=codec)


def _ready() -> bool:
    return "encoder" in _WORKER


class EncodePool:
    """``workers`` processes that run :func:`encode_chunk`; see the module docstring."""

    def __init__(
        self, catalog: Catalog, partitions: int, *, workers: int, batch_size: int, codec: str
    ) -> None:
        if workers < 1:
            raise ValueError(f"an encode pool needs at least one worker, got {workers}")
        self.batch_size = batch_size
        self.codec = codec
        #: Chunks submitted and not yet taken beyond which :meth:`submit`'s caller waits.
        self.depth = 2 * workers
        # spawn: a fork of a process with threads (the run's probes, kafka-python's
        # sender) could inherit a held lock.
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(catalog, partitions, os.getpid()),
        )
        # Start every worker now (imports, catalogue), not inside the first burst.
        for started in [self._pool.submit(_ready) for _ in range(workers)]:
            started.result(timeout=120)

    def submit(self, events: EventColumns) -> Future[Encoded]:
        """Encode ``events`` in a worker; the future of its :class:`Encoded`."""
        return self._pool.submit(_encode_in_worker, events, self.batch_size, self.codec)

    def close(self) -> None:
        """Stop the workers (what is queued and not started is cancelled)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
