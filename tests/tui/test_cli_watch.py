from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from dagstorm.cli import cli, tui_commands


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
        "import sys, dagstorm.cli.tui_commands; "
        "print(any(m.split('.')[0] == 'textual' for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
