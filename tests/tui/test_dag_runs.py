"""The DAG-runs table fits a narrow pane: cells are shortened, never cut at the edge."""

from __future__ import annotations

from dagstorm.tui.widgets.dag_runs import COLUMNS, Cell, fit_rows, table_width

ROWS: list[list[Cell]] = [
    [
        ("ad_logs_daily_rollup", ""),
        ("11-24 04:00", ""),
        ("running", "accent"),
        ("1h05m", ""),
        ("65%", "success"),
    ],
    [("ad_logs_hourly", ""), ("11-24 03:00", ""), ("success", "success"), ("59m", ""), ("98%", "")],
]


def texts(rows: list[list[Cell]], column: str) -> list[str]:
    return [row[COLUMNS.index(column)][0] for row in rows]


def test_a_table_that_fits_is_unchanged() -> None:
    assert fit_rows(COLUMNS, ROWS, 200) == ROWS
    assert fit_rows(COLUMNS, ROWS, 0) == ROWS  # not laid out yet


def test_the_dag_ids_lose_their_shared_prefix_first() -> None:
    width = table_width(COLUMNS, ROWS) - 6
    fitted = fit_rows(COLUMNS, ROWS, width)
    assert table_width(COLUMNS, fitted) <= width
    assert texts(fitted, "dag") == ["…daily_rollup", "…hourly"]
    assert texts(fitted, "run") == ["11-24 04:00", "11-24 03:00"]


def test_then_they_get_an_ellipsis() -> None:
    width = table_width(COLUMNS, ROWS) - 9
    fitted = fit_rows(COLUMNS, ROWS, width)
    assert table_width(COLUMNS, fitted) <= width
    assert texts(fitted, "dag") == ["…daily_rol…", "…hourly"]


def test_at_80_columns_state_duration_and_sla_stay_whole() -> None:
    # The narrow layout gives the pane 40 cells (two columns of panes).
    fitted = fit_rows(COLUMNS, ROWS, 40)
    assert table_width(COLUMNS, fitted) <= 40
    for column in ("state", "sim", "% SLA"):
        assert texts(fitted, column) == texts(ROWS, column)
    assert texts(fitted, "run") == ["04:00", "03:00"]  # the date went before the DAG id
    assert texts(fitted, "dag") == ["…daily_…", "…hourly"]  # still two DAGs


def test_colours_are_kept() -> None:
    fitted = fit_rows(COLUMNS, ROWS, 40)
    assert [[cell[1] for cell in row] for row in fitted] == [
        [cell[1] for cell in row] for row in ROWS
    ]
