"""Text helpers for the panes: sizes and SLO lights in theme colours (times: core.durations)."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
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


def si(value: float) -> str:
    """A count with k/M suffix."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.1f}{unit}"
    return f"{value:.0f}"


def megabytes(value: float) -> str:
    """Megabytes with two decimals, more when that would show a trickle as ``0.00``."""
    if value == 0 or value >= 0.01:
        return f"{value:.2f}"
    return f"{value:.2g}" if value >= 1e-4 else "<0.0001"


def styled(text: str, style: str) -> str:
    """Content markup for ``text`` in ``style`` (the text is escaped)."""
    return f"[{style}]{escape(text)}[/]"


def light(name: str, light_name: str, value: str) -> str:
    """One SLO chip: glyph, name and value in the light's colour."""
    style = LIGHT_STYLE.get(light_name, "$text-muted")
    glyph = LIGHT_GLYPH.get(light_name, "?")
    return f"[{style}]{glyph} {escape(name)}[/] {escape(value)}"


def cells(markup: str) -> int:
    """How many terminal cells ``markup`` takes once drawn."""
    return Content.from_markup(markup).cell_length


def fit(pieces: Sequence[tuple[int, str]], width: int, sep: str = "  ") -> str:
    """Join the pieces (rank, markup) that fit in ``width`` cells, in their order.

    The highest ranks go first when the line is too long (rank 0 always stays), so a
    narrow terminal keeps what matters instead of wrapping the line off the widget.
    """
    kept = [(rank, text) for rank, text in pieces if text]
    while len(kept) > 1:
        if cells(sep.join(t for _, t in kept)) <= width:
            break
        worst = max(rank for rank, _ in kept)
        if worst == 0:
            break
        index = max(i for i, (rank, _) in enumerate(kept) if rank == worst)
        del kept[index]
    return sep.join(t for _, t in kept)
