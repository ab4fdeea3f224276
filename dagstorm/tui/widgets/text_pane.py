"""A text widget that redraws only when its text changed, without a layout pass."""

from __future__ import annotations

from textual.widgets import Static


class TextPane(Static):
    """A Static whose size comes from the stylesheet, updated with :meth:`put`.

    The panes fill their grid cells and the lines are one row high, so a new text
    never changes the layout: updating without a layout pass, and not at all when the
    text is the same, keeps a redraw to the widgets that changed (a full reflow of the
    screen every second was most of the TUI's CPU; docs/benchmarks.md, "TUI").
    """

    _text: str | None = None

    def put(self, text: str) -> None:
        """Show ``text`` (markup) if it differs from what is shown."""
        if text == self._text:
            return
        self._text = text
        self.update(text, layout=False)
