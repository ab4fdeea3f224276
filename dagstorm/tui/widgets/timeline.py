"""The timeline: phases, fault windows and the current moment."""

from __future__ import annotations

from textual.markup import escape

from dagstorm.core.durations import stopwatch_text
from dagstorm.tui.state import RunState
from dagstorm.tui.widgets.text_pane import TextPane


class Timeline(TextPane):
    """Phases on one line, fault windows on the next, ``▼`` at the current moment."""

    def show(self, state: RunState, end_t: float | None = None) -> None:
        """Render the run's timeline; ``end_t``: the journal's end when replaying."""
        width = max(self.size.width - 2, 20)
        total = state.duration_s or max((p.end_s for p in state.phases), default=0.0)
        total = max(total, state.now_t, end_t or 0.0, 1.0)

        def col(t: float) -> int:
            return min(width - 1, max(0, int(t / total * width)))

        now = col(state.now_t)
        label = stopwatch_text(state.now_t)
        if now + len(label) + 2 <= width:
            marker = " " * now + "[b $accent]▼[/] " + label
        else:  # near the end: the clock goes left of the marker
            marker = " " * max(now - len(label) - 1, 0) + label + " [b $accent]▼[/]"
        phases = [" "] * width
        for index, phase in enumerate(state.phases):
            start, end = col(phase.start_s), max(col(phase.end_s), col(phase.start_s) + 1)
            label = f"|{phase.name}"
            for i in range(start, min(end, width)):
                offset = i - start
                phases[i] = label[offset] if offset < len(label) else "─·"[index % 2]
        faults = ["·"] * width
        for fault in state.faults.values():
            start_t = fault.applied_t if fault.applied_t is not None else fault.planned_start_s
            end_t = fault.reverted_t if fault.reverted_t is not None else fault.planned_end_s
            if start_t is None:
                continue
            end_t = end_t if end_t is not None else state.now_t
            glyph = "█" if fault.active else ("▒" if fault.applied_t is not None else "░")
            for i in range(col(start_t), max(col(end_t), col(start_t) + 1)):
                faults[i] = glyph
        active = [
            f"{f.fault_id} "
            + (
                f"ends in {stopwatch_text(f.planned_end_s - state.now_t)}"
                if f.planned_end_s
                else "on"
            )
            for f in state.active_faults()
        ]
        active_text = "  [b $error]" + escape(", ".join(active)) + "[/]" if active else ""
        self.put(
            f"{marker}\n{escape(''.join(phases))}\n"
            f"[$warning]{escape(''.join(faults))}[/]{active_text}"
        )
