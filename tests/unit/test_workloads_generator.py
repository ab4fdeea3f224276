"""The generator: determinism, schedule, clocks and config (dagstorm.workloads.sinks.generator)."""

from __future__ import annotations

import hashlib
import json
import math
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from dagstorm.run.clock import FakeClock, WallClock, simulated
from dagstorm.workloads.config import GeneratorConfig, LandingConfig, SourceConfig
from dagstorm.workloads.encoding.jsonl import mean_record_bytes
from dagstorm.workloads.model.config import BadDataConfig
from dagstorm.workloads.model.schedule import MS_PER_HOUR, Schedule
from dagstorm.workloads.sinks.generator import AdLogGenerator
from dagstorm.workloads.sinks.ledger import load_ledger
from dagstorm.workloads.source import EventSource
from dagstorm.workloads.traffic.shapes import Diurnal, Spike

T0 = 1_767_571_200_000
BAD = {"malformed": 0.01, "drift_retyped": 0.01, "late": 0.01, "duplicate": 0.01}


def config(tmp: Path, *, seed: int = 1, fmt: str = "jsonl", **extra: Any) -> GeneratorConfig:
    bad = {k: v for k, v in BAD.items() if fmt == "jsonl" or k != "malformed"}
    data: dict[str, Any] = {
        "seed": seed,
        "rate": "25 events/s",
        "start": "2026-01-05T23:30:00Z",
        "bad_data": bad,
        "landing": {"root": str(tmp / "landing"), "format": fmt, "part_max_bytes": 500_000},
    }
    data.update(extra)
    return GeneratorConfig.model_validate(data)


def digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def produce(tmp: Path, steps: list[float], **kwargs: Any) -> dict[str, str]:
    generator = AdLogGenerator(config(tmp, **kwargs), ledger_dir=tmp / "ledger")
    for step in steps:
        generator.advance_to(step)
    generator.close()
    return digest(tmp)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_same_seed_same_bytes_however_time_advances(tmp_path: Path, fmt: str) -> None:
    one = produce(tmp_path / "a", [5400.0], fmt=fmt)
    many = produce(tmp_path / "b", [float(s) for s in range(0, 5401, 137)] + [5400.0], fmt=fmt)
    assert one == many
    assert any(name.endswith("_SUCCESS") for name in one)
    assert any(name.startswith("ledger/counts-") for name in one)


def test_different_seed_different_bytes(tmp_path: Path) -> None:
    a = produce(tmp_path / "a", [600.0], seed=1)
    b = produce(tmp_path / "b", [600.0], seed=2)
    part = "landing/dt=2026-01-05/hour=23/part-00000.jsonl"
    assert set(a) == set(b) and a[part] != b[part]


def test_run_on_a_manual_clock_equals_advance_to(tmp_path: Path) -> None:
    direct = produce(tmp_path / "a", [1800.0])
    generator = AdLogGenerator(config(tmp_path / "b"), ledger_dir=tmp_path / "b" / "ledger")
    clock = FakeClock(compression=24)
    generator.run(clock, duration_s=1800.0, poll_wall_seconds=0.5)
    generator.close()
    assert clock.elapsed() * 24 >= 1800.0
    assert digest(tmp_path / "b") == direct


def test_run_stops_when_asked(tmp_path: Path) -> None:
    stop = threading.Event()
    stop.set()
    generator = AdLogGenerator(config(tmp_path), ledger_dir=tmp_path / "ledger")
    generator.run(FakeClock(), duration_s=1e9, stop=stop)
    assert generator.sim_seconds == 0.0


def test_partitions_and_late_rows_respect_the_first_hour(tmp_path: Path) -> None:
    generator = AdLogGenerator(config(tmp_path), ledger_dir=tmp_path / "ledger")
    generator.advance_to(2 * 3600)
    generator.close()
    ledger = load_ledger(tmp_path)
    first = datetime(2026, 1, 5, 23, tzinfo=UTC)
    assert ledger["event_hour"].min() == first
    parts = sorted(p.parent.name for p in (tmp_path / "landing").rglob("_SUCCESS"))
    assert parts == ["hour=00", "hour=01", "hour=23"]
    late = ledger[ledger["label"] == "late"]
    assert len(late) and (late["event_hour"] < late["partition_hour"]).all()


def test_close_without_finishing_drops_the_open_part(tmp_path: Path) -> None:
    generator = AdLogGenerator(config(tmp_path), ledger_dir=tmp_path / "ledger")
    generator.advance_to(1800 + 1210)  # 23:30 -> 00:00 finished, 00:00 -> 00:20:10 open
    generator.close(finish_partial=False)
    hour0 = tmp_path / "landing" / "dt=2026-01-06" / "hour=00"
    assert not (hour0 / "_SUCCESS").exists()
    assert not [p for p in hour0.iterdir() if p.name.startswith(".")]
    ledger = load_ledger(tmp_path)
    open_hour = ledger[ledger["partition_hour"] == datetime(2026, 1, 6, tzinfo=UTC)]
    committed = sum(p.read_bytes().count(b"\n") for p in hour0.glob("part-*.jsonl"))
    assert open_hour["written"].sum() == committed > 0
    assert open_hour["generated"].sum() > committed
    with pytest.raises(RuntimeError, match="closed"):
        generator.advance_to(99999)


