"""Sending control commands to a running engine: atomic files in the run's inbox.

A client never talks to the engine directly. It writes the command to a hidden
temporary file in ``control/inbox/`` and renames it to ``<id>.json`` there (a rename
is atomic, so the engine never reads half a command; it reads only ``*.json``
names, so never the temporary either); the engine acknowledges it in the journal
with a ``control_ack`` event carrying the same ``id``.
"""

from __future__ import annotations

import getpass
import os
import secrets
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from dagstorm.control.protocol import COMMAND, Command, control_dir, inbox_dir
from dagstorm.core.atomic import atomic_write
from dagstorm.core.errors import ControlError


def who(client: str) -> str:
    """``<client> <user>@<host> pid <pid>``: what the journal records as ``by``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        user = str(os.getuid())
    return f"{client} {user}@{socket.gethostname()} pid {os.getpid()}"[:200]


def new_command_id() -> str:
    """A unique id that sorts in sending order (nanoseconds, then random)."""
    return f"{time.time_ns():020d}-{secrets.token_hex(3)}"


class ControlClient:
    """Writes commands into one run directory's inbox (see docs/control.md)."""

    def __init__(self, run_dir: Path, *, client: str = "client") -> None:
        self.run_dir = Path(run_dir)
        self.by = who(client)

    def accepts(self) -> bool:
        """Whether the run has an inbox, i.e. an engine that reads commands created it."""
        return inbox_dir(self.run_dir).is_dir()

    def send(self, command: str, **fields: Any) -> Command:
        """Validate and deliver one command; returns it (its ``id`` identifies the ack).

        Raises :class:`ControlError` when the command is invalid or the run takes none.
        """
        data: dict[str, Any] = {"id": new_command_id(), "by": self.by, "command": command}
        data.update(fields)
        try:
            parsed = COMMAND.validate_python(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"][1:]) or command
            raise ControlError(
                f"{where}: {first['msg']}",
                where=f"control command {command}",
                fix="see docs/control.md for the commands and their fields",
            ) from None
        self.deliver(COMMAND.dump_python(parsed, mode="json", exclude_none=True), parsed.id)
        return parsed

    def deliver(self, payload: Mapping[str, Any], command_id: str) -> Path:
        """Write ``payload`` atomically as ``inbox/<command_id>.json`` (no validation)."""
        if not self.accepts():
            raise ControlError(
                "this run takes no commands (no control inbox: not started by a "
                "dagstorm engine that reads one, or not started yet)",
                where=str(control_dir(self.run_dir)),
                fix="watch it read-only, or start the run with `dagstorm run`",
            )
        # The temporary name (hidden, ``.tmp``) is no command: the engine reads ``*.json``.
        target = inbox_dir(self.run_dir) / f"{command_id}.json"
        return atomic_write(target, orjson.dumps(dict(payload)))
