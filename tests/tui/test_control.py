"""Steering a live run from the TUI, against a stub engine (Pilot; conditions, not timings).

The stub stands where the engine's control inbox is: it records each command and,
as the engine would, acknowledges it in the run's journal, which the TUI follows.
"""

from __future__ import annotations

import itertools
import shutil
import threading
from pathlib import Path
from typing import Any

import orjson
import pytest

from dagstorm.core.errors import ControlError
from dagstorm.tui.app import create_app
from dagstorm.tui.screens.confirm_screen import ConfirmScreen
from dagstorm.tui.screens.pick_screen import PickScreen
from dagstorm.tui.screens.watch_screen import WatchScreen
from dagstorm.tui.widgets.run_header import RunHeader
from tests.tui.conftest import FIXTURE, journal_lines, wait_for

pytestmark = pytest.mark.anyio

TARGETS = {"links": ["kafka", "serving-db"], "components": ["kafka", "spark-worker"]}


class StubEngine:
    """A stub control port: records commands and journals what the engine would."""

    def __init__(self, journal: Path, *, refuse: bool = False) -> None:
        self.journal = journal
        self.refuse = refuse
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def send(self, command: str, **fields: Any) -> str:
        if self.refuse:
            raise ControlError("this run takes no commands")
        with self._lock:
            command_id = f"c{next(self._ids)}"
            self.sent.append((command, fields))
            ack: dict[str, Any] = {"outcome": "done"}
            extra: list[dict[str, Any]] = []
            if command == "inject":
                ack["fault_id"] = "adhoc1"
                described = f"{fields['fault']['kind']} (ad hoc)"
                extra = [
                    {"kind": "fault_intent", "fault_id": "adhoc1", "fault": described},
                    {"kind": "fault_applied", "fault_id": "adhoc1", "fault": described},
                ]
            if command == "revert":
                if fields["fault_id"] != "adhoc1":
                    ack = {"outcome": "rejected", "reason": "no applied fault"}
                else:
                    extra = [{"kind": "fault_reverted", "fault_id": "adhoc1", "fault": "x"}]
            self._append(
                {"kind": "control", "command_id": command_id, "command": command, "by": "tui"},
                *extra,
                {"kind": "control_ack", "command_id": command_id, "command": command, **ack},
            )
            return command_id

    def _append(self, *events: dict[str, Any]) -> None:
        with self.journal.open("ab") as handle:
            for event in events:
                stamped = {"v": 1, "seq": 0, "t": 200.0, "wall": 0.0, "sim": 0.0, **event}
                handle.write(orjson.dumps(stamped) + b"\n")


@pytest.fixture
def steerable_run(tmp_path: Path) -> Path:
    """A live copy of the recorded run whose engine reads commands (``run_start.control``)."""
    run_dir = tmp_path / "20261124T041804Z-smoke"
    run_dir.mkdir()
    shutil.copy(FIXTURE / "scenario.yaml", run_dir)
    lines = journal_lines()[:300]
    start = orjson.loads(lines[0])
    start.update(control=True, fault_targets=TARGETS)
    (run_dir / "journal.jsonl").write_bytes(orjson.dumps(start) + b"\n" + b"".join(lines[1:]))
    return run_dir


async def test_pause_and_resume_the_workloads(steerable_run: Path) -> None:
    engine = StubEngine(steerable_run / "journal.jsonl")
    app = create_app(steerable_run, control=engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.state.events == 300)
        await pilot.press("p")
        await wait_for(pilot, lambda: app.state.paused)
        assert engine.sent == [("pause", {})]
        await wait_for(pilot, lambda: not app.sent)  # the ack arrived through the journal
        app.redraw(force=True)
        assert "WORKLOADS PAUSED" in str(app.screen.query_one(RunHeader).render())
        await pilot.press("p")
        await wait_for(pilot, lambda: not app.state.paused)
        assert engine.sent[-1] == ("resume", {})