def test_rate_plan_from_bytes_and_scale(tmp_path: Path) -> None:
    cfg = config(tmp_path, rate="2TB/day", scale="1/2000", time_compression=24)
    plan = cfg.rate_plan(mean_record_bytes(cfg.model))
    assert plan.sim_bytes_per_second == pytest.approx(2e12 / 86_400 / 2000)
    assert plan.wall_bytes_per_second == pytest.approx(24 * 2e12 / 86_400 / 2000)
    generator = AdLogGenerator(cfg, ledger_dir=tmp_path / "ledger")
    generator.advance_to(3600)
    assert generator.records == pytest.approx(plan.sim_events_per_second * 3600, rel=0.03)
    assert generator.bytes / 3600 == pytest.approx(plan.sim_bytes_per_second, rel=0.03)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"colour": "red"}, "Extra inputs"),
        ({"rate": "fast"}, "cannot read rate"),
        ({"scale": "1/0"}, "scale"),
        ({"time_compression": -1}, "time_compression"),
        ({"start": "2026-01-05T00:00:00"}, "time zone"),
        ({"bad_data": {"malformed": 0.4, "drift_extra": 0.4}}, "add up"),
        ({"shape": {"kind": "spike"}}, "Field required"),
        ({"model": {"campaigns": 0}}, "campaigns"),
        ({"model": {"geo": {"usa": 1}}}, "geo"),
        ({"model": {"device": {"phone": 1}}}, "os"),
    ],
)
def test_bad_config_is_rejected(tmp_path: Path, change: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        config(tmp_path, **change)


def test_parquet_cannot_have_malformed_lines(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="malformed"):
        GeneratorConfig(
            landing=LandingConfig(root=tmp_path, format="parquet"),
            bad_data=BadDataConfig(malformed=0.1),
        )


def test_schedule_counts_add_up_and_never_straddle_hours() -> None:
    schedule = Schedule(events_per_second=123.4, start_ms=T0 + 1234, batch_rows=1000)
    total, end = 0, 0
    for window in schedule.windows():
        if window.end_ms > T0 + 3 * MS_PER_HOUR:
            break
        assert window.hour_ms == (window.end_ms - 1) - (window.end_ms - 1) % MS_PER_HOUR
        assert 0 < window.end_ms - window.start_ms <= 10_000
        total, end = total + window.count, window.end_ms
    assert total == math.floor(123.4 * (end - T0 - 1234) / 1000 + 1e-6)


def test_schedule_follows_the_shape() -> None:
    shape = Diurnal() * Spike(at=7200, duration=600, factor=20)
    schedule = Schedule(events_per_second=200, start_ms=T0, shape=shape, batch_rows=5000)
    per_hour = [0] * 4
    for window in schedule.windows():
        if window.end_ms > T0 + 4 * MS_PER_HOUR:
            break
        assert window.count <= 1.5 * 5000 + 1
        per_hour[(window.start_ms - T0) // MS_PER_HOUR] += window.count
    for hour in (0, 1, 3):
        expected = 200 * sum(shape.rate_at(hour * 3600 + s) for s in range(3600))
        assert per_hour[hour] == pytest.approx(expected, rel=0.002)
    assert per_hour[2] > 4 * per_hour[3]


def test_quiet_hours_still_get_a_marker(tmp_path: Path) -> None:
    cfg = config(tmp_path, rate="0 events/s", start="2026-01-05T00:00:00Z", bad_data={})
    generator = AdLogGenerator(cfg, ledger_dir=tmp_path / "ledger")
    generator.advance_to(7200)
    generator.close()
    markers = sorted((tmp_path / "landing").rglob("_SUCCESS"))
    assert len(markers) == 2
    for marker in markers:
        content = json.loads(marker.read_text())
        assert content["records"] == 0 and content["files"] == []
        assert [p.name for p in marker.parent.iterdir()] == ["_SUCCESS"]
    assert load_ledger(tmp_path).empty
    summary = json.loads((tmp_path / "ledger" / "summary.json").read_text())
    assert [p["records"] for p in summary["partitions"]] == [0, 0]


def test_event_source_is_the_generators_stream(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    source = EventSource(SourceConfig(**cfg.model_dump(exclude={"landing"})))
    generator = AdLogGenerator(cfg, ledger_dir=tmp_path / "ledger")
    results = generator.advance_to(900)
    batches = list(source.batches(900))
    assert [w for w, _ in batches] == [r.window for r in results]
    assert sum(len(e) for _, e in batches) == generator.records
    assert source.sim_seconds == generator.sim_seconds == 900
    assert list(source.batches(900)) == []


def test_wall_clock_scales_elapsed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr("dagstorm.run.clock.time.monotonic", lambda: now[0])
    clock = WallClock(compression=24)
    now[0] += 150.0
    assert simulated(clock) == pytest.approx(3600.0)
