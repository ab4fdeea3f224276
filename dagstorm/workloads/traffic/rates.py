"""Rates in human units, the ``scale`` factor and ``time_compression``.

- A rate is bytes or events per second of *simulated* time: ``"2TB/day"``,
  ``"23.1 MB/s"``, ``"50k events/s"``, ``"1.5M events/min"``. Byte units are decimal
  (``kB``/``KB``, MB, GB, TB, PB = 10^3..10^15) or binary (KiB, MiB, GiB, TiB);
  counts take ``k``, ``M``, ``G``/``B`` (billion); times ``s``, ``min``, ``h``,
  ``day``, ``week`` (and spelled-out forms). ``per`` may replace ``/``.
- ``scale`` shrinks production volume to what this machine should generate:
  ``0.0005``, ``"1/2000"`` or ``"0.05%"``.
- ``time_compression`` runs simulated time faster than wall time: with 24, a
  simulated day passes in one wall hour and an hourly partition every 2.5 wall
  minutes. Wall rates are simulated rates times the compression.

Bad input raises :class:`RateError`, a :class:`ScenarioError` that pydantic also
reports with its location (it is a ``ValueError`` too).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

from dagstorm.core.errors import ScenarioError

Unit = Literal["bytes", "events"]
EXAMPLES = '"2TB/day", "23.1 MB/s", "50k events/s", "1.5M events/min"'

_BYTES = {"b": 1, "byte": 1, "bytes": 1}
_BYTES.update({p + "b": 1000**i for i, p in enumerate(("k", "m", "g", "t", "p"), start=1)})
_BYTES.update({p + "ib": 1024**i for i, p in enumerate(("k", "m", "g", "t", "p"), start=1)})
_COUNT_UNITS = {"event", "events", "ev", "record", "records", "rec", "msg", "msgs", "messages"}
_MULTIPLIERS = {"": 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "B": 1e9, "bn": 1e9}
_SECONDS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86_400),
    **dict.fromkeys(("w", "week", "weeks"), 7 * 86_400),
}
_NUMBER = r"(?P<num>\d+(?:\.\d*)?|\.\d+)(?:[eE](?P<exp>[+-]?\d+))?"
_RATE = re.compile(
    rf"^\s*{_NUMBER}\s*(?P<unit>[A-Za-z ]*?)\s*(?:/|\s+per\s+)\s*(?P<time>[A-Za-z]+)\s*$"
)
_COUNT = re.compile(r"^(?P<mult>k|K|M|G|B|bn)?\s*(?P<noun>[A-Za-z]+)$")


class RateError(ScenarioError, ValueError):
    """A rate, scale or compression that cannot be understood."""

    def __str__(self) -> str:
        return self.render()


@dataclass(frozen=True)
class Rate:
    """A simulated-time rate: ``per_second`` bytes or events each second."""

    per_second: float
    unit: Unit
    text: str = ""

    def events_per_second(self, record_bytes: float) -> float:
        """The rate in events per second; byte rates divide by ``record_bytes``."""
        if self.unit == "events":
            return self.per_second
        if record_bytes <= 0:
            raise ValueError("record_bytes must be > 0")
        return self.per_second / record_bytes

    def bytes_per_second(self, record_bytes: float) -> float:
        """The rate in bytes per second; event rates multiply by ``record_bytes``."""
        return self.per_second if self.unit == "bytes" else self.per_second * record_bytes

    def __str__(self) -> str:
        return self.text or f"{self.per_second:g} {self.unit}/s"


def _number(match: re.Match[str]) -> float:
    # float() of the written form: a huge exponent gives inf (refused below), never a
    # giant int or an OverflowError.
    return float(match["num"] + (f"e{match['exp']}" if match["exp"] else ""))


def parse_rate(text: str) -> Rate:
    """Parse ``"2TB/day"``-style text into a :class:`Rate`."""
    fix = f"write an amount, a unit and a time, e.g. {EXAMPLES}"
    match = _RATE.match(text)
    if match is None:
        raise RateError(f"cannot read rate {_shown(text)}", fix=fix)
    value, unit, per = _number(match), match["unit"].strip(), match["time"]
    seconds = _SECONDS.get(per) or _SECONDS.get(per.lower())
    if seconds is None:
        raise RateError(
            f"unknown time unit {_shown(per)} in rate {_shown(text)}", fix="use s, min, h or day"
        )
    if unit.lower() in _BYTES:
        rate = Rate(value * _BYTES[unit.lower()] / seconds, "bytes", text.strip())
    else:
        count = _COUNT.match(unit.replace(" ", ""))
        if count is None or count["noun"].lower() not in _COUNT_UNITS:
            raise RateError(
                f"unknown unit {_shown(unit)} in rate {_shown(text)}",
                fix="use bytes (B, kB, MB, GB, TB, KiB, ...) or events (k/M events)",
            )
        multiplier = _MULTIPLIERS[count["mult"] or ""]
        rate = Rate(value * multiplier / seconds, "events", text.strip())
    if not math.isfinite(rate.per_second):
        raise RateError(f"rate {_shown(text)} is too large", fix=fix)
    return rate


def parse_scale(value: str | float | int) -> float:
    """Parse a scale factor: a number, ``"1/2000"`` or ``"0.05%"``; must be in (0, 1e6]."""
    fix = 'write a positive number, a fraction like "1/2000", or a percentage like "0.05%"'
    try:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError
        if isinstance(value, int | float):
            scale = float(value)
        elif "/" in value:
            top, bottom = value.split("/", 1)
            scale = float(top) / float(bottom)
        elif value.strip().endswith("%"):
            scale = float(value.strip()[:-1]) / 100.0
        else:
            scale = float(value)
    except (ValueError, ZeroDivisionError, OverflowError):
        raise RateError(f"cannot read scale {_shown(value)}", fix=fix) from None
    if not 0 < scale <= 1e6:
        raise RateError(f"scale must be > 0 and <= 1e6, got {_shown(value)}", fix=fix)
    return scale


def _shown(value: object) -> str:
    text = repr(value) if isinstance(value, str | int | float) else type(value).__name__
    return text if len(text) <= 40 else text[:39] + "…"


def check_compression(value: float) -> float:
    """Validate ``time_compression``: simulated seconds per wall second, in (0, 1e6]."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1e6:
        raise RateError(
            f"time_compression must be a number > 0 and <= 1e6, got {_shown(value)}",
            fix="24 runs a simulated day in one wall hour; 1 is real time",
        )
    return float(value)


