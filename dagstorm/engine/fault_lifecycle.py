"""A run's faults: journal the intent, inject, revert — scheduled or ad-hoc.

Every step is journalled (``fault_intent`` → ``fault_applied`` or ``fault_error``
→ ``fault_reverted``); the :class:`~dagstorm.faults.manager.FaultManager` keeps
the state-directory fault journal that ``dagstorm recover`` reads after a crash.
A fault error is returned (and journalled), never raised: the run goes on.
"""

from __future__ import annotations

import time
from typing import Any

from dagstorm.core.errors import FaultError
from dagstorm.engine.live_run import LiveRun
from dagstorm.faults.specs import FaultSpecBase


def inject_fault(key: str, spec: FaultSpecBase, live: LiveRun, **extra: Any) -> str:
    """Journal the intent, inject and verify; '' or the error (journalled as fault_error)."""
    describe = spec.describe()
    live.described[key] = describe
    live.journal.emit(
        "fault_intent", fault_id=key, fault=describe, spec=spec.model_dump(mode="json"), **extra
    )
    started = time.monotonic()
    try:
        held = live.manager.inject(spec)
    except FaultError as exc:
        live.journal.emit("fault_error", fault_id=key, fault=describe, error=exc.render())
        return exc.render()
    live.active[key] = held
    live.journal.emit(
        "fault_applied",
        fault_id=key,
        fault=describe,
        evidence=held.evidence,
        took_s=round(time.monotonic() - started, 3),
        journal_id=held.fault_id,
        **extra,
    )
    return ""


def revert_fault(key: str, live: LiveRun, **extra: Any) -> str:
    """Revert an applied fault now; '' or the error (also kept in the outcome)."""
    held = live.active.pop(key)
    live.deadlines.pop(key, None)
    describe = live.described.get(key, held.fault.spec.describe())
    started = time.monotonic()
    try:
        live.manager.revert(held)
    except FaultError as exc:
        live.outcome.fault_errors.append(exc.render())
        live.journal.emit("fault_error", fault_id=key, fault=describe, error=exc.render())
        return exc.render()
    live.journal.emit(
        "fault_reverted",
        fault_id=key,
        fault=describe,
        took_s=round(time.monotonic() - started, 3),
        **extra,
    )
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
