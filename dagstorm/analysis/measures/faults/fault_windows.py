# mypy: disable-error-code="import-untyped"
"""Fault windows from the journal: when each fault was in effect.

A window is ``[applied.t − took_s, reverted.t]`` in wall seconds since the start:
it opens when the injection began (``took_s`` covers inject + verify) and closes
when the revert was journaled. A fault applied but never reverted in the journal
keeps its window open until the end of the run (``reverted`` False). A fault that
could not be applied (``fault_error`` without ``fault_applied``) has no window and
is listed in :attr:`FaultWindows.errors`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from dagstorm.analysis.measures.cells import is_missing
from dagstorm.run.events import Kind


@dataclass(frozen=True)
class FaultWindow:
    """One application of a fault, in wall seconds since the start."""

    fault_id: str
    fault: str
    start_t: float
    end_t: float
    applied_t: float
    #: False if the journal has no ``fault_reverted`` for it (the window runs to the end).
    reverted: bool


@dataclass(frozen=True)
class FaultErrorRow:
    """A ``fault_error`` event: a fault that could not be applied or reverted."""

    fault_id: str
    fault: str
    t: float
    error: str
    #: True if the fault had been applied (the error is about its revert).
    applied: bool


@dataclass(frozen=True)
class FaultWindows:
    """Every fault window in order of start, and the faults' errors."""

    windows: tuple[FaultWindow, ...]
    errors: tuple[FaultErrorRow, ...]


def fault_windows(faults: pd.DataFrame, end_t: float) -> FaultWindows:
    """The windows of the ``faults`` frame (fault_* events in journal order)."""
    open_: dict[str, tuple[float, float, str]] = {}
    windows: list[FaultWindow] = []
    errors: list[FaultErrorRow] = []
    applied_ids: set[str] = set()
    for row in faults.to_dict("records"):
        fault_id = str(row["fault_id"])
        name = _name(row)
        t = float(row["t"])
        if row["kind"] == Kind.FAULT_APPLIED:
            took = 0.0 if is_missing(row["took_s"]) else float(row["took_s"])
            open_[fault_id] = (max(0.0, t - took), t, name)
            applied_ids.add(fault_id)
        elif row["kind"] == Kind.FAULT_REVERTED and fault_id in open_:
            start, applied, name = open_.pop(fault_id)
            windows.append(FaultWindow(fault_id, name, start, t, applied, reverted=True))
        elif row["kind"] == Kind.FAULT_ERROR:
            errors.append(
                FaultErrorRow(fault_id, name, t, str(row["error"]), fault_id in applied_ids)
            )
    for fault_id, (start, applied, name) in open_.items():
        windows.append(FaultWindow(fault_id, name, start, end_t, applied, reverted=False))
    windows.sort(key=lambda w: (w.start_t, w.fault_id))
    return FaultWindows(tuple(windows), tuple(errors))


def horizon(windows: tuple[FaultWindow, ...], index: int, end_t: float) -> float:
    """Where window ``index``'s aftermath ends: the next window starting after it ends."""
    current = windows[index]
    later = [w.start_t for w in windows if w.start_t >= current.end_t and w is not current]
    return min(later) if later else end_t


def _name(row: dict[str, Any]) -> str:
    return str(row["fault"]) if not is_missing(row["fault"]) else str(row["fault_id"])
