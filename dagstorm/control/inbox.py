"""The engine's side of the control inbox: pick up command files, parse, file them away.

Reading never raises: a file that is too big, not JSON or not a valid command
comes back as a :class:`Received` with an ``error``, which the engine
acknowledges as rejected. Handled files move to ``control/processed/``.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from dagstorm.control.protocol import (
    COMMAND,
    MAX_COMMAND_BYTES,
    Command,
    inbox_dir,
    processed_dir,
)

#: At most this many commands a poll, so a flooded inbox cannot stall the timeline.
MAX_PER_POLL = 16


@dataclass(frozen=True)
class Received:
    """One command file: the command, or why it cannot be one."""

    name: str
    command: Command | None
    error: str = ""
    raw: dict[str, Any] | None = None

    @property
    def command_id(self) -> str:
        """The command's id (the file name's stem when the file could not be parsed)."""
        if self.command is not None:
            return self.command.id
        raw_id = (self.raw or {}).get("id")
        return raw_id if isinstance(raw_id, str) and len(raw_id) <= 80 else self.name[:80]


def _explain(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "command"
    return f"{where}: {first['msg']}"[:300]


class ControlInbox:
    """The inbox of one run directory, created when the engine starts listening."""

    def __init__(self, run_dir: Path) -> None:
        self.inbox = inbox_dir(run_dir)
        self.processed = processed_dir(run_dir)

    def open(self) -> None:
        """Create the inbox (its existence tells clients the engine reads commands)."""
        self.processed.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.inbox.mkdir(parents=True, exist_ok=True, mode=0o700)

    def pending(self) -> list[Path]:
        """Command files waiting, oldest id first."""
        try:
            names = sorted(
                entry.name for entry in os.scandir(self.inbox) if entry.name.endswith(".json")
            )
        except FileNotFoundError:
            return []
        return [self.inbox / name for name in names]

    def poll(self, limit: int = MAX_PER_POLL) -> list[Received]:
        """Up to ``limit`` waiting commands, parsed, moved to ``processed/``."""
        received = [self._read(path) for path in self.pending()[:limit]]
        for item in received:
            # Removed by someone else meanwhile: it is handled once all the same.
            with contextlib.suppress(OSError):
                os.replace(self.inbox / item.name, self.processed / item.name)
        return received

    def _read(self, path: Path) -> Received:
        name = path.name
        try:
            size = path.stat().st_size
            if size > MAX_COMMAND_BYTES:
                return Received(name, None, f"command file of {size} bytes (limit 64 KiB)")
            data = orjson.loads(path.read_bytes())
        except OSError as exc:
            return Received(name, None, f"unreadable: {exc.strerror or exc}")
        except orjson.JSONDecodeError:
            return Received(name, None, "not JSON")
        if not isinstance(data, dict):
            return Received(name, None, "not a JSON object")
        try:
            return Received(name, COMMAND.validate_python(data), raw=data)
        except ValidationError as exc:
            return Received(name, None, _explain(exc), raw=data)
