# mypy: disable-error-code="import-untyped"
"""pandas cells as plain Python values (None for NaN, NaT and NA)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def is_missing(value: Any) -> bool:
    """True for None, NaN, NaT and pd.NA."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def opt_float(value: Any) -> float | None:
    """A float, or None when missing."""
    return None if is_missing(value) else float(value)


def opt_int(value: Any) -> int | None:
    """An int, or None when missing."""
    return None if is_missing(value) else int(value)


def opt_str(value: Any) -> str | None:
    """A string, or None when missing."""
    return None if is_missing(value) else str(value)
