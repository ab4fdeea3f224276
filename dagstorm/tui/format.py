"""Text helpers for the panes: clocks, sizes, and SLO lights in theme colours."""

from __future__ import annotations

from textual.markup import escape

#: Theme variables, so the colours follow the theme (dark or light).
LIGHT_STYLE = {"green": "$success", "amber": "$warning", "red": "$error"}
LIGHT_GLYPH = {"green": "●", "amber": "◐", "red": "✖"}
STATE_STYLE = {
    "success": "$success",
    "failed": "$error",
    "up_for_retry": "$warning",
    "running": "$accent",
    "queued": "$text-muted",
}


def clock(seconds: float | None) -> str:
    """``m:ss`` or ``h:mm:ss`` (``-`` for None)."""
    if seconds is None:
        return "-"
    sign = "-" if seconds < 0 else ""
    s = int(abs(seconds))
    hours, rest = divmod(s, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}" if hours else f"{sign}{minutes}:{secs:02d}"


def sim_text(seconds: float | None) -> str:
    """A simulated duration the way SREs say it: ``2h05m``, ``48m``, ``30s``."""
    if seconds is None:
        return "-"
    s = int(abs(seconds))
    sign = "-" if seconds < 0 else ""
    if s >= 86400:
        return f"{sign}{s // 86400}d{(s % 86400) // 3600:02d}h"
    if s >= 3600:
        return f"{sign}{s // 3600}h{(s % 3600) // 60:02d}m"
    if s >= 60:
        return f"{sign}{s // 60}m"
    return f"{sign}{s}s"


def si(value: float) -> str:
    """A count with k/M suffix."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.1f}{unit}"
    return f"{value:.0f}"


def styled(text: str, style: str) -> str:
    """Content markup for ``text`` in ``style`` (the text is escaped)."""
    return f"[{style}]{escape(text)}[/]"


def light(name: str, light_name: str, value: str) -> str:
    """One SLO chip: glyph, name and value in the light's colour."""
    style = LIGHT_STYLE.get(light_name, "$text-muted")
    glyph = LIGHT_GLYPH.get(light_name, "?")
    return f"[{style}]{glyph} {escape(name)}[/] {escape(value)}"
