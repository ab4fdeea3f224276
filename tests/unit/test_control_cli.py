"""`dagstorm control`: commands into the inbox, the engine's acknowledgement as exit code."""

from __future__ import annotations

import threading
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from dagstorm.cli import cli
from dagstorm.control.inbox import ControlInbox
from dagstorm.control.protocol import Command, inbox_dir


class Engine(threading.Thread):
    """Answers the first command in the inbox the way the engine would, then stops."""

    def __init__(self, run_dir: Path, outcome: str, reason: str = "") -> None:
        super().__init__(daemon=True)
        self.run_dir, self.outcome, self.reason = run_dir, outcome, reason
        self.inbox = ControlInbox(run_dir)
        self.inbox.open()
        (run_dir / "journal.jsonl").write_bytes(b'{"kind": "run_start", "t": 0}\n')
        self.received: list[Command | None] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            for item in self.inbox.poll():
                self.received.append(item.command)
                ack = {"kind": "control_ack", "command_id": item.command_id}
                ack.update(outcome=self.outcome, reason=self.reason)
                with (self.run_dir / "journal.jsonl").open("ab") as handle:
                    handle.write(b'{"kind": "log", "t": 1}\n' + orjson.dumps(ack) + b"\n")
                self.done.set()


@pytest.mark.parametrize(("outcome", "code"), [("done", 0), ("rejected", 2), ("failed", 3)])
def test_the_outcome_is_the_exit_code(tmp_path: Path, outcome: str, code: int) -> None:
    engine = Engine(tmp_path, outcome, reason="" if outcome == "done" else "because")
    engine.start()
    result = CliRunner().invoke(
        cli,
        ["control", str(tmp_path), "inject", "broker", "action=pause", "--duration", "30s"],
    )
    engine.join(10)
    assert result.exit_code == code, result.output
    assert f"inject: {outcome}" in result.output
    (command,) = engine.received
    assert command is not None
    assert command.model_dump(include={"command", "duration_s"}) == {
        "command": "inject",
        "duration_s": 30.0,
    }


def started_run(run_dir: Path) -> Path:
    """A run directory as the engine leaves it at its start: a journal with run_start."""
    (run_dir / "journal.jsonl").write_bytes(b'{"kind": "run_start", "t": 0}\n')
    return run_dir


def test_no_acknowledgement_in_time_exits_3(tmp_path: Path) -> None:
    started_run(tmp_path)
    ControlInbox(tmp_path).open()
    result = CliRunner().invoke(cli, ["control", str(tmp_path), "pause", "--timeout", "0.3"])
    assert result.exit_code == 3
    assert "no acknowledgement of pause" in result.output


def test_a_run_without_an_inbox_and_bad_arguments_exit_2(tmp_path: Path) -> None:
    started_run(tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["control", str(tmp_path), "abort"])
    assert result.exit_code == 2 and "takes no commands" in result.output
    ControlInbox(tmp_path).open()
    assert runner.invoke(cli, ["control", str(tmp_path), "pause", "now"]).exit_code == 2
    assert runner.invoke(cli, ["control", str(tmp_path), "revert"]).exit_code == 2
    bad = runner.invoke(cli, ["control", str(tmp_path), "inject", "network", "link=moon"])
    assert bad.exit_code == 2 and "link" in bad.output
    assert list((tmp_path / "control" / "inbox").iterdir()) == []


def test_a_finished_run_is_refused_at_once_with_its_end(tmp_path: Path) -> None:
    ControlInbox(tmp_path).open()
    end = {"kind": "run_end", "wall": 1796578677.7, "status": "completed"}
    (tmp_path / "journal.jsonl").write_bytes(
        b'{"kind": "run_start", "t": 0}\n' + orjson.dumps(end) + b"\n"
    )
    result = CliRunner().invoke(cli, ["control", str(tmp_path), "pause", "--timeout", "60"])
    assert result.exit_code == 2, result.output
    assert "cannot pause: the run has ended (completed at 2026-12-" in result.output
    assert "Traceback" not in result.output
    assert inbox_dir(tmp_path).is_dir()
    assert not list(inbox_dir(tmp_path).glob("*.json")), "nothing was sent"


@pytest.mark.parametrize("where", ["missing", "file", "empty"])
def test_what_is_not_a_run_directory_is_one_line_and_exit_2(tmp_path: Path, where: str) -> None:
    target = tmp_path / "x"
    if where == "file":
        target.write_text("x")
    elif where == "empty":
        target.mkdir()
    result = CliRunner().invoke(cli, ["control", str(target), "pause"])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert "not a run directory" in line and "fix:" in line
