"""The contract every fault follows, and what faults are given to work with."""

from __future__ import annotations

import ipaddress
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from dagstorm.clients.toxiproxy import ToxiproxyClient
from dagstorm.core.errors import FaultError
from dagstorm.faults.journal import FaultJournal
from dagstorm.faults.specs import FaultSpecBase
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import Stack


@dataclass
class FaultContext:
    """The stack a fault acts on: endpoints, the embedded stack (if any), the journal."""

    stack: Stack
    journal: FaultJournal
    embedded: StackContext | None = None

    def toxiproxy(self) -> ToxiproxyClient:
        """A client of the stack's declared Toxiproxy (refused if none or not loopback)."""
        url = self.stack.toxiproxy_url
        if url is None:
            raise FaultError(
                "the stack declares no Toxiproxy, so network faults cannot be injected",
                where=f"stack kind {self.stack.kind}",
                fix="declare `external.toxiproxy_url` in dagstorm.stack.yaml",
            )
        if self.stack.kind == "embedded":
            host = urlparse(url).hostname or ""
            if not _is_loopback(host):
                raise FaultError(
                    f"Toxiproxy address {host} is not loopback in the embedded stack",
                    where=url,
                    fix="the embedded stack only runs on 127.0.0.1",
                )
        return ToxiproxyClient(url)

    def require_embedded(self, what: str) -> StackContext:
        """The embedded stack's context; process faults need pids dagstorm owns."""
        if self.embedded is None:
            raise FaultError(
                f"{what} needs the embedded stack (dagstorm must own the process)",
                where=f"stack kind {self.stack.kind}",
                fix="use a network fault, or the platform's own tooling for external stacks",
            )
        return self.embedded


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Fault(ABC):
    """A fault: inject it, verify it is in effect, revert it (idempotently).

    ``revert`` must work from the spec and the fault id alone — after a SIGKILL
    of dagstorm, `dagstorm recover` rebuilds the fault from the journal and
    reverts it. Faults never revert themselves: the manager (or the engine)
    journals the intent, injects, and later reverts.
    """

    def __init__(self, spec: FaultSpecBase, fault_id: str, ctx: FaultContext) -> None:
        self.spec = spec
        self.fault_id = fault_id
        self.ctx = ctx
        #: What ``inject`` returned (restored from the journal by `dagstorm recover`).
        self.applied: dict[str, Any] = {}

    @abstractmethod
    def check_targets(self) -> None:
        """Refuse (FaultError) a target the stack config does not declare, before anything."""

    @abstractmethod
    def inject(self) -> dict[str, Any]:
        """Make the fault take effect; return details worth journaling."""

    @abstractmethod
    def verify(self) -> str:
        """Check the fault is really in effect; a short description of the evidence."""

    @abstractmethod
    def revert(self) -> None:
        """Undo the fault; harmless when already reverted or never applied."""

    def stop(self) -> None:  # noqa: B027 - optional hook
        """Stop background activity (a flapping link) before revert."""
