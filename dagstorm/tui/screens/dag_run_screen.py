"""One DAG run's task tries, as Airflow's grid shows them: Enter on a row of the DAG runs."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from dagstorm.core.durations import coarse_text, duration_text, stopwatch_text
from dagstorm.tui.state import DagRunRow, RunState
from dagstorm.tui.state.records import Event, num

#: The columns of a try.
TRY_COLUMNS = ("task", "try", "state", "queued→start", "ran", "started at")


def try_rows(state: RunState, tries: Sequence[Event]) -> list[tuple[str, ...]]:
    """One row per try, in start order (tries that never started last).

    Times are on the run's clock (wall); ``queued→start`` is the wait for a slot.
    """

    def start_of(e: Event) -> float:
        t = state.t_of(e.get("start_date"))
        return float("inf") if t is None else t

    rows: list[tuple[str, ...]] = []
    for e in sorted(tries, key=lambda e: (start_of(e), str(e.get("task_id")))):
        task = str(e.get("task_id", "?"))
        map_index = num(e.get("map_index"), -1)
        if map_index >= 0:
            task += f"[{map_index:.0f}]"
        queued = state.t_of(e.get("queued_when"))
        start = state.t_of(e.get("start_date"))
        end = state.t_of(e.get("end_date"))
        wait = duration_text(start - queued) if start is not None and queued is not None else "-"
        if start is None:
            ran = "never started"
        elif end is None:
            ran = f"{duration_text(max(0.0, state.now_t - start))}…"
        else:
            ran = duration_text(end - start)
        rows.append(
            (
                task,
                f"{num(e.get('try_number'), 1):.0f}",
                str(e.get("state") or "?"),
                wait,
                ran,
                stopwatch_text(start) if start is not None else "-",
            )
        )
    return rows


class DagRunScreen(ModalScreen[None]):
    """The tries of one DAG run; escape (or enter) closes."""

    BINDINGS = [Binding("escape,enter,q", "close", "close", id="dag_run.close")]

    def __init__(self, row: DagRunRow, state: RunState, tries: Sequence[Event]) -> None:
        super().__init__()
        self.row = row
        self.rows = try_rows(state, tries)
        elapsed = state.run_elapsed_sim(row)
        self.title_text = (
            f"{row.dag_id}  {row.run_id}\n{row.state}, {coarse_text(elapsed)} sim since queued, "
            f"{len(self.rows)} task tr{'y' if len(self.rows) == 1 else 'ies'}"
        )

    def compose(self) -> ComposeResult:
        """The run's line and its tries."""
        with Vertical(id="dag-run-body"):
            yield Static(self.title_text, id="dag-run-title", markup=False)
            if self.rows:
                yield DataTable(id="dag-run-tries", cursor_type="row", zebra_stripes=True)
            else:
                yield Static(
                    "no task try seen for this run yet (the probe reports tries as they change)",
                    id="dag-run-empty",
                    markup=False,
                )

    def on_mount(self) -> None:
        """Fill the table; it has the focus."""
        if not self.rows:
            return
        table: DataTable[Text] = self.query_one("#dag-run-tries", DataTable)
        table.add_columns(*TRY_COLUMNS)
        for row in self.rows:
            style = "dim" if row[4] == "never started" else ""
            table.add_row(*(Text(cell, style=style) for cell in row))
        table.focus()

    def action_close(self) -> None:
        """Back to the panes."""
        self.dismiss(None)
