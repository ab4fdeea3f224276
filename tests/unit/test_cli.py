"""The CLI's contract: one clear line and a documented exit code, never a traceback."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from dagstorm.cli import cli
from dagstorm.core.errors import ExitCode


def _run(args: list[str], tmp_path: Path) -> tuple[int, str]:
    runner = CliRunner()
    result = runner.invoke(cli, args, env={"DAGSTORM_STACK_FILE": "", "DAGSTORM_STATE_DIR": ""})
    assert "Traceback" not in result.output
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_bad_stack_file_exits_2_with_file_line(tmp_path: Path) -> None:
    bad = tmp_path / "stack.yaml"
    bad.write_text("kind: embedded\nportz: {}\n")
    code, output = _run(["--stack-file", str(bad), "stack", "status"], tmp_path)
    assert code == ExitCode.USAGE
    assert f"{bad}:2:1" in output
    assert "unknown key `portz`" in output
    assert len([line for line in output.splitlines() if "error" in line]) == 1


def test_stack_commands_refuse_a_compose_stack(tmp_path: Path) -> None:
    conf = tmp_path / "stack.yaml"
    conf.write_text("kind: compose\n")
    code, output = _run(["--stack-file", str(conf), "stack", "up"], tmp_path)
    assert code == ExitCode.USAGE
    assert "docker compose up" in output


def test_up_before_install_says_how_to_fix(tmp_path: Path) -> None:
    code, output = _run(["--state-dir", str(tmp_path / "st"), "stack", "up"], tmp_path)
    assert code == ExitCode.INFRASTRUCTURE
    assert "dagstorm stack install" in output


def test_status_of_a_stopped_stack_exits_3_and_lists_components(tmp_path: Path) -> None:
    code, output = _run(
        ["--state-dir", str(tmp_path / "st"), "stack", "status", "--json"], tmp_path
    )
    assert code == ExitCode.INFRASTRUCTURE
    assert '"state": "stopped"' in output
    assert '"name": "airflow-scheduler"' in output


def test_logs_of_an_unknown_component_is_a_usage_error(tmp_path: Path) -> None:
    code, output = _run(["--state-dir", str(tmp_path / "st"), "stack", "logs", "nope"], tmp_path)
    assert code == ExitCode.USAGE
    assert "no log for `nope`" in output


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in group.commands.items():
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, f"{prefix}{name} "))
    return found


@pytest.mark.parametrize(("name", "command"), _commands(cli))
def test_every_command_has_help_with_an_example(name: str, command: click.Command) -> None:
    assert command.help, name
    assert "Example:" in command.help, f"`dagstorm {name}` help has no example"


def test_fault_inject_with_a_bad_field_exits_2_naming_it(tmp_path: Path) -> None:
    code, output = _run(
        ["--state-dir", str(tmp_path / "st"), "fault", "inject", "network", "link=kafka"], tmp_path
    )
    assert code == ExitCode.USAGE
    assert "effect" in output


def test_fault_inject_with_a_malformed_pair_exits_2(tmp_path: Path) -> None:
    code, output = _run(
        ["--state-dir", str(tmp_path / "st"), "fault", "inject", "broker", "action"], tmp_path
    )
    assert code == ExitCode.USAGE
    assert "key=value" in output


def test_fault_revert_of_an_unknown_id_exits_2(tmp_path: Path) -> None:
    code, output = _run(["--state-dir", str(tmp_path / "st"), "fault", "revert", "nope"], tmp_path)
    assert code == ExitCode.USAGE
    assert "not applied: nope" in output


def test_orphaned_faults_are_announced_by_the_next_command(tmp_path: Path) -> None:
    from dagstorm.faults.journal import FaultJournal

    state = tmp_path / "st"
    journal = FaultJournal(state / "faults" / "journal.jsonl")
    journal.record("dead1", "intent", spec={"kind": "broker", "action": "pause"})
    lines = journal.path.read_text().replace(f'"pid": {__import__("os").getpid()}', '"pid": 999999')
    journal.path.write_text(lines)
    _, output = _run(["--state-dir", str(state), "stack", "status"], tmp_path)
    assert "1 fault(s) from an interrupted run are still applied" in output
    assert "dagstorm recover" in output
