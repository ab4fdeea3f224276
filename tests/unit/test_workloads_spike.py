"""Volume spikes: a spike of factor N for a window, exact over simulated time.

The schedule cuts batch windows at a spike's edges (``next_change``), so the
records generated inside ``[at, at + duration)`` are the integral of rate x shape
to within the one record carried by rounding; the ledger then counts them exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from dagstorm.workloads.config import GeneratorConfig, SourceConfig
from dagstorm.workloads.model.schedule import Schedule, Window
from dagstorm.workloads.model.schema import IMPRESSION
from dagstorm.workloads.sinks.generator import AdLogGenerator
from dagstorm.workloads.sinks.ledger import load_ledger
from dagstorm.workloads.source import EventSource
from dagstorm.workloads.traffic.shapes import Diurnal, Product, Shape, Spike, Steady, Sum

T0 = 1_767_571_200_000
SHAPE: TypeAdapter[Any] = TypeAdapter(Shape)


def windows_until(schedule: Schedule, seconds: float) -> list[Window]:
    out: list[Window] = []
    for window in schedule.windows():
        if window.start_ms >= T0 + seconds * 1000:
            return out
        out.append(window)
    raise AssertionError("unreachable")


def count_in(windows: list[Window], begin_s: float, end_s: float) -> int:
    lo, hi = T0 + begin_s * 1000, T0 + end_s * 1000
    return sum(w.count for w in windows if lo <= w.start_ms and w.end_ms <= hi)


def test_spike_takes_durations() -> None:
    spike = SHAPE.validate_python({"kind": "spike", "at": "2h", "duration": "10m", "factor": 8})
    assert spike == Spike(at=7200, duration=600, factor=8)
    ramped = SHAPE.validate_python(
        {"kind": "spike", "at": "1h30m", "duration": "20m", "rise": "1m", "fall": 90}
    )
    assert (ramped.at, ramped.rise, ramped.fall) == (5400, 60, 90)


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"at": "2h", "duration": "0s"}, "greater than 0"),
        ({"at": -5, "duration": "1m"}, "cannot be negative"),
        ({"at": "2h", "duration": "10m", "rise": "6m", "fall": "5m"}, "exceed duration"),
        ({"at": "2h"}, "duration"),
    ],
)
def test_bad_spikes_are_rejected(spec: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError) as info:
        SHAPE.validate_python({"kind": "spike", **spec})
    assert words in str(info.value)


def test_next_change_of_spikes_and_compositions() -> None:
    spike = Spike(at=100, duration=60, rise=10, fall=20)
    assert [spike.next_change(t) for t in (0, 100, 105, 110, 140, 160)] == [
        100,
        110,
        110,
        140,
        160,
        None,
    ]
    other = Spike(at=130, duration=5)
    assert Product(factors=[Diurnal(), spike, other]).next_change(112) == 130
    assert Sum(terms=[Steady(), other]).next_change(200) is None
    assert Diurnal().next_change(0) is None


@pytest.mark.parametrize("factor", [0.0, 2.0, 8.0, 50.0])
def test_a_spike_multiplies_the_records_of_its_window_exactly(factor: float) -> None:
    rate = 1_234.5
    spike = Spike(at=7200, duration=600, factor=factor)
    windows = windows_until(
        Schedule(events_per_second=rate, start_ms=T0, shape=spike, batch_rows=50_000), 3 * 3600
    )
    # No window straddles an edge of the spike.
    for edge in (T0 + 7_200_000, T0 + 7_800_000):
        assert not any(w.start_ms < edge < w.end_ms for w in windows)
    assert abs(count_in(windows, 7200, 7800) - factor * rate * 600) <= 1
    assert abs(count_in(windows, 6600, 7200) - rate * 600) <= 1
    assert abs(count_in(windows, 7800, 8400) - rate * 600) <= 1
    assert abs(sum(w.count for w in windows) - rate * (3 * 3600 + (factor - 1) * 600)) <= 1


def test_a_spike_on_a_base_level_and_with_ramps() -> None:
    rate = 500.0
    shape = Product(
        factors=[Steady(level=2), Spike(at=600, duration=300, factor=6, rise=60, fall=120)]
    )
    windows = windows_until(Schedule(events_per_second=rate, start_ms=T0, shape=shape), 1800)
    # Integral: 2 x (60 s rising 1->6, 120 s at 6, 120 s falling 6->1) x rate.
    expected = 2 * rate * (60 * 3.5 + 120 * 6 + 120 * 3.5)
    assert abs(count_in(windows, 600, 900) - expected) <= 1


def test_spike_rate_over_simulated_time_in_the_events() -> None:
    config = SourceConfig.model_validate(
        {
            "seed": 2,
            "rate": "200 events/s",
            "shape": {"kind": "spike", "at": "5m", "duration": "2m", "factor": 8},
        }
    )
    src = EventSource(config)
    times = np.concatenate(
        [e.event_ms[e.event_type == IMPRESSION] for _, e in src.batches(10 * 60)]
    )
    seconds = (times - src.start_ms) // 1000
    per_minute = np.bincount(seconds // 60, minlength=10)
    assert per_minute[5] == per_minute[6] == 8 * 200 * 60
    assert all(per_minute[m] == 200 * 60 for m in (0, 1, 2, 3, 4, 7, 8, 9))


def test_workload_stats_and_ledger_count_every_spiked_record(tmp_path: Path) -> None:
    config = GeneratorConfig.model_validate(
        {
            "seed": 4,
            "rate": "50 events/s",
            "start": "2026-01-05T00:00:00Z",
            "shape": {"kind": "spike", "at": "20m", "duration": "10m", "factor": 10},
            "landing": {"root": str(tmp_path / "landing")},
        }
    )
    generator = AdLogGenerator(config, ledger_dir=tmp_path / "ledger")
    results = []
    for step in range(1, 61):  # simulated minutes, as the workload's ticks would ask
        results.extend(generator.advance_to(step * 60.0))
    generator.close()
    # The workload's stats are differences of these totals: they add up to every record.
    assert sum(r.records for r in results) == generator.records
    assert int(load_ledger(tmp_path / "ledger")["generated"].sum()) == generator.records
    lines = sum(p.read_bytes().count(b"\n") for p in (tmp_path / "landing").rglob("part-*.jsonl"))
    assert lines == generator.records
    inside = sum(r.window.count for r in results if 1200 <= (r.window.start_ms - T0) / 1000 < 1800)
    assert abs(inside - 10 * 50 * 600) <= 1
