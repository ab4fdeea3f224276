"""The TUI's journal follower: the core one (:mod:`dagstorm.run.follow`)."""

from __future__ import annotations

from dagstorm.run.follow import CHUNK_BYTES, Event, JournalFollower, last_event, parse_lines

__all__ = ["CHUNK_BYTES", "Event", "JournalFollower", "last_event", "parse_lines"]
