"""Durations: read from ``500ms``, ``30s``, ``2m``, ``1h30m``, ``1d``; written in four formats.

Every duration dagstorm shows is written by one of them:

- :func:`duration_text` — compact, ``1h2m5s`` or ``12.5s``: verdicts, summaries,
  the report (its chart axes too) and the CLI;
- :func:`clock_text` — a point on the run's timeline, ``01:02:05``: the dry run's
  plan and the engine's progress lines;
- :func:`stopwatch_text` — ``2:05`` or ``1:02:05``: the TUI's wall clock, countdowns
  and event times;
- :func:`coarse_text` — the two largest units, ``2h05m`` or ``48m``: the TUI's
  simulated time, which runs too fast for seconds to be read.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import BeforeValidator, Field

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


def duration_text(seconds: float | None) -> str:
    """Compact: ``3725`` → ``1h2m5s``, ``2.5`` → ``2.5s`` (one decimal under a minute).

    ``-360`` → ``-6m``; infinite → ``never`` (a fault that never recovered); None or
    NaN → ``n/a``.
    """
    if seconds is None or math.isnan(seconds):
        return "n/a"
    if math.isinf(seconds):
        return "never"
    if seconds < 0:
        return "-" + duration_text(-seconds)
    if seconds < 60:
        return f"{seconds:.1f}s".replace(".0s", "s")
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    out = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return out + (f"{secs}s" if secs else "")


def clock_text(seconds: float) -> str:
    """A time of day on the run's clock: ``3725`` → ``01:02:05``; past a day ``1d 01:02:05``."""
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}d {text}" if days else text


def stopwatch_text(seconds: float | None) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour (whole seconds, cut not rounded); ``-`` for None."""
    if seconds is None:
        return "-"
    sign = "-" if seconds < 0 else ""
    s = int(abs(seconds))
    hours, rest = divmod(s, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}" if hours else f"{sign}{minutes}:{secs:02d}"


def coarse_text(seconds: float | None) -> str:
    """The two largest units, as SREs say them: ``2h05m``, ``48m``, ``30s``, ``1d03h``; ``-``."""
    if seconds is None:
        return "-"
    s = int(abs(seconds))
    sign = "-" if seconds < 0 else ""
    if s >= 86400:
        return f"{sign}{s // 86400}d{(s % 86400) // 3600:02d}h"
    if s >= 3600:
        return f"{sign}{s // 3600}h{(s % 3600) // 60:02d}m"
    if s >= 60:
        return f"{sign}{s // 60}m"
    return f"{sign}{s}s"


#: A model field of wall seconds, written as a duration (``30s``, ``2m``) or a number.
Seconds = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]
#: A duration that must be more than zero (a run's length, a sampling interval).
PositiveSeconds = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]
