"""Numbers as the short texts used in verdicts, the summary, the story and the report.

None of them ever prints an exponent (``5e-05``): a reader should not have to
decode one. Scales read as ratios (``1:20,000``), small numbers as decimals.
"""

from __future__ import annotations

import math


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


def plain_number(value: float | None, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits, never in exponent form.

    ``0.00005`` → ``0.00005``, ``46729.6`` → ``46,730``, ``1.5`` → ``1.5``; None → ``n/a``.
    """
    if value is None or math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    text = f"{round(value, decimals):,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").removesuffix(".")
    return text


def scale_text(scale: float | None) -> str:
    """A scale as a ratio and a share: ``5e-05`` → ``1:20,000 (0.005%)``; 1 → ``1:1 (full)``."""
    if scale is None:
        return "n/a"
    if scale <= 0 or not math.isfinite(scale):
        return plain_number(scale)
    if scale >= 1:
        return "1:1 (full)" if scale == 1 else f"{plain_number(scale)}× full"
    ratio = 1 / scale
    whole = round(ratio)
    shown = f"{whole:,}" if abs(ratio - whole) <= 1e-6 * ratio else plain_number(ratio)
    return f"1:{shown} ({plain_number(scale * 100)}%)"


def plural(count: int, noun: str) -> str:
    """``1 run``, ``3 runs``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
