"""The pipeline's DAG runs: state, duration against the SLA, newest first."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from dagstorm.tui.format import sim_text
from dagstorm.tui.state import RunState

#: Theme variables per run state (DataTable takes Rich text: resolved when drawn).
STATE_VARIABLE = {
    "success": "success",
    "failed": "error",
    "up_for_retry": "warning",
    "running": "accent",
    "queued": "text-muted",
}


class DagRunsTable(DataTable[Text]):
    """One row per DAG run (the last 200), with its simulated duration vs the SLA."""

    def on_mount(self) -> None:
        """Set up the columns."""
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_columns("dag", "run", "state", "sim", "SLA")
        self._shown = -1

    def show(self, state: RunState, generation: int) -> None:
        """Refill the table when the DAG runs changed (``generation``) or time moved."""
        if generation == self._shown and not any(r.end_t is None for r in state.dag_runs.values()):
            return
        self._shown = generation
        colours = self.app.theme_variables
        self.clear()
        for row in reversed(state.dag_runs.values()):
            elapsed = state.run_elapsed_sim(row)
            within = state.sla_within_s.get(row.dag_id)
            if within is None or elapsed is None:
                sla = Text("-")
            else:
                ratio = elapsed / within
                sla = Text(
                    f"{ratio:.0%}", style=colours.get("success" if ratio <= 1 else "error", "")
                )
            self.add_row(
                Text(row.dag_id),
                Text(row.run_id.split("__")[-1][:19]),
                Text(row.state, style=colours.get(STATE_VARIABLE.get(row.state, ""), "")),
                Text(sim_text(elapsed)),
                sla,
            )
