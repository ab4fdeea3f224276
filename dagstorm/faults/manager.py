"""The fault lifecycle with the rollback guarantee.

``inject``: check targets (nothing happens if they are not declared) → journal
the intent (fsync'd) → inject → journal applied → verify → journal verified. A
failure at any step reverts what may have been applied. ``revert_all`` undoes
every active fault in reverse order; the manager is a context manager that runs
it on any exit: normal end, error, Ctrl-C, and SIGTERM (turned into an
exception by :func:`sigterm_raises`). After a SIGKILL, `dagstorm recover`
reverts from the journal.
"""

from __future__ import annotations

import signal
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType, TracebackType
from typing import Self

from dagstorm.core.errors import DagstormError, FaultError
from dagstorm.faults.base import Fault, FaultContext
from dagstorm.faults.kinds import build_fault
from dagstorm.faults.specs import FaultSpecBase


class Terminated(BaseException):
    """SIGTERM arrived; raised so that cleanup runs like for Ctrl-C."""


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass
class ActiveFault:
    """A fault that was injected and not yet reverted."""

    fault: Fault
    evidence: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def fault_id(self) -> str:
        """The fault's id (also in the journal)."""
        return self.fault.fault_id


def new_fault_id() -> str:
    """A short unique id."""
    return uuid.uuid4().hex[:10]


class FaultManager:
    """Injects faults with journaling; reverts every one of them, whatever happens."""

    def __init__(self, ctx: FaultContext) -> None:
        self.ctx = ctx
        self.active: list[ActiveFault] = []
        self._lock = threading.Lock()

    def check(self, spec: FaultSpecBase) -> None:
        """Refuse undeclared targets without touching anything."""
        build_fault(spec, "check", self.ctx).check_targets()

    def inject(self, spec: FaultSpecBase, *, fault_id: str | None = None) -> ActiveFault:
        """Inject, verify and remember one fault (reverted again if any step fails)."""
        fault = build_fault(spec, fault_id or new_fault_id(), self.ctx)
        fault.check_targets()
        journal = self.ctx.journal
        spec_data = spec.model_dump(mode="json")
        journal.record(fault.fault_id, "intent", spec=spec_data)
        active = ActiveFault(fault)
        with self._lock:
            self.active.append(active)
        try:
            fault.applied = fault.inject()
            journal.record(fault.fault_id, "applied", detail=fault.applied)
            active.evidence = fault.verify()
            journal.record(fault.fault_id, "verified", detail={"evidence": active.evidence})
        except (DagstormError, OSError) as exc:
            message = exc.render() if isinstance(exc, DagstormError) else str(exc)
            journal.record(fault.fault_id, "inject_failed", error=message)
            self.revert(active)
            raise FaultError(
                f"{spec.describe()} could not be applied: {message}",
                fix="the fault was reverted; see `dagstorm stack status`",
            ) from None
        except BaseException:
            self.revert(active)
            raise
        return active

    def revert(self, active: ActiveFault) -> None:
        """Revert one fault and journal it; harmless if it was already reverted."""
        with self._lock:
            if active not in self.active:
                return
        fault = active.fault
        try:
            fault.stop()
            fault.revert()
        except (DagstormError, OSError) as exc:
            message = exc.render() if isinstance(exc, DagstormError) else str(exc)
            active.errors.append(message)
            self.ctx.journal.record(fault.fault_id, "revert_failed", error=message)
            raise FaultError(
                f"reverting {fault.spec.describe()} failed: {message}",
                fix="run `dagstorm recover`",
            ) from None
        self.ctx.journal.record(fault.fault_id, "reverted")
        with self._lock:
            self.active.remove(active)

    def revert_all(self) -> list[str]:
        """Revert every active fault, newest first; returns the errors (all are tried)."""
        errors: list[str] = []
        for active in reversed(list(self.active)):
            try:
                self.revert(active)
            except FaultError as exc:
                errors.append(exc.render())
        return errors

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        errors = self.revert_all()
        if errors and exc is None:
            raise FaultError("; ".join(errors), fix="run `dagstorm recover`")
