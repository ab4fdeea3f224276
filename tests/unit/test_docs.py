"""The docs stay true where a test can tell: commands, scenario files, the worked example."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import click
import pytest

from dagstorm.analysis import analyze
from dagstorm.cli import cli
from dagstorm.reports import render_report

ROOT = Path(__file__).resolve().parents[2]
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
_FENCED = re.compile(r"\s*(?:\$ )?(?:\.venv/bin/)?dagstorm((?: [a-z][a-z-]*)*)")
_QUOTED = re.compile(r"`(?:\.venv/bin/)?dagstorm((?: [a-z][a-z-]*)*)[^`]*`")
_SCENARIO = re.compile(r"\bscenarios/([A-Za-z0-9_.-]+\.ya?ml)\b")


def commands_named(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line, words after ``dagstorm``) of each command in a code block or in backticks."""
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            match = _FENCED.match(line)
            if match and match.group(1):
                yield number, match.group(1).split()
        else:
            for match in _QUOTED.finditer(line):
                if match.group(1):
                    yield number, match.group(1).split()


def unknown_commands(text: str) -> list[str]:
    """The commands ``text`` names that the click CLI does not have."""
    problems = []
    for number, words in commands_named(text):
        command = cli.commands.get(words[0])
        if command is None:
            problems.append(f"line {number}: dagstorm {words[0]}")
        elif (
            isinstance(command, click.Group) and len(words) > 1 and words[1] not in command.commands
        ):
            problems.append(f"line {number}: dagstorm {words[0]} {words[1]}")
    return problems


def test_the_scan_finds_a_command_that_does_not_exist() -> None:
    text = "Run `dagstorm frobnicate now`.\n```\ndagstorm stack explode\ndagstorm run x.yaml\n```\n"
    assert unknown_commands(text) == [
        "line 1: dagstorm frobnicate",
        "line 3: dagstorm stack explode",
    ]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_command_the_docs_name_exists(doc: Path) -> None:
    assert unknown_commands(doc.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_scenario_file_the_docs_name_exists(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    missing = sorted(
        {name for name in _SCENARIO.findall(text) if not (ROOT / "scenarios" / name).is_file()}
    )
    assert missing == []


def test_the_worked_example_of_reading_a_report_is_the_fixtures_report(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "reports.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- example: (\S+) -->\n```text\n(.*?)\n```", text, re.S)
    assert match is not None, "docs/reports.md has no worked example"
    run_dir = Path(shutil.copytree(ROOT / match.group(1), tmp_path / Path(match.group(1)).name))
    page = render_report(run_dir, analyze(run_dir))
    shown = unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))
    quoted = [line.strip() for line in match.group(2).splitlines() if line.strip()]
    assert len(quoted) >= 5
    assert [line for line in quoted if line not in shown] == []
