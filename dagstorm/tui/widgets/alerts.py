"""Alerts received from the pipeline's callbacks."""

from __future__ import annotations

from textual.markup import escape

from dagstorm.core.durations import stopwatch_text
from dagstorm.tui.format import styled
from dagstorm.tui.state import RunState
from dagstorm.tui.widgets.text_pane import TextPane


class AlertsPane(TextPane, can_focus=True):
    """Counts per alert kind and the latest alerts."""

    def show(self, state: RunState) -> None:
        """Render the latest alerts that fit."""
        if not state.alerts_by_kind:
            self.put(styled("no alert received", "$text-muted"))
            return
        counts = "  ".join(f"{k} {n}" for k, n in state.alerts_by_kind.most_common())
        rows = max(self.size.height - 1, 1)
        latest = list(state.alerts)[-rows:]
        lines = [f"[b]{escape(counts)}[/b]"]
        lines += [f"{stopwatch_text(a.t)} [$warning]{escape(a.text)}[/]" for a in reversed(latest)]
        self.put("\n".join(lines))
