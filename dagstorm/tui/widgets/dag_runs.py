"""The pipeline's DAG runs: state, duration against the SLA, newest first."""

from __future__ import annotations

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from dagstorm.core.durations import coarse_text
from dagstorm.tui.state import DagRunRow, RunState

#: Theme variables per run state (DataTable takes Rich text: resolved when drawn).
STATE_VARIABLE = {
    "success": "success",
    "failed": "error",
    "up_for_retry": "warning",
    "running": "accent",
    "queued": "text-muted",
}


#: One cell: its text and the theme variable of its colour ("" for none).
Cell = tuple[str, str]


class DagRunsTable(DataTable[Text]):
    """One row per DAG run (the last 200), with its simulated duration vs the SLA."""

    def on_mount(self) -> None:
        """Set up the columns."""
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_columns("dag", "run", "state", "sim", "SLA")
        self._shown = -1
        self._keys: list[tuple[str, str]] = []
        self._cells: list[list[Cell]] = []
        self._theme = ""

    def show(self, state: RunState, generation: int) -> None:
        """Update the table when the DAG runs changed (``generation``) or time moved.

        The rows are rebuilt only when the set or order of runs changed; otherwise only
        the cells whose text changed are redrawn (the durations of running runs).
        """
        if generation == self._shown and not any(r.end_t is None for r in state.dag_runs.values()):
            return
        self._shown = generation
        keys = list(reversed(state.dag_runs))
        cells = [self._row(state, state.dag_runs[key]) for key in keys]
        if keys != self._keys or self.app.theme != self._theme:
            self._theme = self.app.theme  # colours are resolved when written
            self.clear()
            for row in cells:
                self.add_row(*(self._text(cell) for cell in row))
        else:
            for y, (old, new) in enumerate(zip(self._cells, cells, strict=True)):
                for x, (before, after) in enumerate(zip(old, new, strict=True)):
                    if before != after:
                        self.update_cell_at(Coordinate(y, x), self._text(after))
        self._keys, self._cells = keys, cells

    def _text(self, cell: Cell) -> Text:
        text, variable = cell
        return Text(text, style=self.app.theme_variables.get(variable, "") if variable else "")

    @staticmethod
    def _row(state: RunState, row: DagRunRow) -> list[Cell]:
        elapsed = state.run_elapsed_sim(row)
        within = state.sla_within_s.get(row.dag_id)
        if within is None or elapsed is None:
            sla: Cell = ("-", "")
        else:
            ratio = elapsed / within
            sla = (f"{ratio:.0%}", "success" if ratio <= 1 else "error")
        return [
            (row.dag_id, ""),
            (row.run_id.split("__")[-1][:19], ""),
            (row.state, STATE_VARIABLE.get(row.state, "")),
            (coarse_text(elapsed), ""),
            sla,
        ]
