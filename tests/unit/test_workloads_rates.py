"""Rates in human units, scale and time compression (dagstorm.workloads.traffic.rates)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from dagstorm.core.errors import ScenarioError
from dagstorm.workloads.traffic.rates import (
    CompressionSpec,
    Rate,
    RateError,
    RatePlan,
    RateSpec,
    ScaleSpec,
    check_compression,
    parse_rate,
    parse_scale,
)


@pytest.mark.parametrize(
    ("text", "per_second", "unit"),
    [
        ("2TB/day", 2e12 / 86_400, "bytes"),
        ("23.1 MB/s", 23.1e6, "bytes"),
        ("50k events/s", 50_000.0, "events"),
        ("1.5M events/min", 25_000.0, "events"),
        ("100 events per second", 100.0, "events"),
        ("1 GiB/h", 2**30 / 3600, "bytes"),
        ("2B events/day", 2e9 / 86_400, "events"),
        ("3 KB/s", 3000.0, "bytes"),
        ("  7 records / min ", 7 / 60, "events"),
        ("1e3 msgs/s", 1000.0, "events"),
        ("1 PB/week", 1e15 / (7 * 86_400), "bytes"),
    ],
)
def test_parse_rate_good(text: str, per_second: float, unit: str) -> None:
    rate = parse_rate(text)
    assert rate.unit == unit
    assert rate.per_second == pytest.approx(per_second)
    assert str(rate) == text.strip()


def test_two_tb_per_day_is_the_facts_line() -> None:
    assert parse_rate("2TB/day").per_second / 1e6 == pytest.approx(23.148, abs=1e-3)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "cannot read rate"),
        ("fast", "cannot read rate"),
        ("2TB", "cannot read rate"),
        ("2 TB/fortnight", "unknown time unit"),
        ("2 furlongs/s", "unknown unit"),
        ("5x events/s", "unknown unit"),
        ("-3 events/s", "cannot read rate"),
        ("events/s", "cannot read rate"),
    ],
)
def test_parse_rate_bad(text: str, fragment: str) -> None:
    with pytest.raises(RateError) as info:
        parse_rate(text)
    assert fragment in info.value.what
    assert info.value.fix
    assert isinstance(info.value, ScenarioError)
    assert "fix:" in str(info.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.0005, 0.0005), ("1/2000", 0.0005), ("0.05%", 0.0005), (2, 2.0), ("1", 1.0)],
)
def test_parse_scale_good(value: str | float, expected: float) -> None:
    assert parse_scale(value) == pytest.approx(expected)


@pytest.mark.parametrize("value", ["", "1/0", "half", 0, -1, "0%", True, 1e7])
def test_parse_scale_bad(value: object) -> None:
    with pytest.raises(RateError):
        parse_scale(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [0, -2, True, "24", 1e9])
def test_compression_bad(value: object) -> None:
    with pytest.raises(RateError, match="time_compression"):
        check_compression(value)  # type: ignore[arg-type]


def test_worked_example_two_tb_day_scaled_and_compressed() -> None:
    """docs/workloads.md: 2 TB/day at 1/2000 with compression 24 (330 B records)."""
    plan = RatePlan(parse_rate("2TB/day"), parse_scale("1/2000"), 24.0, record_bytes=330.0)
    assert plan.sim_bytes_per_second == pytest.approx(11_574.07, rel=1e-4)
    assert plan.sim_events_per_second == pytest.approx(35.07, rel=1e-3)
    assert plan.wall_bytes_per_second == pytest.approx(277_777.8, rel=1e-4)
    assert plan.wall_events_per_second == pytest.approx(841.75, rel=1e-3)
    assert plan.partition_wall_seconds == 150.0
    assert "wall" in plan.describe() and "simulated" in plan.describe()


class _Workload(BaseModel):
    rate: RateSpec
    scale: ScaleSpec = 1.0
    compression: CompressionSpec = 1.0


def test_pydantic_fields_parse_and_serialise() -> None:
    w = _Workload.model_validate({"rate": "50k events/s", "scale": "1/2000", "compression": 24})
    assert w.rate == Rate(50_000.0, "events", "50k events/s")
    assert w.scale == pytest.approx(0.0005)
    assert w.model_dump()["rate"] == "50k events/s"


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"rate": "lots"}, "rate"),
        ({"rate": 5}, "rate"),
        ({"rate": "1 MB/s", "scale": "x"}, "scale"),
        ({"rate": "1 MB/s", "compression": 0}, "compression"),
    ],
)
def test_pydantic_reports_location(data: dict[str, object], loc: str) -> None:
    with pytest.raises(ValidationError) as info:
        _Workload.model_validate(data)
    errors = info.value.errors()
    assert errors[0]["loc"] == (loc,)
    assert "fix:" in errors[0]["msg"]


@given(
    value=st.floats(min_value=1e-3, max_value=1e9, allow_nan=False),
    unit=st.sampled_from(["B", "kB", "MB", "GB", "TB", "KiB", "MiB"]),
    per=st.sampled_from(["s", "min", "h", "day"]),
)
def test_byte_rates_scale_linearly(value: float, unit: str, per: str) -> None:
    one = parse_rate(f"1 {unit}/{per}").per_second
    assert parse_rate(f"{value!r} {unit}/{per}").per_second == pytest.approx(value * one)


@given(st.text(max_size=30))
def test_parse_rate_never_crashes_unexpectedly(text: str) -> None:
    try:
        rate = parse_rate(text)
    except RateError:
        return
    assert rate.per_second >= 0
