"""Pick one entry from a list in a modal (the inject and revert menus)."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static


class PickScreen(ModalScreen[int | None]):
    """A titled list; enter picks (the entry's index), esc cancels (None)."""

    BINDINGS = [Binding("escape", "cancel", "cancel", id="pick.cancel")]

    def __init__(self, title: str, entries: Sequence[str]) -> None:
        super().__init__()
        self.title_text = title
        self.entries = list(entries)

    def compose(self) -> ComposeResult:
        """The title and the entries."""
        with Vertical(id="pick-body"):
            yield Static(self.title_text, id="pick-title", markup=False)
            yield OptionList(*self.entries, id="pick-options")

    def on_mount(self) -> None:
        """The list has the focus."""
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter (or a click) picks."""
        self.dismiss(event.option_index)

    def action_cancel(self) -> None:
        """Nothing picked."""
        self.dismiss(None)
