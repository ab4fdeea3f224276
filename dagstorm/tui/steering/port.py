"""How the TUI reaches the engine: only through the run directory's control inbox.

The app depends on the :class:`ControlPort` protocol; :class:`InboxPort` writes
command files (docs/control.md) and tests pass a stub. Plain Python, no Textual.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from dagstorm.control.client import ControlClient


class ControlPort(Protocol):
    """Sends one command to the engine of a run."""

    def send(self, command: str, **fields: Any) -> str:
        """Deliver ``command``; its id (the engine's ``control_ack`` carries it).

        Raises :class:`dagstorm.core.errors.ControlError` when it cannot be sent.
        """
        ...


class InboxPort:
    """The real port: command files in ``<run dir>/control/inbox/``."""

    def __init__(self, run_dir: Path) -> None:
        self.client = ControlClient(run_dir, client="tui")

    def send(self, command: str, **fields: Any) -> str:
        """Validate and write the command file."""
        return self.client.send(command, **fields).id
