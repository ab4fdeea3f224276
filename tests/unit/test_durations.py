from __future__ import annotations

import pytest

from dagstorm.core.durations import format_duration, parse_duration


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
        parse_duration(text)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("seconds", "text"), [(5, "5s"), (2.5, "2.5s"), (3725, "1h2m5s"), (120, "2m")]
)
def test_format(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    "value",
    [{"a": "b"}, [1, 2], None, float("nan"), float("inf"), -0.5, "400d", b"30s", {1, 2}],
)
def test_any_value_gives_a_value_error_never_another_error(value: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(value)
