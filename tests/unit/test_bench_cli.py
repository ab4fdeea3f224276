"""`dagstorm bench NAME --help` lists that benchmark's own options (its script's argparse)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dagstorm.cli import cli
from dagstorm.cli.bench_commands import BENCHES

ROOT = Path(__file__).parents[2]


def declared_options(script: Path) -> list[str]:
    """The long options the script's argparse declares (read from its source)."""
    return re.findall(r'add_argument\(\s*"(--[\w-]+)"', script.read_text())


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
