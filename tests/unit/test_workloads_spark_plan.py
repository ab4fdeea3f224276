"""Spark backend without Spark: task planning, seeding, and equality with the local generator.

The stage functions the Spark job maps run here in-process; the integration test
(tests/integration/test_generate_spark.py) runs them on the embedded cluster.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dagstorm.workloads.config import GeneratorConfig
from dagstorm.workloads.model.schedule import MS_PER_HOUR
from dagstorm.workloads.sinks.generator import AdLogGenerator
from dagstorm.workloads.sinks.ledger import load_ledger
from dagstorm.workloads.source import EventSource
from dagstorm.workloads.spark_backend.inprocess import run_plan_inprocess
from dagstorm.workloads.spark_backend.plan import (
    PARTS_PER_CHUNK,
    destinations,
    plan_generation,
    run_windows,
    split_hour,
)
from dagstorm.workloads.spark_backend.tasks import carry_out

BAD = {"malformed": 0.01, "drift_missing": 0.01, "late": 0.02, "duplicate": 0.01}
DURATION = 2.5 * 3600  # from 00:20 to 02:50: a partial first and last hour


def config(root: Path, *, fmt: str = "jsonl", seed: int = 3) -> GeneratorConfig:
    bad = {k: v for k, v in BAD.items() if fmt == "jsonl" or k != "malformed"}
    data: dict[str, Any] = {
        "seed": seed,
        "rate": "4 events/s",
        "start": "2026-01-05T00:20:00Z",
        "batch_rows": 2_000,
        "max_window_seconds": 300,
        "bad_data": bad,
        "landing": {"root": str(root), "format": fmt, "part_max_bytes": 150_000, "fsync": False},
    }
    return GeneratorConfig.model_validate(data)


def files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def local_run(root: Path, ledger: Path, fmt: str) -> None:
    generator = AdLogGenerator(config(root, fmt=fmt), ledger_dir=ledger)
    generator.advance_to(DURATION)
    generator.close()


def spark_plan_run(root: Path, ledger: Path, fmt: str, chunks: int) -> None:
    cfg = config(root, fmt=fmt)
    run_plan_inprocess(
        cfg, plan_generation(cfg, DURATION, chunks_per_hour=chunks), ledger_dir=ledger
    )


def test_run_windows_are_the_local_generators(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    source = EventSource(cfg)
    local = [w for w, _ in source.batches(DURATION)]
    assert run_windows(cfg, DURATION) == local


def test_chunks_cover_each_hour_in_order(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    windows = run_windows(cfg, DURATION)
    plan = plan_generation(cfg, DURATION, chunks_per_hour=3)
    assert [w for c in plan.chunks for w in c.windows] == windows
    assert [c.index for c in plan.chunks] == list(range(len(plan.chunks)))
    for chunk in plan.chunks:
        assert {w.hour_ms for w in chunk.windows} == {chunk.hour_ms}
        assert chunk.first_part == chunk.chunk * PARTS_PER_CHUNK
    assert plan.hours == sorted({w.hour_ms for w in windows})
    assert len(plan.hours) == 3
    first = plan.hour_span(plan.hours[0])
    assert first == (windows[0].start_ms, plan.of_hour(plan.hours[0])[-1].end_ms)
    assert first[1] % MS_PER_HOUR == 0


def test_split_hour_balances_rows_and_never_leaves_an_empty_chunk(tmp_path: Path) -> None:
    windows = run_windows(config(tmp_path), 3600.0)
    groups = split_hour(windows, 4)
    assert [w for g in groups for w in g] == windows
    sizes = [sum(w.count for w in g) for g in groups]
    assert max(sizes) - min(sizes) <= max(w.count for w in windows)
    assert len([g for g in split_hour(windows[:2], 5) if g]) == 2


def test_destinations_map_arrivals_to_chunks() -> None:
    bounds = np.array([0, 10, 20, 30], dtype=np.int64)
    arrivals = np.array([-1, 0, 9, 10, 29, 30, 99], dtype=np.int64)
    assert destinations(bounds, arrivals).tolist() == [-1, 0, 0, 1, 2, -1, -1]


def test_chunks_per_hour_out_of_range_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="chunks_per_hour"):
        plan_generation(config(tmp_path), 3600.0, chunks_per_hour=0)


def test_carry_out_is_what_the_local_funnel_holds_after_the_chunk(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    plan = plan_generation(cfg, DURATION, chunks_per_hour=2)
    first = plan.chunks[0]
    routed = carry_out(cfg, first, plan.bounds)
    assert routed, "conversions (median delay 20 min) must cross a half-hour chunk"
    source = EventSource(cfg)
    list(source.batches((first.end_ms - source.start_ms) / 1000))
    held = source.model.pending.pop_due(plan.bounds[-1])
    sent = np.sort(np.concatenate([c.events.event_id for _, c in routed]))
    assert np.array_equal(sent, np.sort(held.event_id))
    assert all(target > first.index and c.source == first.index for target, c in routed)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_one_chunk_per_hour_writes_the_local_bytes(tmp_path: Path, fmt: str) -> None:
    local_run(tmp_path / "a" / "landing", tmp_path / "a" / "ledger", fmt)
    spark_plan_run(tmp_path / "b" / "landing", tmp_path / "b" / "ledger", fmt, chunks=1)
    a, b = files(tmp_path / "a"), files(tmp_path / "b")
    assert len([k for k in a if k.endswith("_SUCCESS")]) == 3
    assert len([k for k in a if "part-00001" in k]) >= 1, "several parts per partition"
    assert a == b


def concatenated(root: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for part in sorted(root.rglob("part-*.jsonl")):
        key = str(part.parent.relative_to(root))
        out[key] = out.get(key, b"") + part.read_bytes()
    return out


def test_several_chunks_per_hour_write_the_same_lines_in_the_same_order(tmp_path: Path) -> None:
    local_run(tmp_path / "a" / "landing", tmp_path / "a" / "ledger", "jsonl")
    spark_plan_run(tmp_path / "b" / "landing", tmp_path / "b" / "ledger", "jsonl", chunks=3)
    landing_a, landing_b = tmp_path / "a" / "landing", tmp_path / "b" / "landing"
    assert concatenated(landing_a) == concatenated(landing_b)
    assert any(p.name == "part-02000.jsonl" for p in landing_b.rglob("*"))
    ledger_a, ledger_b = files(tmp_path / "a" / "ledger"), files(tmp_path / "b" / "ledger")
    assert ledger_a == ledger_b
    assert load_ledger(tmp_path / "a").equals(load_ledger(tmp_path / "b"))


def test_several_chunks_parquet_same_rows(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    local_run(tmp_path / "a" / "landing", tmp_path / "a" / "ledger", "parquet")
    spark_plan_run(tmp_path / "b" / "landing", tmp_path / "b" / "ledger", "parquet", chunks=3)

    def rows(root: Path) -> dict[str, list[tuple[Any, ...]]]:
        out: dict[str, list[tuple[Any, ...]]] = {}
        for part in root.rglob("part-*.parquet"):
            table = pq.read_table(part)
            key = str(part.parent.relative_to(root))
            out.setdefault(key, []).extend(
                tuple(sorted((k, str(v)) for k, v in r.items())) for r in table.to_pylist()
            )
        return {k: sorted(v) for k, v in out.items()}

    assert rows(tmp_path / "a" / "landing") == rows(tmp_path / "b" / "landing")
    assert files(tmp_path / "a" / "ledger") == files(tmp_path / "b" / "ledger")


def test_the_driver_empties_the_planned_partitions_before_the_tasks_write(tmp_path: Path) -> None:
    root = tmp_path / "landing"
    spark_plan_run(root, tmp_path / "ledger-1", "jsonl", chunks=3)  # 3 chunks: more parts
    before = files(root)
    spark_plan_run(root, tmp_path / "ledger-2", "jsonl", chunks=1)
    after = files(root)
    # The second run's parts only: the first run's extra parts (chunks 1 and 2 number
    # theirs from their own range) are gone, and every marker lists what is on disk.
    assert set(before) - set(after)
    for marker in root.glob("dt=*/hour=*/_SUCCESS"):
        listed = {f["name"] for f in json.loads(marker.read_text())["files"]}
        assert {p.name for p in marker.parent.glob("part-*")} == listed
