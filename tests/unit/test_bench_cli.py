"""`dagstorm bench NAME --help` lists that benchmark's own options (its script's argparse)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dagstorm.cli import cli
from dagstorm.cli.bench_commands import BENCHES, HELPERS

ROOT = Path(__file__).parents[2]


def declared_options(script: Path) -> list[str]:
    """The long options the script's argparse declares (read from its source)."""
    return re.findall(r'add_argument\(\s*"(--[\w-]+)"', script.read_text())


def declared_arguments(script: Path) -> dict[str, str | None]:
    """Every argument the script's argparse declares (options and positionals), with its help.

    The help is its text when it is a literal, "" when it is computed (an f-string),
    None when the argument has none.
    """
    out: dict[str, str | None] = {}
    for node in ast.walk(ast.parse(script.read_text())):
        if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument"):
            continue
        first = node.args[0]
        assert isinstance(first, ast.Constant) and isinstance(first.value, str)
        helps = [k.value for k in node.keywords if k.arg == "help"]
        literal = helps[0].value if helps and isinstance(helps[0], ast.Constant) else ""
        out[first.value] = (literal if isinstance(literal, str) else "") if helps else None
    return out


def dagstorm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dagstorm", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


@pytest.mark.parametrize("name", sorted(BENCHES))
def test_bench_help_lists_the_benchmarks_own_options(name: str) -> None:
    script = ROOT / "bench" / BENCHES[name].script
    options = declared_options(script)
    assert options, f"{script.name} declares no option: the regex no longer reads it"
    shown = dagstorm("bench", name, "--help")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"usage: {script.name} ")
    for option in options:
        assert option in shown.stdout, f"`dagstorm bench {name} --help` lacks {option}"


@pytest.mark.parametrize("name", sorted(BENCHES))
def test_every_option_of_every_benchmark_is_explained_in_its_help(name: str) -> None:
    script = ROOT / "bench" / BENCHES[name].script
    arguments = declared_arguments(script)
    assert arguments, f"{script.name} declares no argument"
    undocumented = sorted(a for a, text in arguments.items() if text is None)
    assert not undocumented, f"{script.name}: no help= for {undocumented}"
    shown = dagstorm("bench", name, "--help")
    assert shown.returncode == 0, shown.stderr
    flat = " ".join(shown.stdout.split())  # argparse wraps long help lines
    for argument, text in arguments.items():
        assert argument in flat and " ".join(str(text).split()) in flat, (name, argument)


def test_every_benchmark_script_is_a_bench_command() -> None:
    registered = {b.script for b in BENCHES.values()}
    scripts = {p.name for p in (ROOT / "bench").glob("*.py")}
    assert scripts - HELPERS == registered
    assert scripts >= HELPERS


def test_arguments_reach_the_script() -> None:
    shown = dagstorm("bench", "faults", "--no-such-option")
    assert shown.returncode == 2  # argparse's own usage error: the script parsed it
    assert "unrecognized arguments: --no-such-option" in shown.stderr


def test_bench_help_lists_every_benchmark() -> None:
    result = CliRunner().invoke(cli, ["bench", "--help"])
    assert result.exit_code == 0
    listed = re.findall(r"^  ([\w-]+)  ", result.output, flags=re.MULTILINE)
    assert listed == sorted(BENCHES)


def test_an_unknown_benchmark_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["bench", "nope"])
    assert result.exit_code == 2
