"""Stack health: each component's CPU and RSS from process_stats."""

from __future__ import annotations

from textual.markup import escape

from dagstorm.tui.state import RunState
from dagstorm.tui.widgets.text_pane import TextPane

#: CPU (100 = one core) above which a component is shown as busy / saturated.
BUSY_PCT = 80.0
HOT_PCT = 150.0


class StackHealthPane(TextPane, can_focus=True):
    """One line per component: CPU %, RSS MB, processes; stale samples are dimmed."""

    def show(self, state: RunState) -> None:
        """Render the components, busiest first."""
        if not state.processes:
            self.put("[$text-muted]no process_stats yet[/]")
            return
        samples = sorted(state.processes.values(), key=lambda p: -p.cpu_pct)
        lines = []
        name_width = max(8, min(22, self.size.width - 26))
        for p in samples:
            style = (
                "$error" if p.cpu_pct >= HOT_PCT else "$warning" if p.cpu_pct >= BUSY_PCT else ""
            )
            stale = state.now_t - p.t > 30
            cpu = f"{p.cpu_pct:5.1f}%"
            cpu = f"[{style}]{cpu}[/]" if style else cpu
            name = escape(p.component[:name_width].ljust(name_width))
            line = f"{name} {cpu} {p.rss_mb:6.0f} MB ×{p.processes}"
            lines.append(f"[$text-muted]{line}[/]" if stale else line)
        self.put("\n".join(lines))
