"""Messages the workers post to the app: small dataclasses (Message calls ``__post_init__``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from dagstorm.tui.live_verdict import LiveVerdict


@dataclass
class EventsRead(Message):
    """New journal events, in order; ``reset`` means start again from an empty state."""

    events: list[dict[str, Any]]
    reset: bool = False


@dataclass
class VerdictComputed(Message):
    """The live verdict, computed off the UI thread."""

    verdict: LiveVerdict
    generation: int


@dataclass
class JournalMissing(Message):
    """The run directory has no journal (yet)."""

    path: str


@dataclass
class ControlSent(Message):
    """A command is in the engine's inbox; its ``control_ack`` will follow in the journal."""

    command: str
    command_id: str


@dataclass
class ControlFailed(Message):
    """A command could not be sent (invalid, or the run takes none)."""

    command: str
    error: str
