"""Numbers as the short texts used in verdicts, the summary and the story."""

from __future__ import annotations

import math

from dagstorm.core.durations import format_duration


def duration_text(seconds: float | None) -> str:
    """``360`` → ``6m``; infinite → ``never``; None → ``n/a``; negative keeps its sign."""
    if seconds is None:
        return "n/a"
    if math.isinf(seconds):
        return "never"
    if seconds < 0:
        return "-" + format_duration(-seconds)
    return format_duration(seconds)


def percent_text(fraction: float | None) -> str:
    """``0.97916`` → ``97.9%``; None → ``n/a``."""
    if fraction is None:
        return "n/a"
    return f"{fraction * 100:.1f}%"


def number_text(value: float | None) -> str:
    """A rate or count without needless decimals: ``212``, ``12.5``."""
    if value is None:
        return "n/a"
    return f"{value:.1f}".removesuffix(".0")


def plural(count: int, noun: str) -> str:
    """``1 run``, ``3 runs``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
