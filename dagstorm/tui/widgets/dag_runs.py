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

#: Every column; ``dag`` is left out while the run has runs of one DAG only.
COLUMNS = ("dag", "run", "state", "sim", "% SLA")


def run_label(run_id: str) -> str:
    """A short label for a run: ``scheduled__2026-11-24T04:00:00+00:00`` → ``11-24 04:00``.

    The logical date says which run it is; a run id that is not a date stays as
    written (cut to 19 characters).
    """
    tail = run_id.rsplit("__", maxsplit=1)[-1]
    if len(tail) >= 16 and tail[4] == "-" and tail[10] == "T":
        return f"{tail[5:10]} {tail[11:16]}"
    return tail[:19]


class DagRunsTable(DataTable[Text]):
    """One row per DAG run (the last 200), with its simulated duration vs the SLA."""

    def on_mount(self) -> None:
        """Set up the table (the columns come with the first runs)."""
        self.cursor_type = "row"
        self.zebra_stripes = True
        self._columns: tuple[str, ...] = ()
        self._title = ""  # the screen's title, read at the first show (set after mount)
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
        dags = {row.dag_id for row in state.dag_runs.values()}
        # One DAG: its id goes to the title, so a narrow pane keeps state, time and SLA.
        one_dag = len(dags) == 1
        columns = COLUMNS[1:] if one_dag else COLUMNS
        cells = [self._row(state, state.dag_runs[key])[5 - len(columns) :] for key in keys]
        rebuild = columns != self._columns
        if rebuild:
            self._title = self._title or str(self.border_title or "")
            self._columns = columns
            self.clear(columns=True)
            self.add_columns(*columns)
            self.border_title = f"{self._title} · {next(iter(dags))}" if one_dag else self._title
        if rebuild or keys != self._keys or self.app.theme != self._theme:
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

    def run_at(self, row: int) -> tuple[str, str] | None:
        """The (dag id, run id) shown in ``row``, if any."""
        return self._keys[row] if 0 <= row < len(self._keys) else None

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
            (run_label(row.run_id), ""),
            (row.state, STATE_VARIABLE.get(row.state, "")),
            (coarse_text(elapsed), ""),
            sla,
        ]
