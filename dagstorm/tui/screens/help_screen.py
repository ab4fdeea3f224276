"""The help screen: the keys and what the panes show."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """\
dagstorm watch — keys

Live run (the engine acknowledges each command):
  p         pause / resume the workloads
  a         abort: faults reverted, exit 130 (confirmed)
  i         inject a fault on a declared target
  r         revert an applied fault now
Replay:
  space     play / pause
  ← →       seek 10 s (with shift: 60 s)
  home end  start / end
  + -       faster / slower
Always:
  o         open the report (once the run has ended)
  /         filter the event log (esc leaves it)
  1 … 7     focus a pane: traffic, DAG runs, scheduler,
            spark·kafka, stack, alerts, log filter
  tab       next pane
  ?         this help (esc closes it)
  q         quit (watch: the run goes on;
            run --tui: aborts the run, confirmed)

Lights: ● green = passed so far; ◐ amber = pending,
or failing but could still pass; ✖ red = failed for
good. The final verdict is the analysis's
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
