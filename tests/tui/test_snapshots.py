"""SVG snapshots of the watch screen from the recorded smoke run (pytest-textual-snapshot).

Update after an intended change: ``pytest tests/tui --snapshot-update``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
from textual.pilot import Pilot
from textual.widgets import RichLog

from dagstorm.tui.app import WatchApp, create_app
from dagstorm.tui.widgets.dag_runs import DagRunsTable
from tests.tui.conftest import FIXTURE, journal_lines, wait_for

pytest.importorskip("pytest_textual_snapshot")


async def settled(app: WatchApp, pilot: Pilot[None]) -> None:
    """Redraw now and let the DAG-runs table size its columns (it does so when idle,
    which on a loaded machine can come after the screenshot)."""
    app.redraw(force=True)
    table = app.screen.query_one(DagRunsTable)
    await wait_for(pilot, lambda: not table._require_update_dimensions)
    # The log scrolls to its end when idle too (RichLog's auto-scroll).
    log = app.screen.query_one("#log-lines", RichLog)
    await wait_for(pilot, lambda: log.scroll_y >= log.max_scroll_y)
    await pilot.pause()


def at(seconds: int, *, theme: str | None = None, run_dir: Path = FIXTURE) -> tuple[WatchApp, Any]:
    """A paused replay of ``run_dir`` (the fixture), seeked to ``seconds``, verdict shown."""
    app = create_app(run_dir, paused=True, advance=False)

    async def run_before(pilot: Pilot[None]) -> None:
        if theme is not None:
            app.theme = theme
        position = app.replay.seek(seconds)
        app._wake.set()
        lines = (run_dir / "journal.jsonl").read_bytes().splitlines()
        due = sum(1 for line in lines if orjson.loads(line)["t"] <= position.t)
        await wait_for(pilot, lambda: app.state.events == due)
        app._maybe_verdict()  # now, rather than on the next 2 s tick
        await wait_for(pilot, lambda: bool(app.verdict.slos))
        await wait_for(pilot, lambda: app.state.verdict_generation == app._verdict_generation)
        await settled(app, pilot)

    return app, run_before


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_watch_during_the_fault(snap_compare: Any, size: tuple[int, int]) -> None:
    app, run_before = at(70)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (80, 30), (160, 48)], ids=["80x24", "80x30", "160x48"])
def test_watch_finished_run(snap_compare: Any, size: tuple[int, int]) -> None:
    app, run_before = at(10_000)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_watch_light_theme(snap_compare: Any) -> None:
    app, run_before = at(150, theme="textual-light")
    assert snap_compare(app, terminal_size=(160, 48), run_before=run_before)


def test_help_screen(snap_compare: Any) -> None:
    app = create_app(Path(FIXTURE), paused=True, advance=False)

    async def run_before(pilot: Pilot[None]) -> None:
        app.redraw(force=True)  # the same background whether the first tick came or not
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def steering(keys: list[str], tmp_path: Path) -> tuple[WatchApp, Any]:
    """A live run that takes commands (stub engine), with ``keys`` pressed."""
    from tests.tui.test_control import TARGETS, StubEngine

    run_dir = tmp_path / "20261124T041804Z-smoke"
    run_dir.mkdir()
    lines = journal_lines()[:300]
    start = orjson.loads(lines[0])
    start.update(control=True, fault_targets=TARGETS)
    journal = run_dir / "journal.jsonl"
    journal.write_bytes(orjson.dumps(start) + b"\n" + b"".join(lines[1:]))
    app = create_app(run_dir, mode="live", control=StubEngine(journal))

    async def run_before(pilot: Pilot[None]) -> None:
        await wait_for(pilot, lambda: app.state.events == 300)
        app._maybe_verdict()
        await wait_for(pilot, lambda: bool(app.verdict.slos))
        await settled(app, pilot)
        await pilot.press(*keys)
        await pilot.pause()

    return app, run_before


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_abort_confirmation(snap_compare: Any, size: tuple[int, int], tmp_path: Path) -> None:
    app, run_before = steering(["a"], tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_inject_menu(snap_compare: Any, size: tuple[int, int], tmp_path: Path) -> None:
    app, run_before = steering(["i", "down"], tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def _with_tries(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the recorded run with three task tries of one DAG run, in time order."""
    from datetime import UTC, datetime

    run_dir = tmp_path / FIXTURE.name
    shutil.copytree(FIXTURE, run_dir)
    lines = journal_lines()
    first = orjson.loads(lines[0])
    origin = first["wall"] - first["t"]

    def iso(t: float) -> str:
        return datetime.fromtimestamp(origin + t, UTC).isoformat()

    run = {"dag_id": "ad_logs_hourly", "run_id": "scheduled__2026-11-24T03:00:00+00:00"}
    tries = [
        {
            "task_id": "validate",
            "try_number": 1,
            "state": "success",
            "queued_when": iso(10),
            "start_date": iso(12),
            "end_date": iso(20),
        },
        {
            "task_id": "aggregate",
            "try_number": 1,
            "state": "failed",
            "queued_when": iso(30),
            "start_date": iso(31),
            "end_date": iso(38),
        },
        {
            "task_id": "aggregate",
            "try_number": 2,
            "state": "success",
            "queued_when": iso(44),
            "start_date": iso(45),
            "end_date": iso(49),
        },
    ]
    at_50 = next(i for i, line in enumerate(lines) if orjson.loads(line)["t"] > 50.0)
    added = [
        orjson.dumps(
            {
                "v": 1,
                "seq": 100_000 + n,
                "t": 50.0,
                "wall": origin + 50,
                "sim": 0.0,
                "kind": "task_try",
                **run,
                **fields,
            }
        )
        + b"\n"
        for n, fields in enumerate(tries)
    ]
    (run_dir / "journal.jsonl").write_bytes(b"".join([*lines[:at_50], *added, *lines[at_50:]]))
    return run_dir, run


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_dag_run_tries(snap_compare: Any, size: tuple[int, int], tmp_path: Path) -> None:
    """Enter on a DAG run of the finished replay: its task tries, a retried one among them."""
    from textual.widgets import DataTable

    from dagstorm.tui.screens.dag_run_screen import DagRunScreen

    run_dir, run = _with_tries(tmp_path)
    app, finished = at(10_000, run_dir=run_dir)

    async def run_before(pilot: Pilot[None]) -> None:
        await finished(pilot)
        await pilot.press("2")  # the DAG runs
        table = app.screen.query_one("#dag-runs", DataTable)
        hour = run["run_id"][22:27]  # 03:00
        await wait_for(pilot, lambda: table.row_count > 0)
        row = next(i for i in range(table.row_count) if hour in str(table.get_row_at(i)[0]))
        table.move_cursor(row=row)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DagRunScreen))
        shown = app.screen.query_one("#dag-run-tries", DataTable)
        await wait_for(pilot, lambda: shown.row_count > 0)
        await wait_for(pilot, lambda: not shown._require_update_dimensions)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
