"""The two stages of a Spark generation task, as plain functions (no pyspark).

Stage 1, :func:`carry_out`: replay a chunk's windows through the model with an
empty funnel and return what it leaves due after the chunk (clicks and
conversions of its impressions arriving later), routed to the chunk each lands in.

Stage 2, :func:`write_chunk`: regenerate the chunk's windows with everything
earlier chunks left due in it pending, mix in bad data, and write the part files
with the local generator's :class:`~dagstorm.workloads.sinks.partition.PartitionWriter`.

Why the result equals the local generator's: a window's draws depend only on
(seed, stream, window index), and the funnel's pending buffer only *holds* events
— it never feeds a draw. Events due at the same millisecond leave the buffer in
the order they entered it, so earlier chunks' events are pushed before the
chunk's own, source chunk by source chunk, each in the order it left them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dagstorm.workloads.config import GeneratorConfig, SourceConfig
from dagstorm.workloads.model.events import EventColumns
from dagstorm.workloads.sinks.generator import landing_writer
from dagstorm.workloads.sinks.landing import CommittedPart
from dagstorm.workloads.sinks.ledger import CountsCollector, KeyCounts
from dagstorm.workloads.sinks.partition import PartitionWriter
from dagstorm.workloads.source import build_model, first_hour_ms, labelled_batch
from dagstorm.workloads.spark_backend.plan import PARTS_PER_CHUNK, ChunkTask, destinations

#: Past any simulated time: pops everything the funnel still holds.
_FOREVER_MS = 1 << 62


@dataclass(frozen=True)
class CarryOver:
    """Events chunk ``source`` created that arrive in another chunk."""

    source: int
    events: EventColumns


@dataclass(frozen=True)
class ChunkResult:
    """What a stage-2 task wrote: its parts (in order) and its ledger counts."""

    index: int
    hour_ms: int
    chunk: int
    parts: tuple[CommittedPart, ...]
    generated: KeyCounts
    written: KeyCounts
    records: int
    bytes: int
    carried_in: int


def carry_out(
    config: SourceConfig, task: ChunkTask, bounds: np.ndarray
) -> list[tuple[int, CarryOver]]:
    """Stage 1: ``(destination chunk, events)`` the chunk's funnel leaves due after it."""
    model = build_model(config)
    for window in task.windows:
        model.generate(window)
    left = model.pending.pop_due(_FOREVER_MS)
    if not len(left):
        return []
    dest = destinations(bounds, left.arrival_ms)
    out = []
    for target in np.unique(dest[dest > task.index]).tolist():
        out.append((int(target), CarryOver(task.index, left.take(dest == target))))
    return out


def write_chunk(config: GeneratorConfig, task: ChunkTask, carried: list[CarryOver]) -> ChunkResult:
    """Stage 2: write the chunk's part files into the landing zone; its counts."""
    model = build_model(config)
    for carry in sorted(carried, key=lambda c: c.source):
        model.pending.push(carry.events)
    writer = landing_writer(config.landing)
    collector = CountsCollector(model.catalog.n_ads)
    partition = PartitionWriter(writer, model.catalog, collector)
    first_hour = first_hour_ms(config)
    writer.begin(task.hour_ms, first_part=task.first_part)
    records = size = 0
    for window in task.windows:
        events = labelled_batch(model, window, config, first_hour=first_hour)
        if len(events):
            n, b, _ = partition.write(task.hour_ms, events)
            records += n
            size += b
    parts = partition.release(task.hour_ms)
    if len(parts) > PARTS_PER_CHUNK:
        raise ValueError(
            f"chunk {task.chunk} of its hour wrote {len(parts)} parts, more than "
            f"{PARTS_PER_CHUNK}: raise part_max_bytes or chunks_per_hour"
        )
    return ChunkResult(
        index=task.index,
        hour_ms=task.hour_ms,
        chunk=task.chunk,
        parts=tuple(parts),
        generated=collector.totals("generated"),
        written=collector.totals("written"),
        records=records,
        bytes=size,
        carried_in=sum(len(c.events) for c in carried),
    )
