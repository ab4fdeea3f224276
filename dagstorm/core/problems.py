"""Problems in the files users write: one line each, ``file:line:column: what — fix: how``.

Models report several findings of one check at once with :func:`raise_all`
(pydantic keeps every error's place); :mod:`dagstorm.core.validation_words` turns
pydantic's own errors into problems in human words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

KeyPath = tuple[str | int, ...]
#: A problem line longer than this is cut (a value can be a megabyte of text).
MAX_LINE = 400
#: Error type of the findings models raise with :func:`raise_all`.
CHECK_ERROR = "dagstorm_check"


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """In file order: by file, line, column (a place without a line sorts last)."""

    def key(problem: Problem) -> tuple[str, int, int]:
        match = re.match(r"^(.*):(\d+):(\d+)$", problem.where)
        if match is None:
            return (problem.where, 1 << 30, 0)
        return (match.group(1), int(match.group(2)), int(match.group(3)))

    return sorted(problems, key=key)


def one_line(text: str, limit: int = MAX_LINE) -> str:
    """``text`` on one line: control characters escaped, cut to ``limit`` characters."""
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_value(value: Any) -> str:
    """What kind of value this is, as a YAML writer would say it."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, int | float):
        return f"the number {show(value)}"
    if isinstance(value, str):
        return f"the text {show(value)}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple | set | frozenset):
        return "a list" if isinstance(value, list | tuple) else "a set"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    if isinstance(value, bytes):
        return "binary data"
    return f"a {type(value).__name__}"


def show(value: Any, limit: int = 40) -> str:
    """A value, short and on one line, in backticks (text) or as written (numbers)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and not math.isfinite(value):
        return {math.inf: ".inf", -math.inf: "-.inf"}.get(value, ".nan")
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)  # `0`, not `0.0`
    if isinstance(value, int | float):
        text = repr(value)
        return text if len(text) <= limit else text[: limit - 1] + "…"
    if isinstance(value, str):
        return "`" + one_line(value, limit) + "`"
    return describe_value(value)


class FixableValueError(ValueError):
    """A ValueError that also says how to fix it (validators raise it; the fix is kept)."""

    def __init__(self, what: str, fix: str) -> None:
        super().__init__(what)
        self.fix = fix


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file (or worth a warning)."""

    where: str
    what: str
    fix: str
    warning: bool = False

    def __str__(self) -> str:
        label = "warning: " if self.warning else ""
        # Each part cut on its own: the fix always shows, however long the value was.
        return (
            f"{one_line(self.where, 300)}: {label}{one_line(self.what)} — fix: "
            f"{one_line(self.fix, 300)}"
        )


def raise_all(title: str, findings: Sequence[tuple[KeyPath, str]]) -> None:
    """Raise every ``(location, message)`` at once; pydantic keeps each one's place."""
    if findings:
        raise ValidationError.from_exception_data(
            title,
            [
                InitErrorDetails(
                    type=PydanticCustomError(CHECK_ERROR, "{message}", {"message": message}),
                    loc=loc,
                    input=None,
                )
                for loc, message in findings
            ],
        )


# ---------------------------------------------------------------- pydantic errors in words


__all__ = [
    "CHECK_ERROR",
    "MAX_LINE",
    "FixableValueError",
    "KeyPath",
    "Problem",
    "describe_value",
    "one_line",
    "raise_all",
    "show",
    "sort_problems",
]