def _coerce_rate(value: Any) -> Rate:
    if isinstance(value, Rate):
        return value
    if not isinstance(value, str):
        raise RateError(f"a rate needs a unit, got {_shown(value)}", fix=f"write e.g. {EXAMPLES}")
    return parse_rate(value)


RateSpec = Annotated[
    Rate,
    PlainValidator(_coerce_rate),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "examples": ["2TB/day", "50k events/s"]}),
]
"""A pydantic field type: a :class:`Rate` written as text."""

ScaleSpec = Annotated[
    float,
    PlainValidator(parse_scale),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "examples": ["1/2000"]}]}),
]
"""A pydantic field type: a scale factor written as a number, fraction or percentage."""

CompressionSpec = Annotated[float, PlainValidator(check_compression)]
"""A pydantic field type: a time compression factor."""


@dataclass(frozen=True)
class RatePlan:
    """A rate resolved for one run: simulated and wall rates, and partition cadence."""

    rate: Rate
    scale: float
    time_compression: float
    record_bytes: float

    @property
    def sim_events_per_second(self) -> float:
        """Events per simulated second actually generated (rate x scale)."""
        return self.rate.events_per_second(self.record_bytes) * self.scale

    @property
    def sim_bytes_per_second(self) -> float:
        """Bytes (JSON lines) per simulated second actually generated."""
        return self.sim_events_per_second * self.record_bytes

    @property
    def wall_events_per_second(self) -> float:
        """Events per wall second (simulated rate x compression)."""
        return self.sim_events_per_second * self.time_compression

    @property
    def wall_bytes_per_second(self) -> float:
        """Bytes per wall second (simulated rate x compression)."""
        return self.sim_bytes_per_second * self.time_compression

    @property
    def partition_wall_seconds(self) -> float:
        """Wall seconds between hourly partitions."""
        return 3600.0 / self.time_compression

    def describe(self) -> str:
        """One line stating simulated and wall rates."""
        return (
            f"{self.rate} x scale {self.scale:g} = {self.sim_bytes_per_second / 1e3:,.1f} kB/s "
            f"({self.sim_events_per_second:,.1f} events/s) simulated; x{self.time_compression:g} "
            f"compression = {self.wall_bytes_per_second / 1e3:,.1f} kB/s "
            f"({self.wall_events_per_second:,.1f} events/s) wall; an hourly partition every "
            f"{self.partition_wall_seconds:g} wall s"
        )
