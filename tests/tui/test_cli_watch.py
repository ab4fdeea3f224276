from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dagstorm.cli import cli
from dagstorm.cli.live import tui_commands
from dagstorm.tui.app import create_app
from dagstorm.tui.driver import NoKeysDriver
from tests.tui.conftest import wait_for


def test_watch_is_registered_and_documented() -> None:
    command = cli.commands["watch"]
    assert command is tui_commands.watch
    assert command.help is not None and "Example:" in command.help
    result = CliRunner().invoke(cli, ["watch", "--help"])
    assert result.exit_code == 0 and "dagstorm watch runs/" in result.output


def test_watch_rejects_a_bad_speed(smoke_run: object) -> None:
    result = CliRunner().invoke(cli, ["watch", str(smoke_run), "--speed", "0"])
    assert result.exit_code == 2


def test_registering_watch_does_not_import_textual() -> None:
    check = (
        "import sys, dagstorm.cli.live.tui_commands; "
        "print(any(m.split('.')[0] == 'textual' for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


class Recorder:
    """Stands in for create_app: records how the CLI built the app, runs nothing."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, run_dir: Path, **options: Any) -> Recorder:
        self.calls.append({"run_dir": run_dir, **options})
        return self

    def run(self) -> None:
        return None


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    fake = Recorder()
    monkeypatch.setattr("dagstorm.tui.app.create_app", fake)
    return fake


def test_watch_refuses_a_directory_that_is_not_a_run(tmp_path: Path, recorder: Recorder) -> None:
    (tmp_path / "notes.txt").write_text("not a run")
    result = CliRunner().invoke(cli, ["watch", str(tmp_path)])
    assert result.exit_code == 2
    (line,) = result.output.splitlines()
    assert line.startswith(f"dagstorm: error: {tmp_path}: no journal.jsonl in the directory")
    assert "fix: pass a run directory" in line
    assert recorder.calls == []  # the TUI never started


def test_report_analyze_and_watch_refuse_it_alike(tmp_path: Path, recorder: Recorder) -> None:
    outputs = {
        command: CliRunner().invoke(
            cli, ["--state-dir", str(tmp_path / "s"), command, str(tmp_path)]
        )
        for command in ("watch", "report", "analyze")
    }
    assert {r.exit_code for r in outputs.values()} == {2}
    assert len({r.output for r in outputs.values()}) == 1


def test_without_a_terminal_watch_reads_no_keys(smoke_run: Path, recorder: Recorder) -> None:
    result = CliRunner().invoke(cli, ["watch", str(smoke_run)])  # stdin is not a terminal
    assert result.exit_code == 0, result.output
    (call,) = recorder.calls
    assert call["read_keys"] is False


def test_paused_needs_a_terminal(smoke_run: Path, recorder: Recorder) -> None:
    result = CliRunner().invoke(cli, ["watch", str(smoke_run), "--paused"])
    assert result.exit_code == 2 and "--paused needs a terminal" in result.output
    assert recorder.calls == []


@pytest.mark.anyio
async def test_the_no_keys_driver_waits_on_a_pipe_that_never_has_input(smoke_run: Path) -> None:
    # The busy loop: at end of file, select() says stdin is readable every time.
    with open(os.devnull, "rb") as eof:
        assert select.select([eof], [], [], 0)[0] == [eof]
    saved = {s: signal.getsignal(s) for s in (signal.SIGTSTP, signal.SIGCONT)}
    app = create_app(smoke_run, read_keys=False)
    assert app.driver_class is NoKeysDriver
    driver = NoKeysDriver(app)  # what Textual builds for a run without a terminal
    try:
        assert select.select([driver.fileno], [], [], 0)[0] == []  # nothing: the thread sleeps
        assert driver.fileno != sys.__stdin__.fileno()  # type: ignore[union-attr]
    finally:
        driver.close()
        for number, handler in saved.items():
            signal.signal(number, handler)
    assert create_app(smoke_run).driver_class is not NoKeysDriver


@pytest.mark.anyio
@pytest.mark.parametrize("read_keys", [False, True])
async def test_without_keys_the_app_quits_once_the_run_has_ended(
    smoke_run: Path, read_keys: bool
) -> None:
    app = create_app(smoke_run, paused=True, advance=False, read_keys=read_keys)
    async with app.run_test(size=(80, 24)) as pilot:
        app._tick()
        assert app.return_code is None  # not ended yet
        app.action_seek_to(-1)
        await wait_for(pilot, lambda: app.state.ended)
        app._tick()
        await pilot.pause()
        assert (app.return_code is not None) is (not read_keys)
