"""Durations in human units: ``500ms``, ``30s``, ``2m``, ``1h30m``, ``1d``."""

from __future__ import annotations

import math
import re

from dagstorm.core.problems import FixableValueError, describe_value

#: The longest duration accepted anywhere (a year, plus a leap day): more is a typo.
MAX_SECONDS = 366 * 86400.0
_FORMS = "a number of seconds or text like 500ms, 30s, 2m, 1h30m, 1d"
_FIX = "write e.g. 90s, 2m or 1h30m"
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)")


def parse_duration(text: object) -> float:
    """Seconds in ``text``; a bare number is seconds.

    Raises ValueError (never another error, whatever ``text`` is) naming the
    accepted forms: a value that is no duration, negative, not finite or over a year.
    """
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise FixableValueError(f"a duration is {_FORMS}; got {describe_value(text)}", _FIX)
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        raw = text.strip().lower().replace(" ", "")
        seconds = _parse_text(raw, text)
    if math.isnan(seconds):
        raise FixableValueError(f"a duration is {_FORMS}; got .nan", _FIX)
    if seconds < 0:
        raise FixableValueError(f"a duration cannot be negative: {text}", _FIX)
    if math.isinf(seconds):
        raise FixableValueError("a duration must be finite, got .inf", _FIX)
    if seconds > MAX_SECONDS:
        raise FixableValueError(f"a duration of more than a year ({text}) is not a test", _FIX)
    return seconds


def _parse_text(raw: str, text: str) -> float:
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        return float(raw)
    pos, total = 0, 0.0
    for match in _PART.finditer(raw):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(raw) or not raw:
        shown = text if len(text) <= 40 else text[:39] + "…"
        raise FixableValueError(f"`{shown}` is not a duration ({_FORMS})", _FIX)
    return total


def format_duration(seconds: float) -> str:
    """``3725`` → ``1h2m5s``; under a minute keeps one decimal."""
    if seconds < 60:
        return f"{seconds:.1f}s".replace(".0s", "s")
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    out = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return out + (f"{secs}s" if secs else "")
