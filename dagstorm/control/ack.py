"""Waiting for the engine's answer to a command: its ``control_ack`` in the journal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dagstorm.core.polling import poll_until
from dagstorm.run.events import Kind
from dagstorm.run.follow import JournalFollower, tail_events
from dagstorm.run.rundir import RunDirectory

#: How much of the journal's end :func:`run_end_of` reads: ``run_end`` is the last event.
_TAIL_BYTES = 64 * 1024


def run_end_of(run_dir: Path) -> dict[str, Any] | None:
    """The run's ``run_end`` event if the run has ended, else None.

    ``run_end`` is the engine's last event, so only the journal's end is read (a
    soak's journal is large); a torn last line is skipped.
    """
    tail = tail_events(RunDirectory(run_dir).journal, _TAIL_BYTES)
    return next((e for e in reversed(tail) if e.get("kind") == Kind.RUN_END), None)


def journal_size(run_dir: Path) -> int:
    """The journal's length now: an acknowledgement of a command sent later comes after it."""
    try:
        return RunDirectory(run_dir).journal.stat().st_size
    except FileNotFoundError:
        return 0


def wait_for_ack(
    run_dir: Path, command_id: str, *, start: int, timeout: float, poll: float = 0.2
) -> dict[str, Any] | None:
    """The ``control_ack`` of ``command_id`` written after byte ``start``, or None.

    None when ``timeout`` seconds pass or the run ends (``run_end``) first
    (:func:`run_end_of` tells which). Reads only what the journal gained since the
    last look (a soak's journal is large).
    """
    follower = JournalFollower(RunDirectory(run_dir).journal)
    follower.offset = start

    def answer() -> dict[str, Any] | None:
        """The ack, or ``run_end`` (no ack will come), among the new lines."""
        while events := follower.read():
            for event in events:
                if event.get("kind") == Kind.CONTROL_ACK and event.get("command_id") == command_id:
                    return event
                if event.get("kind") == Kind.RUN_END:
                    return event
        return None

    event = poll_until(answer, timeout=timeout, interval=poll)
    return event if event is not None and event.get("kind") == Kind.CONTROL_ACK else None
