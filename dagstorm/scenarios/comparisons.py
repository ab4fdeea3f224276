"""Targets written as text: ``">= 95%"``, ``"<= 10m"``, ``"< 2s"``, ``0``."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from dagstorm.core.durations import parse_duration

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


def parse_target(raw: str | float | int, *, unit: str = "number", default_op: str = "<=") -> Target:
    """Parse a target; ``unit`` is ``number``, ``percent`` or ``duration``.

    Raises ValueError naming the accepted forms.
    """
    if isinstance(raw, bool):
        raise ValueError("a target is a number or text like '>= 95%'")
    if isinstance(raw, int | float):
        value = float(raw) / 100 if unit == "percent" and raw > 1 else float(raw)
        return Target("==" if default_op == "==" else default_op, value, str(raw))
    match = _TEXT.match(raw)
    if not match:
        raise ValueError(f"`{raw}` is not a target (e.g. '>= 95%', '<= 10m', 0)")
    op, body = match.group(1) or default_op, match.group(2)
    try:
        if unit == "percent":
            value = float(body.rstrip("%")) / 100 if body.endswith("%") else float(body)
            if value > 1:
                value /= 100
        elif unit == "duration":
            value = parse_duration(body)
        else:
            value = float(body)
    except ValueError:
        kind = {"percent": "a percentage like 95%", "duration": "a duration like 10m"}
        raise ValueError(f"`{raw}`: expected {kind.get(unit, 'a number')}") from None
    return Target(op, value, raw.strip())
