"""The help screen: the keys and what the panes show."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """\
dagstorm watch — keys

  space            replay: play / pause
  ← →              replay: seek 10 s back / forward (wall)
  shift+← shift+→  replay: seek 60 s
  home end         replay: start / end
  + -              replay: faster / slower
  /                filter the event log (esc leaves the filter)
  1 … 7            focus a pane: traffic, DAG runs, scheduler, spark·kafka,
                   stack, alerts, log filter
  tab              next pane
  ?                this help (esc closes it)
  q                quit (the run goes on: watch only reads the run directory)

Lights: ● green = passed so far; ◐ amber = pending, or failing but could
still pass; ✖ red = failed for good. The final verdict is the analysis's
(result.json, `dagstorm analyze`).
"""


class HelpScreen(ModalScreen[None]):
    """Keys and panes; any of esc, q or ? closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "close", id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        """The help text."""
        with VerticalScroll(id="help-body"):
            yield Static(HELP, markup=False)
