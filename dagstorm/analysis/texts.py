"""Numbers as the short texts used in verdicts, the summary and the story."""

from __future__ import annotations


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
