"""Targets written as text: ``">= 95%"``, ``"<= 10m"``, ``"< 2s"``, ``0``."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from dagstorm.core.durations import parse_duration
from dagstorm.core.problems import describe_value, show

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "=": operator.eq,
}
_TEXT = re.compile(r"^\s*(>=|<=|==|=|>|<)?\s*(.+?)\s*$")


@dataclass(frozen=True)
class Target:
    """A comparison against a number (percent as a fraction, durations in seconds)."""

    op: str
    value: float
    text: str

    def passes(self, measured: float) -> bool:
        """True if ``measured`` meets the target."""
        return _OPS[self.op](measured, self.value)

    def __str__(self) -> str:
        return self.text


def parse_target(raw: object, *, unit: str = "number", default_op: str = "<=") -> Target:
    """Parse a target; ``unit`` is ``number``, ``percent`` or ``duration``.

    A percentage is a share: ``95%``, ``95`` or ``0.95``, between 0 % and 100 %.
    Raises ValueError (whatever ``raw`` is) naming the accepted forms.
    """
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValueError(f"a target is a number or text like '>= 95%', got {describe_value(raw)}")
    if isinstance(raw, int | float):
        return Target(default_op, _value(str(raw), unit, raw), str(raw))
    match = _TEXT.match(raw)
    if not match:
        raise ValueError(f"{show(raw)} is not a target (e.g. '>= 95%', '<= 10m', 0)")
    op, body = match.group(1) or default_op, match.group(2)
    return Target(op, _value(body, unit, raw), raw.strip())


def _value(body: str, unit: str, raw: object) -> float:
    kind = {"percent": "a percentage like 95%", "duration": "a duration like 10m"}
    try:
        if unit == "percent":
            value = float(body[:-1]) / 100 if body.endswith("%") else float(body)
            if not body.endswith("%") and value > 1:
                value /= 100  # `95` means 95 %
        elif unit == "duration":
            value = parse_duration(body)
        else:
            value = float(body)
    except ValueError:
        raise ValueError(f"{show(raw)}: expected {kind.get(unit, 'a number')}") from None
    if not math.isfinite(value):
        raise ValueError(f"{show(raw)}: expected a finite {kind.get(unit, 'number')}")
    if unit == "percent" and not 0 <= value <= 1:
        raise ValueError(f"{show(raw)}: a share is between 0% and 100%")
    return value
