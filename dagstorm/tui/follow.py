"""The TUI's journal follower: the core one (:mod:`dagstorm.engine.follow`)."""

from __future__ import annotations

from dagstorm.engine.follow import CHUNK_BYTES, Event, JournalFollower, last_event, parse_lines

__all__ = ["CHUNK_BYTES", "Event", "JournalFollower", "last_event", "parse_lines"]
