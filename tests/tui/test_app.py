"""Key flows of `dagstorm watch` with the Pilot (no timed assertions: conditions only)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from textual.widgets import Input, RichLog

from dagstorm.tui.app import create_app
from dagstorm.tui.screens.help_screen import HelpScreen
from dagstorm.tui.screens.watch_screen import WatchScreen
from tests.tui.conftest import journal_lines, wait_for

pytestmark = pytest.mark.anyio


async def test_replay_paused_seek_forward_and_back(smoke_run: Path) -> None:
    app = create_app(smoke_run, paused=True, advance=False)
    async with app.run_test(size=(160, 48)) as pilot:
        assert app.replaying
        assert app.mode_text().startswith("❚❚")
        await pilot.press("shift+right")  # +60 s
        await wait_for(pilot, lambda: app.state.kinds["phase_start"] == 2)
        assert app.state.current_phase() == "chaos"
        assert 55 < max(e.t for e in app.state.log) <= 60
        await pilot.press("end")
        await wait_for(pilot, lambda: app.state.ended)
        assert app.state.status == "completed"
        await pilot.press("home")  # backwards: a fresh state, read again from the top
        await wait_for(pilot, lambda: app.replay.position().t == 0 and app.state.events == 0)
        await pilot.press("right")
        await wait_for(pilot, lambda: app.state.kinds["run_start"] == 1)
        assert app.state.current_phase() == "warm-up"


async def test_replay_play_pause_and_speed(smoke_run: Path) -> None:
    app = create_app(smoke_run, paused=True, advance=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        assert app.replay.position().playing
        await pilot.press("space")
        assert not app.replay.position().playing
        await pilot.press("plus", "plus")
        assert app.replay.position().speed == 5.0
        await pilot.press("minus")
        assert app.replay.position().speed == 2.0
        assert "2×" in app.mode_text()


async def test_filter_the_log(smoke_run: Path) -> None:
    app = create_app(smoke_run, paused=True, advance=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("end")
        await wait_for(pilot, lambda: app.state.ended)
        app.redraw(force=True)
        log = app.screen.query_one("#log-lines", RichLog)
        await wait_for(pilot, lambda: len(log.lines) > 20)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"fault_")
        await wait_for(pilot, lambda: len(log.lines) == 3)
        assert all("fault_" in strip.text for strip in log.lines)
        await pilot.press("escape")
        assert app.focused is not None and app.focused.id == "traffic"


async def test_follows_a_growing_journal(live_run: Path) -> None:
    app = create_app(live_run)
    async with app.run_test(size=(80, 24)) as pilot:
        assert not app.replaying
        await wait_for(pilot, lambda: app.state.events == 300)
        assert app.mode_text() == "● LIVE"
        lines = journal_lines()
        with (live_run / "journal.jsonl").open("ab") as handle:
            handle.write(b"".join(lines[300:]) + b'{"v":1,"seq":99999,"t":2')  # torn tail
        await wait_for(pilot, lambda: app.state.ended)
        assert app.state.events == len(lines)
        await pilot.press("space")  # live: nothing to pause, says so
        app.redraw(force=True)
        assert app.mode_text() == "■ ENDED"


async def test_help_and_pane_focus(smoke_run: Path) -> None:
    app = create_app(smoke_run, paused=True, advance=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, WatchScreen)
        await pilot.press("2")
        assert app.focused is not None and app.focused.id == "dag-runs"
        await pilot.press("q")
    assert app.return_code == 0


async def test_layout_follows_the_width(smoke_run: Path) -> None:
    for size, cls in (((80, 24), "-narrow"), ((160, 48), "-wide")):
        app = create_app(smoke_run, paused=True, advance=False)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            assert app.screen.has_class(cls)


async def test_a_steering_key_in_a_replay_says_why_it_does_nothing(smoke_run: Path) -> None:
    app = create_app(smoke_run, paused=True, advance=False)
    async with app.run_test(size=(80, 24)) as pilot:
        for key in ("p", "i"):
            await pilot.press(key)
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert len(messages) == 2, messages
        assert "space pauses the replay clock" in messages[0]
        assert "inject needs a live run" in messages[1]
        await pilot.press("question_mark")  # a key that applies says nothing of the kind
        assert len(app._notifications) == 2


async def test_the_final_verdict_comes_when_a_replay_reaches_the_end(
    smoke_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dagstorm.tui.app

    # No timer tick: only the end of the run can ask for the verdict.
    monkeypatch.setattr(dagstorm.tui.app, "VERDICT_S", 3600.0)
    app = create_app(smoke_run, paused=True, advance=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("end")
        await wait_for(pilot, lambda: app.state.ended)
        await wait_for(pilot, lambda: app.verdict.final)
        assert app.verdict.score == 16.7


async def test_a_live_run_shows_result_json_once_the_analysis_wrote_it(
    smoke_run: Path, tmp_path: Path
) -> None:
    import shutil

    run_dir = tmp_path / smoke_run.name
    run_dir.mkdir()
    for name in ("scenario.yaml", "journal.jsonl"):
        shutil.copy(smoke_run / name, run_dir)
    app = create_app(run_dir, mode="live")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.state.ended and app.verdict.final)
        assert not app.verdict.from_result  # judged from the events: no result.json yet
        shutil.copy(smoke_run / "result.json", run_dir)  # the engine's analysis, after
        app._maybe_verdict()  # the next timer tick
        await wait_for(pilot, lambda: app.verdict.from_result)
        assert (app.verdict.score, app.verdict.exit_code) == (16.7, 1)


async def test_the_verdict_line_stays_at_80_columns(smoke_run: Path) -> None:
    from dagstorm.tui.widgets.run_header import RunHeader

    app = create_app(smoke_run, paused=True, advance=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.replay.seek(float("inf"))
        app._wake.set()
        await wait_for(pilot, lambda: app.state.ended)
        app._maybe_verdict()
        await wait_for(pilot, lambda: app.verdict.passed is not None)
        app.redraw(force=True)
        await pilot.pause()
        header = app.screen.query_one(RunHeader)
        lines = str(header.render()).splitlines()
        # The first line fits the header (a wrapped one pushes the verdict line out).
        assert len(lines[0]) <= header.content_size.width, lines
        assert "COMPLETED" in lines[0] and lines[1].startswith("FAIL exit 1"), lines
        assert "the weighted share of SLOs passed" in str(header.tooltip)


async def test_enter_on_a_dag_run_shows_its_task_tries(live_run: Path) -> None:
    from datetime import UTC, datetime

    from textual.widgets import DataTable

    from dagstorm.tui.screens.dag_run_screen import DagRunScreen

    origin = 1795493884.321 - 0.678  # the fixture's run_start: wall - t

    def iso(t: float) -> str:
        return datetime.fromtimestamp(origin + t, UTC).isoformat()

    run = {"dag_id": "ad_logs_hourly", "run_id": "scheduled__2026-11-24T03:00:00+00:00"}
    tries = [
        {
            **run,
            "task_id": "validate",
            "try_number": 1,
            "state": "success",
            "queued_when": iso(10),
            "start_date": iso(12),
            "end_date": iso(20),
        },
        {
            **run,
            "task_id": "aggregate",
            "try_number": 2,
            "state": "running",
            "queued_when": iso(30),
            "start_date": iso(31),
        },
        {**run, "task_id": "load", "try_number": 1, "state": "failed", "queued_when": iso(40)},
    ]
    with (live_run / "journal.jsonl").open("ab") as journal:
        for seq, fields in enumerate(tries, start=100_000):
            line = {
                "v": 1,
                "seq": seq,
                "t": 50.0,
                "wall": origin + 50,
                "sim": 0.0,
                "kind": "task_try",
                **fields,
            }
            journal.write(orjson.dumps(line) + b"\n")
    app = create_app(live_run)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: len(app.state.verdict.tries_of(*run.values())) == 3)
        app.redraw(force=True)
        await pilot.pause()
        await pilot.press("2")  # the DAG runs
        table = app.screen.query_one("#dag-runs", DataTable)
        row = next(i for i in range(table.row_count) if "03:00" in str(table.get_row_at(i)[0]))
        table.move_cursor(row=row)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DagRunScreen))
        shown = app.screen.query_one("#dag-run-tries", DataTable)
        rows = [[str(c) for c in shown.get_row_at(i)] for i in range(shown.row_count)]
        assert [r[:3] for r in rows] == [
            ["validate", "1", "success"],
            ["aggregate", "2", "running"],
            ["load", "1", "failed"],
        ]
        assert rows[0][3:5] == ["2s", "8s"] and rows[2][4] == "never started"
        await pilot.press("escape")
        assert isinstance(app.screen, WatchScreen)


async def test_at_80x30_the_verdict_timeline_and_whole_dag_run_cells_stay(live_run: Path) -> None:
    from datetime import UTC, datetime

    from textual.widgets import DataTable

    from dagstorm.tui.widgets.run_header import RunHeader
    from dagstorm.tui.widgets.timeline import Timeline

    origin = 1795493884.321 - 0.678  # the fixture's run_start: wall - t

    def iso(t: float) -> str:
        return datetime.fromtimestamp(origin + t, UTC).isoformat()

    # A second DAG with a long id: its column joins the table in a 40-cell pane.
    daily = {"dag_id": "ad_logs_daily_rollup", "run_id": "scheduled__2026-11-24T00:00:00+00:00"}
    run = {**daily, "state": "success", "queued_at": iso(-60), "end_date": iso(37.5)}
    line = {"v": 1, "seq": 100_000, "t": 40.9, "wall": origin + 40.9, "sim": 0.0}
    with (live_run / "journal.jsonl").open("ab") as journal:
        journal.write(orjson.dumps({**line, "kind": "dag_run", **run}) + b"\n")
    app = create_app(live_run)
    async with app.run_test(size=(80, 30)) as pilot:
        await wait_for(pilot, lambda: len(app.state.dag_runs) == 3)
        app._maybe_verdict()
        await wait_for(pilot, lambda: bool(app.verdict.slos))
        app.redraw(force=True)
        table = app.screen.query_one("#dag-runs", DataTable)
        await wait_for(pilot, lambda: not table._require_update_dimensions)
        header = app.screen.query_one(RunHeader)
        assert str(header.render()).splitlines()[1].startswith("score pending")
        timeline = app.screen.query_one(Timeline)
        assert header.region.height == 2 and timeline.region.height == 3
        assert timeline.region.bottom <= app.screen.region.height
        summary = app.screen.query_one("#scheduler-summary")
        assert str(summary.render()) == "tries last 60 s: started 0 finished 0"  # no "retr"
        used = sum(c.get_render_width(table) for c in table.columns.values())
        assert used <= table.size.width, (used, table.size.width)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert [r[2:4] for r in rows] == [
            ["success", "1h05m"],
            ["running", "12h29m"],
            ["running", "1d01h"],
        ]
        assert [r[:2] for r in rows] == [
            ["…daily…", "00:00"],
            ["…hourly", "04:00"],
            ["…hourly", "03:00"],
        ]
        await pilot.resize_terminal(160, 48)  # a 53-cell pane: only the shared prefix goes
        await wait_for(pilot, lambda: str(table.get_row_at(0)[0]) == "…daily_rollup")
        assert str(table.get_row_at(0)[1]) == "11-24 00:00"


async def test_a_running_runs_duration_is_never_cut_as_it_grows(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from textual.widgets import DataTable

    origin = 1795493884.321 - 0.678  # the fixture's run_start: wall - t
    run_dir = tmp_path / "20261124T041804Z-smoke"
    run_dir.mkdir()
    queued = datetime.fromtimestamp(origin + 1.0 - 88.5, UTC).isoformat()  # 59m sim ago
    event = {
        "v": 1,
        "seq": 15,
        "t": 1.0,
        "wall": origin + 1.0,
        "sim": 0.0,
        "kind": "dag_run",
        "dag_id": "ad_logs_hourly",
        "run_id": "manual__2026-11-24T04:19:33+00:00",
        "state": "running",
        "queued_at": queued,
    }
    head = b"".join(journal_lines()[:14])
    (run_dir / "journal.jsonl").write_bytes(head + orjson.dumps(event) + b"\n")
    app = create_app(run_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: len(app.state.dag_runs) == 1)
        app.redraw(force=True)
        table = app.screen.query_one("#dag-runs", DataTable)
        await wait_for(pilot, lambda: table.row_count == 1)
        assert str(table.get_row_at(0)[2]) == "59m"
        await wait_for(pilot, lambda: not table._require_update_dimensions)  # sized to 59m
        app.state.now_t = 3.0  # 1h00m sim: the cell grows by two characters
        app.redraw(force=True)
        await wait_for(pilot, lambda: str(table.get_row_at(0)[2]) == "1h00m")
        await wait_for(pilot, lambda: not table._require_update_dimensions)
        sim = list(table.columns.values())[2]
        assert sim.get_render_width(table) - 2 * table.cell_padding >= len("1h00m")


async def test_the_cursor_stays_on_its_run_when_a_new_run_comes(live_run: Path) -> None:
    from dagstorm.tui.widgets.dag_runs import DagRunsTable

    app = create_app(live_run)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: len(app.state.dag_runs) == 2)
        app.redraw(force=True)
        table = app.screen.query_one(DagRunsTable)
        await wait_for(pilot, lambda: table.row_count == 2)
        await pilot.press("2", "down")  # focus the DAG runs, select the older run
        chosen = table.run_at(table.cursor_row)
        assert chosen is not None and "03:00" in chosen[1]
        new = orjson.loads(journal_lines()[682])  # the first manual run (t = 90.9)
        assert new["kind"] == "dag_run"
        with (live_run / "journal.jsonl").open("ab") as journal:
            journal.write(orjson.dumps({**new, "seq": 100_000}) + b"\n")
        await wait_for(pilot, lambda: len(app.state.dag_runs) == 3)
        app.redraw(force=True)
        await wait_for(pilot, lambda: table.row_count == 3)
        assert table.cursor_row == 2 and table.run_at(2) == chosen


def test_bindings_have_ids() -> None:
    from dagstorm.tui.app import WatchApp

    ids = [b.id for b in WatchApp.BINDINGS if not isinstance(b, tuple)]
    assert all(ids) and len(set(ids)) == len(ids)
