"""The scheduler pane shows the gauges that move and lists the constant ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from dagstorm.analysis.measures.scheduler.scheduler_metrics import GaugeRange
from dagstorm.run.follow import JournalFollower
from dagstorm.tui.app import create_app
from dagstorm.tui.state import RunState
from dagstorm.tui.widgets.scheduler import fit_items, gauge_lines
from dagstorm.tui.widgets.text_pane import TextPane
from tests.tui.conftest import wait_for


def _gauge(metric: str, value: object, t: float = 1.0) -> dict[str, object]:
    return {"kind": "statsd", "t": t, "metric": metric, "type": "gauge", "value": value}


def test_the_state_keeps_each_gauges_range() -> None:
    state = RunState()
    state.feed({"kind": "run_start", "t": 0.0, "wall": 1000.0, "time_compression": 10})
    for t, running in enumerate([0, 3, 8, 2], start=1):
        state.feed(_gauge("executor.running_tasks", 0, t))
        state.feed(_gauge("pool.running_slots.default_pool", running, t))
    state.feed(_gauge("pool.running_slots.default_pool", None, 9.0))  # no value: ignored
    state.feed(_gauge("dag_processing.total_parse_time", 0.5, 9.0))  # not the pane's
    assert state.statsd_ranges == {
        "executor.running_tasks": GaugeRange(0.0, 0.0),
        "pool.running_slots.default_pool": GaugeRange(0.0, 8.0),
    }
    assert state.statsd["pool.running_slots.default_pool"] == 2.0


def test_running_tasks_come_from_the_pool_when_the_executor_gauge_is_constant() -> None:
    values = {
        "scheduler.tasks.executable": 4.0,
        "executor.open_slots": 8.0,
        "executor.running_tasks": 0.0,
        "pool.running_slots.default_pool": 6.0,
    }
    ranges = {
        "scheduler.tasks.executable": GaugeRange(0.0, 9.0),
        "executor.open_slots": GaugeRange(8.0, 8.0),
        "executor.running_tasks": GaugeRange(0.0, 0.0),
        "pool.running_slots.default_pool": GaugeRange(0.0, 8.0),
    }
    moving, constant = gauge_lines(values, ranges)
    assert moving == "executable 4  running 6 (default_pool)"
    assert constant == "constant: open slots 8, executor running 0"


def test_a_moving_executor_gauge_is_the_headline() -> None:
    values = {"executor.running_tasks": 3.0, "pool.running_slots.default_pool": 3.0}
    ranges = {
        "executor.running_tasks": GaugeRange(0, 5),
        "pool.running_slots.default_pool": GaugeRange(0, 5),
    }
    assert gauge_lines(values, ranges) == ("running 3", "")


def test_nothing_yet() -> None:
    assert gauge_lines({}, {}) == ("no StatsD yet", "")
    only = {"executor.open_slots": GaugeRange(8, 8)}
    assert gauge_lines({"executor.open_slots": 8.0}, only) == (
        "no gauge has changed yet",
        "constant: open slots 8",
    )


def test_the_recorded_runs_gauges(smoke_run: Path) -> None:
    state = RunState()
    state.feed_all(JournalFollower(smoke_run / "journal.jsonl").read())
    moving, constant = gauge_lines(state.statsd, state.statsd_ranges)
    # LocalExecutor: the executor gauges never moved, the default pool's running slots did.
    assert moving == "running 1 (default_pool)"
    assert constant.startswith("constant: open slots 8, executor running 0, ")


@pytest.mark.anyio
async def test_the_pane_shows_them(smoke_run: Path) -> None:
    app = create_app(smoke_run, paused=True, advance=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("end")
        await wait_for(pilot, lambda: app.state.ended)
        app.redraw(force=True)
        gauges = app.screen.query_one("#scheduler-gauges", TextPane)
        constant = app.screen.query_one("#scheduler-constant", TextPane)
        await wait_for(pilot, lambda: gauges._text == "running 1 (default_pool)")
        assert constant._text is not None and constant._text.startswith("constant: ")
        assert "executor running 0" in constant._text


def test_the_constant_line_is_cut_at_a_whole_gauge_never_mid_word() -> None:
    line = "constant: open slots 8, executor running 0, executable 0, starving 0"
    assert fit_items(line, 200) == line
    cut = fit_items(line, 52)
    assert cut == "constant: open slots 8, executor running 0, +2 more"
    assert len(cut) <= 52
    assert fit_items(line, 31) == "constant: open slots 8, +3 more"
    assert fit_items(line, 10) == "constant: 4 gauges"
