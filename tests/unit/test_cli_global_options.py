"""Global options may follow the subcommand, and no subcommand reuses their names."""

from __future__ import annotations

import click
from click.testing import CliRunner

from dagstorm.cli import cli
from dagstorm.cli.global_options import FLAGS, VALUED, hoist


def test_global_options_move_in_front_in_their_order() -> None:
    args = ["run", "x.yaml", "-q", "--stack-file", "s.yaml", "--state-dir=/tmp/d", "--json"]
    assert hoist(args) == [
        "-q",
        "--stack-file",
        "s.yaml",
        "--state-dir=/tmp/d",
        "run",
        "x.yaml",
        "--json",
    ]


def test_nothing_after_a_double_dash_moves() -> None:
    assert hoist(["fault", "--", "-q"]) == ["fault", "--", "-q"]


def test_a_command_line_without_globals_is_unchanged() -> None:
    assert hoist(["validate", "a.yaml", "b.yaml"]) == ["validate", "a.yaml", "b.yaml"]


def test_no_subcommand_defines_a_global_option_name() -> None:
    def commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
        found: list[tuple[str, click.Command]] = []
        for name, command in group.commands.items():
            found.append((prefix + name, command))
            if isinstance(command, click.Group):
                found.extend(commands(command, f"{prefix}{name} "))
        return found

    clashes = [
        (name, opt)
        for name, command in commands(cli)
        for param in command.params
        for opt in getattr(param, "opts", [])
        if opt in FLAGS | VALUED
    ]
    assert clashes == []


def test_quiet_after_the_subcommand_is_the_global_flag() -> None:
    result = CliRunner().invoke(cli, ["validate", "scenarios/smoke.yaml", "-q"])
    assert result.exit_code == 0, result.output
