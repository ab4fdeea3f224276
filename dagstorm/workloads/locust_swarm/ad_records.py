"""The records a Kafka user sends: real ad events from dagstorm's model, pre-encoded.

Each process generates ``size`` events once (the ad-log model and the JSON-lines
encoder, seeded) and cycles through them, so generating costs nothing while the
producer is measured. Keys are campaign ids: a campaign's events share a partition.
"""

from __future__ import annotations

from dagstorm.workloads.config import DEFAULT_START
from dagstorm.workloads.encoding.jsonl import JsonlEncoder
from dagstorm.workloads.model.admodel import AdLogModel
from dagstorm.workloads.model.config import AdModelConfig
from dagstorm.workloads.model.schedule import Window

Record = tuple[bytes, bytes]
"""(key, value): the campaign id and one JSON line (without its newline)."""


class RecordPool:
    """``size`` encoded ad events, handed out in order and cycled."""

    def __init__(self, config: AdModelConfig, seed: int, size: int) -> None:
        model = AdLogModel(config, seed)
        start_ms = int(DEFAULT_START.timestamp() * 1000)
        window = Window(index=0, start_ms=start_ms, end_ms=start_ms + 60_000, count=size)
        events = model.generate(window).events
        campaigns = model.catalog.campaign_ids[model.catalog.ad_campaign[events.ad]]
        lines = JsonlEncoder(model.catalog).lines(events).to_pylist()
        self.records: list[Record] = [
            (str(int(c)).encode(), line.rstrip("\n").encode())
            for c, line in zip(campaigns, lines, strict=True)
        ]
        self._next = 0

    def take(self, n: int) -> list[Record]:
        """The next ``n`` records (wrapping around)."""
        out: list[Record] = []
        while len(out) < n:
            chunk = self.records[self._next : self._next + n - len(out)]
            out.extend(chunk)
            self._next = (self._next + len(chunk)) % len(self.records)
        return out

    @property
    def mean_bytes(self) -> float:
        """Mean value size in bytes."""
        return sum(len(v) for _, v in self.records) / len(self.records)