async def test_inject_from_the_menu_then_revert_it(steerable_run: Path) -> None:
    engine = StubEngine(steerable_run / "journal.jsonl")
    app = create_app(steerable_run, control=engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.state.events == 300)
        await pilot.press("i")
        assert isinstance(app.screen, PickScreen)
        labels = app.screen.entries
        assert labels[0].startswith("kafka: latency 500 ms")
        assert any("Spark worker lost" in label for label in labels)
        assert not any("scheduler" in label for label in labels)  # not a declared target
        await pilot.press("down", "enter")  # the second entry: kafka link down
        await wait_for(pilot, lambda: "adhoc1" in app.state.faults)
        command, fields = engine.sent[0]
        assert command == "inject"
        assert fields == {
            "fault": {"kind": "network", "link": "kafka", "effect": "down"},
            "duration_s": 30,
        }
        await wait_for(pilot, lambda: app.state.faults["adhoc1"].active)
        await pilot.press("r")
        assert isinstance(app.screen, PickScreen)
        entries = app.screen.entries
        await pilot.press(*["down"] * entries.index(next(e for e in entries if "adhoc1" in e)))
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.state.faults["adhoc1"].active)
        assert engine.sent[-1] == ("revert", {"fault_id": "adhoc1"})


async def test_abort_needs_a_confirmation(steerable_run: Path) -> None:
    engine = StubEngine(steerable_run / "journal.jsonl")
    app = create_app(steerable_run, control=engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.state.events == 300)
        await pilot.press("a")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")  # the focus is on Cancel: enter alone never aborts
        assert isinstance(app.screen, WatchScreen)
        await pilot.press("a", "n")
        assert isinstance(app.screen, WatchScreen)
        assert engine.sent == []
        await pilot.press("a", "y")
        await wait_for(pilot, lambda: engine.sent == [("abort", {})])


async def test_quitting_run_tui_aborts_the_run_after_a_confirmation(steerable_run: Path) -> None:
    engine = StubEngine(steerable_run / "journal.jsonl")
    app = create_app(steerable_run, control=engine, quit_aborts=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.state.events == 300)
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        assert engine.sent == [] and app.is_running
        await pilot.press("ctrl+c", "y")
        await wait_for(pilot, lambda: not app.is_running)
    assert engine.sent == [("abort", {})]


async def test_a_run_without_an_inbox_is_watched_read_only(live_run: Path) -> None:
    engine = StubEngine(live_run / "journal.jsonl")
    app = create_app(live_run, control=engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.state.events == 300)
        await pilot.press("p", "a", "i", "r")
        assert isinstance(app.screen, WatchScreen)
        assert engine.sent == []


async def test_a_command_that_cannot_be_sent_is_reported(steerable_run: Path) -> None:
    engine = StubEngine(steerable_run / "journal.jsonl", refuse=True)
    app = create_app(steerable_run, control=engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.state.events == 300)
        await pilot.press("p")
        await wait_for(pilot, lambda: any("no commands" in n.message for n in app._notifications))
        assert not app.state.paused


async def test_a_replay_has_no_engine_to_steer(smoke_run: Path) -> None:
    engine = StubEngine(smoke_run / "journal.jsonl")
    app = create_app(smoke_run, paused=True, advance=False, control=engine)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.check_action("pause_workloads", ()) is False
        assert app.check_action("seek", (10,)) is True
        await pilot.press("p", "a")
        assert isinstance(app.screen, WatchScreen) and engine.sent == []


async def test_open_report_when_the_run_has_one(tmp_path: Path, monkeypatch: Any) -> None:
    opened: list[str] = []

    def fake_open(url: str) -> bool:
        opened.append(url)
        return False

    monkeypatch.setattr("webbrowser.open", fake_open)
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURE, run_dir)
    app = create_app(run_dir, paused=True, advance=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        await wait_for(pilot, lambda: any("no report yet" in n.message for n in app._notifications))
        (run_dir / "report.html").write_text("<html></html>")
        await pilot.press("o")
        await wait_for(pilot, lambda: bool(opened))
        assert opened == [(run_dir / "report.html").resolve().as_uri()]
