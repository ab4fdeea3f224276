"""Cutting a run into (partition hour, chunk) tasks for the Spark backend.

The run's windows are exactly the local generator's (:func:`run_windows`): every
window of the schedule that ends by the simulated period's end. Each hour's
windows are split into at most ``chunks_per_hour`` contiguous chunks of about
equal expected rows. A chunk numbers its part files from ``chunk x 1000``
(``part-00000``, ``part-01000``, ...), so names never collide across chunks and
sort in the order of the rows; with one chunk per hour they are the local
generator's names, and the files its bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dagstorm.workloads.config import SourceConfig
from dagstorm.workloads.model.schedule import Window
from dagstorm.workloads.source import build_schedule

#: Part numbers a chunk may use: chunk c writes part-(c*1000) .. part-(c*1000 + 999).
PARTS_PER_CHUNK = 1000
#: Chunks an hour may be cut into (part numbers stay five digits).
MAX_CHUNKS_PER_HOUR = 100
#: Windows a run may have (the driver lists them all; ~2 M is a week at 2 TB/day, 64k rows).
MAX_WINDOWS = 5_000_000


@dataclass(frozen=True)
class ChunkTask:
    """A run of consecutive windows of one hour: one Spark task per stage."""

    index: int
    hour_ms: int
    chunk: int
    windows: tuple[Window, ...]

    @property
    def start_ms(self) -> int:
        """Start of the first window (epoch ms, simulated)."""
        return self.windows[0].start_ms

    @property
    def end_ms(self) -> int:
        """End of the last window."""
        return self.windows[-1].end_ms

    @property
    def first_part(self) -> int:
        """Number of the chunk's first part file."""
        return self.chunk * PARTS_PER_CHUNK

    @property
    def expected_rows(self) -> int:
        """Impressions the windows hold (clicks, conversions and bad data come on top)."""
        return sum(w.count for w in self.windows)


@dataclass(frozen=True)
class GenerationPlan:
    """All chunk tasks of a run, in time order (``index`` = position)."""

    chunks: tuple[ChunkTask, ...]
    chunks_per_hour: int

    @property
    def hours(self) -> list[int]:
        """Partition hours (epoch ms), in order."""
        return sorted({c.hour_ms for c in self.chunks})

    def of_hour(self, hour_ms: int) -> list[ChunkTask]:
        """The chunks of one hour, in order."""
        return [c for c in self.chunks if c.hour_ms == hour_ms]

    def hour_span(self, hour_ms: int) -> tuple[int, int]:
        """Simulated span (first window start, last window end) the hour's partition covers."""
        chunks = self.of_hour(hour_ms)
        return chunks[0].start_ms, chunks[-1].end_ms

    @property
    def bounds(self) -> np.ndarray:
        """Chunk start times followed by the run's end (for :func:`destinations`)."""
        if not self.chunks:
            return np.empty(0, dtype=np.int64)
        starts = [c.start_ms for c in self.chunks]
        return np.array([*starts, self.chunks[-1].end_ms], dtype=np.int64)

    @property
    def expected_rows(self) -> int:
        """Impressions in the whole run."""
        return sum(c.expected_rows for c in self.chunks)


def destinations(bounds: np.ndarray, arrival_ms: np.ndarray) -> np.ndarray:
    """Index of the chunk each arrival time falls in; -1 after the run's end."""
    if bounds.size == 0:
        return np.full(arrival_ms.size, -1, dtype=np.int64)
    index = np.searchsorted(bounds, arrival_ms, side="right") - 1
    index[(arrival_ms >= bounds[-1]) | (arrival_ms < bounds[0])] = -1
    return index.astype(np.int64)


def run_windows(config: SourceConfig, duration_s: float) -> list[Window]:
    """The windows the local generator writes for ``duration_s`` simulated seconds."""
    schedule = build_schedule(config)
    target_ms = schedule.start_ms + round(duration_s * 1000)
    windows: list[Window] = []
    for window in schedule.windows():
        if window.end_ms > target_ms:
            break
        if len(windows) >= MAX_WINDOWS:
            raise ValueError(
                f"the run has more than {MAX_WINDOWS:,} batch windows; "
                "raise batch_rows or generate the period in parts"
            )
        windows.append(window)
    return windows


def split_hour(windows: list[Window], chunks: int) -> list[list[Window]]:
    """Contiguous groups (at most ``chunks``, none empty) of about equal expected rows."""
    counts = np.array([w.count for w in windows], dtype=np.float64)
    total = counts.sum()
    if total > 0:
        middle = np.cumsum(counts) - counts / 2
        group = np.minimum((middle * chunks / total).astype(np.int64), chunks - 1)
    else:
        group = np.arange(len(windows)) * chunks // max(1, len(windows))
    out: list[list[Window]] = [[] for _ in range(chunks)]
    for window, g in zip(windows, group.tolist(), strict=True):
        out[g].append(window)
    return out


def plan_generation(
    config: SourceConfig, duration_s: float, *, chunks_per_hour: int = 1
) -> GenerationPlan:
    """Cut ``duration_s`` simulated seconds of ``config`` into chunk tasks."""
    if not 1 <= chunks_per_hour <= MAX_CHUNKS_PER_HOUR:
        raise ValueError(f"chunks_per_hour must be 1..{MAX_CHUNKS_PER_HOUR}, got {chunks_per_hour}")
    by_hour: dict[int, list[Window]] = {}
    for window in run_windows(config, duration_s):
        by_hour.setdefault(window.hour_ms, []).append(window)
    tasks: list[ChunkTask] = []
    for hour_ms, windows in by_hour.items():
        for chunk, group in enumerate(split_hour(windows, chunks_per_hour)):
            if group:
                tasks.append(ChunkTask(len(tasks), hour_ms, chunk, tuple(group)))
    return GenerationPlan(tuple(tasks), chunks_per_hour)
