"""`report`, `analyze` and `watch` refuse a path that is not a run directory the same way.

A missing path, a file or a directory without journal.jsonl: one line
`dagstorm: error: PATH: … not a run directory — fix: …`, exit 2, nothing written,
no TUI started (issue 12: `watch` must refuse what `report` and `analyze` refuse).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from dagstorm.cli import cli


def _missing(tmp_path: Path) -> tuple[Path, str]:
    return tmp_path / "nowhere", "no such directory: not a run directory"


def _a_file(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "result.json"
    path.write_text("{}")
    return path, "a file: not a run directory"


def _no_journal(tmp_path: Path) -> tuple[Path, str]:
    (tmp_path / "run").mkdir()
    return tmp_path / "run", "no journal.jsonl in the directory: not a run directory"


@pytest.mark.parametrize("command", ["report", "analyze", "watch"])
@pytest.mark.parametrize("make", [_missing, _a_file, _no_journal])
def test_a_path_that_is_not_a_run_is_one_line_and_exit_2(
    tmp_path: Path, command: str, make: Callable[[Path], tuple[Path, str]]
) -> None:
    path, why = make(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    result = CliRunner().invoke(cli, ["--state-dir", str(tmp_path / "state"), command, str(path)])
    assert result.exit_code == 2, result.output
    (line,) = result.output.splitlines()
    assert line.startswith(f"dagstorm: error: {path}: {why} — fix: "), line
    assert sorted(p for p in tmp_path.rglob("*") if "state" not in p.parts) == [
        p for p in before if "state" not in p.parts
    ]
