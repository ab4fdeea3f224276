"""The log pane: notable journal events (not the periodic samples), filterable."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, RichLog

from dagstorm.core.durations import stopwatch_text
from dagstorm.tui.state import LogLine, RunState

#: Lines the log keeps (the state keeps as many).
MAX_LINES = 1000
#: Theme variables per level: RichLog takes Rich text, so they are resolved when written.
LEVEL_VARIABLE = {"error": "error", "warning": "warning"}


class LogPane(Vertical):
    """A filter box over a scrolling log of journal events."""

    def compose(self) -> ComposeResult:
        """The filter input and the log."""
        yield Input(placeholder="filter (kind or text) — / to focus, esc to leave", id="log-filter")
        yield RichLog(
            id="log-lines", max_lines=MAX_LINES, wrap=False, markup=False, auto_scroll=True
        )

    def on_mount(self) -> None:
        """Nothing shown yet."""
        self._shown: LogLine | None = None
        self._state: RunState | None = None

    @property
    def filter_text(self) -> str:
        """The current filter."""
        return self.query_one("#log-filter", Input).value.strip()

    def show(self, state: RunState) -> None:
        """Append the lines that arrived since the last call (and match the filter)."""
        self._state = state
        lines = state.log
        if not lines or lines[-1] is self._shown:
            return
        new: list[LogLine] = []
        for line in reversed(lines):
            if line is self._shown:
                break
            new.append(line)
        self._write(reversed(new))
        self._shown = lines[-1]

    def rebuild(self) -> None:
        """Re-render every kept line through the filter (the filter changed, or a seek)."""
        log = self.query_one("#log-lines", RichLog)
        log.clear()
        self._shown = None
        if self._state is not None:
            self.show(self._state)

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as the user types."""
        event.stop()
        self.rebuild()

    def _write(self, lines: Iterable[LogLine]) -> None:
        """Append the matching lines in one write: one render, one trim, one scroll.

        A write a line cost ~5 ms each at a thousand events a second.
        """
        log = self.query_one("#log-lines", RichLog)
        needle = self.filter_text
        colours = self.app.theme_variables
        texts: deque[Text] = deque(maxlen=MAX_LINES)  # older ones would be dropped anyway
        for line in lines:
            if not line.matches(needle):
                continue
            variable = LEVEL_VARIABLE.get(line.level)
            style = colours.get(variable, "") if variable else ""
            texts.append(
                Text(f"{stopwatch_text(line.t):>7} {line.kind:<20} {line.text}", style=style)
            )
        if texts:
            log.write(Text("\n").join(texts))
