"""`dagstorm run --tui` plumbing: the engine command, signal forwarding, the announcement."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from dagstorm.cli import cli
from dagstorm.cli.common import Settings
from dagstorm.cli.live.run_tui import engine_command, forward_signals, wait_for_run_dir

#: A child that exits with the number of the signal it got, once it said it is ready.
CHILD = (
    "import signal, sys, time\n"
    "for s in (signal.SIGINT, signal.SIGTERM):\n"
    "    signal.signal(s, lambda n, f: sys.exit(n))\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


class FakeApp:
    """Records that the TUI was asked to close."""

    def __init__(self) -> None:
        self.exited = False

    def exit(self) -> None:
        self.exited = True


def _child() -> subprocess.Popen[bytes]:
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE)
    assert child.stdout is not None and child.stdout.readline() == b"ready\n"
    return child


def test_the_engine_is_a_headless_run_that_announces_its_directory(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "stack.yaml", tmp_path / "state", quiet=False)
    command = engine_command(settings, Path("s.yaml"), tmp_path / "runs", tmp_path / "a")
    assert command[1:3] == ["-m", "dagstorm"]
    assert command[3:7] == [
        "--stack-file",
        str(tmp_path / "stack.yaml"),
        "--state-dir",
        str(tmp_path / "state"),
    ]
    assert command[7:] == [
        "run",
        "s.yaml",
        "--runs-dir",
        str(tmp_path / "runs"),
        "--announce-file",
        str(tmp_path / "a"),
    ]
    assert "--tui" not in command


def test_signals_reach_the_engine_and_close_the_tui() -> None:
    for sent, received in (
        (signal.SIGTERM, signal.SIGTERM),
        (signal.SIGINT, signal.SIGINT),
        (signal.SIGHUP, signal.SIGTERM),
    ):
        child = _child()
        app = FakeApp()
        before = signal.getsignal(sent)
        with forward_signals(child, [app]):
            os.kill(os.getpid(), sent)
            code = child.wait(timeout=30)
        assert code == received, sent
        assert app.exited
        assert signal.getsignal(sent) == before


def test_the_run_directory_comes_from_the_announcement(tmp_path: Path) -> None:
    child = _child()
    announce = tmp_path / "announce"
    announce.write_text(str(tmp_path / "runs" / "r1") + "\n")
    try:
        assert wait_for_run_dir(child, announce) == tmp_path / "runs" / "r1"
    finally:
        child.kill()
        child.wait()
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    assert wait_for_run_dir(ended, tmp_path / "never") is None


def test_tui_needs_a_terminal(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: x\nduration: 1m\n")
    result = CliRunner().invoke(cli, ["run", str(scenario), "--tui"])
    assert result.exit_code == 2
    assert "--tui needs a terminal" in result.output
