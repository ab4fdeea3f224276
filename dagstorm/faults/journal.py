"""The fault journal: every fault's intent is on disk before the fault takes effect.

One JSON object a line in ``<state>/faults/journal.jsonl``, appended and
fsync'd per entry. A fault is *open* from its ``intent`` until its
``reverted``; `dagstorm recover` reverts whatever is open, so a SIGKILL of
dagstorm never leaves a toxic, a paused broker or a dead scheduler behind.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import psutil

from dagstorm.core.boot_clock import alive_since, started_since_boot

SCHEMA_VERSION = 1

Event = Literal["intent", "applied", "verified", "inject_failed", "reverted", "revert_failed"]


@dataclass(frozen=True)
class OpenFault:
    """A fault whose intent was journaled and whose revert was not."""

    fault_id: str
    spec: dict[str, Any]
    injected_at: float
    applied: dict[str, Any] = field(default_factory=dict)
    owner_pid: int | None = None
    #: Seconds from boot to the owner's start (None in journals written before it was kept).
    owner_started: float | None = None


class FaultJournal:
    """Append-only, fsync'd record of fault intents, applications and reverts."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(
        self,
        fault_id: str,
        event: Event,
        *,
        spec: dict[str, Any] | None = None,
        detail: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        """Append one entry and fsync it before returning."""
        entry: dict[str, Any] = {
            "v": SCHEMA_VERSION,
            "id": fault_id,
            "event": event,
            "wall": time.time(),
            "pid": os.getpid(),
            # With the pid, who owns the entry (a start counted from boot: clock-proof).
            "pid_started": started_since_boot(os.getpid()),
        }
        if spec is not None:
            entry["spec"] = spec
        if detail:
            entry["detail"] = detail
        if error:
            entry["error"] = error
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(entry, sort_keys=True) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def entries(self) -> list[dict[str, Any]]:
        """Every entry, oldest first; a torn last line (SIGKILL mid-write) is ignored."""
        try:
            lines = self.path.read_text().splitlines()
        except FileNotFoundError:
            return []
        out: list[dict[str, Any]] = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def open_faults(self) -> list[OpenFault]:
        """Faults with an intent and no successful revert, in injection order."""
        faults: dict[str, OpenFault] = {}
        for entry in self.entries():
            fault_id, event = entry.get("id"), entry.get("event")
            if not isinstance(fault_id, str):
                continue
            if event == "intent":
                faults[fault_id] = OpenFault(
                    fault_id,
                    entry.get("spec", {}),
                    float(entry.get("wall", 0.0)),
                    owner_pid=entry.get("pid"),
                    owner_started=entry.get("pid_started"),
                )
            elif event == "applied" and fault_id in faults:
                old = faults[fault_id]
                faults[fault_id] = OpenFault(
                    fault_id,
                    old.spec,
                    old.injected_at,
                    entry.get("detail", {}),
                    old.owner_pid,
                    old.owner_started,
                )
            elif event == "reverted":
                faults.pop(fault_id, None)
        return list(faults.values())


def owner_alive(fault: OpenFault) -> bool:
    """True if the process that injected ``fault`` still runs (pid reuse excluded)."""
    if fault.owner_pid is None:
        return False
    if fault.owner_started is not None:
        return alive_since(fault.owner_pid, fault.owner_started)
    try:
        proc = psutil.Process(fault.owner_pid)
        return (
            proc.status() != psutil.STATUS_ZOMBIE and proc.create_time() <= fault.injected_at + 1.0
        )
    except psutil.Error:
        return False


def orphaned(journal: FaultJournal) -> list[OpenFault]:
    """Open faults whose owner is gone."""
    return [f for f in journal.open_faults() if not owner_alive(f)]
