"""The ad_logs workload's ``workload_stats`` add up to every record and byte it wrote."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import cast

import orjson
import pytest

from dagstorm.run.clock import FakeClock
from dagstorm.run.journal import RunJournal
from dagstorm.stack.endpoints import Stack
from dagstorm.workloads.ad_logs_workload import AdLogsRun
from dagstorm.workloads.config import GeneratorConfig
from dagstorm.workloads.sinks.generator import AdLogGenerator


class StopAfter(FakeClock):
    """Fake time that sets the workload's stop event after ``waits`` waits."""

    def __init__(self, waits: int, compression: float) -> None:
        super().__init__(compression=compression)
        self.left = waits

    def wait(self, event: threading.Event, seconds: float) -> bool:
        self.left -= 1
        if self.left <= 0:
            event.set()
        return super().wait(event, seconds)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_stats_cover_the_last_interval_and_parquet_bytes(tmp_path: Path, fmt: str) -> None:
    config = GeneratorConfig.model_validate(
        {
            "seed": 3,
            "rate": "20 events/s",
            "start": "2026-01-05T23:55:00Z",
            "time_compression": 600,
            "landing": {"root": str(tmp_path / "landing"), "format": fmt, "fsync": False},
        }
    )
    # 7 waits of 0.2 s: one stats sample at 1 s, then 0.4 s more before the stop.
    clock = StopAfter(7, compression=600)
    generator = AdLogGenerator(config, ledger_dir=tmp_path / "ledger")
    with RunJournal(tmp_path / "journal.jsonl", clock) as journal:
        workload = AdLogsRun(
            "ads",
            journal,
            clock,
            generator=generator,
            root=tmp_path / "landing",
            stack=cast(Stack, None),  # no trigger DAG: the stack is never asked
            trigger_dag=None,
        )
        workload.run()
    lines = (tmp_path / "journal.jsonl").read_bytes().splitlines()
    stats = [e for e in map(orjson.loads, lines) if e["kind"] == "workload_stats"]
    assert len(stats) == 2  # the regular sample and the tail up to the stop
    assert sum(s["records"] for s in stats) == generator.records > 0
    files = [p for p in (tmp_path / "landing").rglob("part-*") if p.is_file()]
    on_disk = sum(p.stat().st_size for p in files)
    assert sum(s["bytes"] for s in stats) == generator.bytes == on_disk > 0
