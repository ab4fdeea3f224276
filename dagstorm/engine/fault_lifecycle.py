"""A run's faults: journal the intent, inject, revert — scheduled or ad-hoc.

Every step is journalled (``fault_intent`` → ``fault_applied`` or ``fault_error``
→ ``fault_reverted``); the :class:`~dagstorm.faults.manager.FaultManager` keeps
the state-directory fault journal that ``dagstorm recover`` reads after a crash.
A fault error is returned (and journalled), never raised: the run goes on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from dagstorm.core.errors import FaultError
from dagstorm.engine.live_run import LiveRun
from dagstorm.faults.specs import FaultSpecBase
from dagstorm.run.events import FaultApplied, FaultErrorEvent, FaultIntent, FaultReverted


@dataclass(frozen=True)
class Adhoc:
    """A fault injected by a control command: who asked, and how long it is held."""

    by: str
    duration_s: float | None

    def fields(self) -> dict[str, Any]:
        """What its ``fault_intent`` and ``fault_applied`` events add."""
        return {"adhoc": True, "by": self.by, "duration_s": self.duration_s}


def inject_fault(key: str, spec: FaultSpecBase, live: LiveRun, adhoc: Adhoc | None = None) -> str:
    """Journal the intent, inject and verify; '' or the error (journalled as fault_error)."""
    describe = spec.describe()
    live.described[key] = describe
    extra = adhoc.fields() if adhoc is not None else {}
    live.journal.emit(
        FaultIntent(fault_id=key, fault=describe, spec=spec.model_dump(mode="json"), **extra)
    )
    started = time.monotonic()
    try:
        held = live.manager.inject(spec)
    except FaultError as exc:
        live.journal.emit(FaultErrorEvent(fault_id=key, fault=describe, error=exc.render()))
        return exc.render()
    live.active[key] = held
    live.journal.emit(
        FaultApplied(
            fault_id=key,
            fault=describe,
            evidence=held.evidence,
            took_s=round(time.monotonic() - started, 3),
            journal_id=held.fault_id,
            **extra,
        )
    )
    return ""


def revert_fault(key: str, live: LiveRun, by: str | None = None) -> str:
    """Revert an applied fault now; '' or the error (also kept in the outcome)."""
    held = live.active.pop(key)
    live.deadlines.pop(key, None)
    describe = live.described.get(key, held.fault.spec.describe())
    started = time.monotonic()
    try:
        live.manager.revert(held)
    except FaultError as exc:
        live.outcome.fault_errors.append(exc.render())
        live.journal.emit(FaultErrorEvent(fault_id=key, fault=describe, error=exc.render()))
        return exc.render()
    took_s = round(time.monotonic() - started, 3)
    if by is None:  # a scheduled revert: no `by` field
        live.journal.emit(FaultReverted(fault_id=key, fault=describe, took_s=took_s))
    else:
        live.journal.emit(FaultReverted(fault_id=key, fault=describe, took_s=took_s, by=by))
    return ""


def expired_adhoc(live: LiveRun, now: float) -> list[str]:
    """The applied ad-hoc faults whose duration is over at ``now``, soonest first."""
    return [
        key
        for key, until in sorted(live.deadlines.items(), key=lambda item: item[1])
        if until <= now and key in live.active
    ]


def revert_all(live: LiveRun) -> None:
    """Every fault still applied, newest first (also after an error or a signal)."""
    for key in reversed(list(live.active)):
        revert_fault(key, live)
    live.outcome.fault_errors.extend(live.manager.revert_all())  # anything left over
