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


#: What a column takes besides its text: DataTable's cell padding, one cell a side.
PADDING = 2
#: The fewest characters of a DAG id kept when the pane is narrow (with an ellipsis).
MIN_DAG = 4


def column_widths(columns: tuple[str, ...], rows: list[list[Cell]]) -> list[int]:
    """Each column's width: its label or its longest cell."""
    return [max([len(label), *(len(row[i][0]) for row in rows)]) for i, label in enumerate(columns)]


def table_width(columns: tuple[str, ...], rows: list[list[Cell]]) -> int:
    """The cells the table takes, cell padding included."""
    return sum(w + PADDING for w in column_widths(columns, rows))


def fit_rows(columns: tuple[str, ...], rows: list[list[Cell]], width: int) -> list[list[Cell]]:
    """Shorten cells so the table fits ``width`` instead of being cut at the pane's edge.

    State, duration and SLA are never shortened (a cut ``1h0`` or ``su`` misleads).
    The DAG ids lose the prefix they share (``orders_daily`` → ``…daily``), then
    get an ellipsis (down to 8 characters); then the run label drops its date
    (``11-24 04:00`` → ``04:00``: the rows are newest first), then the DAG id goes
    down to :data:`MIN_DAG` characters. ``width`` 0 (not laid out yet): as is.
    """
    if width <= 0 or not rows:
        return rows
    run = columns.index("run")
    for step, floor in (("prefix", 0), ("dag", 8), ("date", 0), ("dag", MIN_DAG)):
        excess = table_width(columns, rows) - width
        if excess <= 0:
            break
        if step == "date":
            if all(_is_date_label(row[run][0]) for row in rows):
                rows = [_with(row, run, row[run][0][6:]) for row in rows]
        elif step == "prefix" and "dag" in columns:
            dag = columns.index("dag")
            cut = _shared_prefix([row[dag][0] for row in rows])
            if cut > 1:  # "…" takes one cell: only a longer prefix saves any
                rows = [_with(row, dag, "…" + row[dag][0][cut:]) for row in rows]
        elif step == "dag" and "dag" in columns:
            dag = columns.index("dag")
            keep = max(max(len(row[dag][0]) for row in rows) - excess, floor)
            rows = [_with(row, dag, _ellipsis(row[dag][0], keep)) for row in rows]
    return rows


def _with(row: list[Cell], index: int, text: str) -> list[Cell]:
    """``row`` with the text of cell ``index`` replaced (its colour kept)."""
    return [(text, cell[1]) if i == index else cell for i, cell in enumerate(row)]


def _shared_prefix(ids: list[str]) -> int:
    """The length of the prefix all ``ids`` share, up to its last ``_``, ``.`` or ``-``."""
    if len(set(ids)) < 2:
        return 0
    first, last = min(ids), max(ids)  # the prefix all share is the one these two share
    common = next(
        (first[:i] for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b),
        first,
    )
    return max(common.rfind(sep) for sep in "_.-") + 1


def _is_date_label(label: str) -> bool:
    """``11-24 04:00``, as :func:`run_label` writes a logical date."""
    return len(label) == 11 and label[2] == "-" and label[5] == " " and label[8] == ":"


def _ellipsis(text: str, keep: int) -> str:
    return text if len(text) <= keep else text[: keep - 1] + "…"


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
        self._width = 0
        self._last: tuple[RunState, int] | None = None

    def on_resize(self) -> None:
        """Fit the columns to the new width (a narrow pane shortens cells, never cuts)."""
        if self._last is not None:
            self.show(*self._last)

    def show(self, state: RunState, generation: int) -> None:
        """Update the table when the DAG runs changed (``generation``) or time moved.

        The rows are rebuilt only when the set or order of runs changed; otherwise only
        the cells whose text changed are redrawn (the durations of running runs).
        """
        width = self.size.width
        if (
            generation == self._shown
            and width == self._width
            and not any(r.end_t is None for r in state.dag_runs.values())
        ):
            return
        self._shown = generation
        self._last = (state, generation)
        keys = list(reversed(state.dag_runs))
        dags = {row.dag_id for row in state.dag_runs.values()}
        # One DAG: its id goes to the title, so a narrow pane keeps state, time and SLA.
        one_dag = len(dags) == 1
        columns = COLUMNS[1:] if one_dag else COLUMNS
        cells = [self._row(state, state.dag_runs[key])[5 - len(columns) :] for key in keys]
        cells = fit_rows(columns, cells, width)
        rebuild = columns != self._columns
        # A column's width follows its longest cell only when the rows are added again
        # (a cell updated in place is cut to the old width: ``59m`` → ``1h0``).
        resized = column_widths(columns, cells) != column_widths(self._columns, self._cells)
        self._width = width
        if rebuild:
            self._title = self._title or str(self.border_title or "")
            self._columns = columns
            self.clear(columns=True)
            self.add_columns(*columns)
            self.border_title = f"{self._title} · {next(iter(dags))}" if one_dag else self._title
        if rebuild or resized or keys != self._keys or self.app.theme != self._theme:
            self._theme = self.app.theme  # colours are resolved when written
            selected = self.run_at(self.cursor_row)
            self.clear()
            for row in cells:
                self.add_row(*(self._text(cell) for cell in row))
            # While someone moves through the runs, the cursor stays on its run (clear
            # moved it to the top); otherwise it stays on the newest.
            if self.has_focus and selected in keys:
                self.move_cursor(row=keys.index(selected), animate=False)
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
