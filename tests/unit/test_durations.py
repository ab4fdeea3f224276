from __future__ import annotations

import math

import pytest

from dagstorm.core.durations import (
    clock_text,
    coarse_text,
    duration_text,
    parse_duration,
    stopwatch_text,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("30s", 30),
        ("2m", 120),
        ("1h30m", 5400),
        ("1d", 86400),
        ("45", 45),
        (12, 12.0),
        ("1.5h", 5400),
        (" 2 m ", 120),
    ],
)
def test_parse(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "5 minutes", "1x", "-3", "m5", True])
def test_parse_refuses_with_the_accepted_forms(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (5, "5s"),
        (2.5, "2.5s"),
        (59.96, "60s"),
        (3725, "1h2m5s"),
        (120, "2m"),
        (90061, "25h1m1s"),
        (-360, "-6m"),
        (math.inf, "never"),
        (None, "n/a"),
        (math.nan, "n/a"),
    ],
)
def test_compact(seconds: float | None, text: str) -> None:
    assert duration_text(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "00:00:00"), (3725, "01:02:05"), (3724.6, "01:02:05"), (90061, "1d 01:01:01")],
)
def test_clock(seconds: float, text: str) -> None:
    assert clock_text(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00"), (125.9, "2:05"), (4500, "1:15:00"), (-30, "-0:30"), (None, "-")],
)
def test_stopwatch(seconds: float | None, text: str) -> None:
    assert stopwatch_text(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(30, "30s"), (2899, "48m"), (7530, "2h05m"), (97200, "1d03h"), (-90, "-1m"), (None, "-")],
)
def test_coarse(seconds: float | None, text: str) -> None:
    assert coarse_text(seconds) == text


@pytest.mark.parametrize(
    "value",
    [{"a": "b"}, [1, 2], None, float("nan"), float("inf"), -0.5, "400d", b"30s", {1, 2}],
)
def test_any_value_gives_a_value_error_never_another_error(value: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(value)
