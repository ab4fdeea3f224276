"""Progress of a long analysis: the journal's bytes read, then the stages as steps."""

from __future__ import annotations

import io
import itertools
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import dagstorm.cli.report_commands  # registers the command (imported for that)
import dagstorm.cli.run_commands  # noqa: F401  (registers the command)
from dagstorm.analysis.rundata.journal_scan import scan_journal
from dagstorm.cli import cli
from dagstorm.core.progress import Progress
from dagstorm.harness.flow import analyse

SMOKE = Path(__file__).resolve().parents[1] / "fixtures" / "report_runs" / "20261124T041804Z-smoke"
#: A block size that makes the smoke journal (356 kB) a long one: ~90 blocks.
SMALL_BLOCK = 4096
STAGES = ("read the journal", "build the run data", "measures", "result", "report")


def _small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    import dagstorm.analysis.rundata.journal_scan as module

    monkeypatch.setattr(module, "READ_BYTES", SMALL_BLOCK)


def _run_dir(tmp_path: Path) -> Path:
    run_dir = tmp_path / SMOKE.name
    shutil.copytree(SMOKE, run_dir)
    return run_dir


def _progress_lines(text: str) -> list[str]:
    """A step's start or end (``→ measures …``, ``✓ measures (0.1 s)``) or a quarter line."""
    marks = tuple(f"{m} {stage} " for stage in STAGES for m in "→✓✗")
    return [
        line
        for line in text.splitlines()
        if line.startswith(marks) or line.startswith("  read the journal: ")
    ]


def test_scan_reports_growing_bytes_up_to_the_file_size(monkeypatch: pytest.MonkeyPatch) -> None:
    _small_blocks(monkeypatch)
    journal = SMOKE / "journal.jsonl"
    seen: list[int] = []
    scan = scan_journal(journal, on_read=seen.append)
    size = journal.stat().st_size
    assert len(seen) == -(-size // SMALL_BLOCK)  # one call per block, none per line
    assert all(a < b for a, b in itertools.pairwise(seen))
    assert seen[-1] == size
    assert scan.total == sum(1 for line in journal.read_bytes().splitlines() if line.strip())


def test_a_one_block_journal_reports_once(tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    journal.write_bytes(b'{"seq":1,"t":0.0,"kind":"run_start"}\n')
    seen: list[int] = []
    scan_journal(journal, on_read=seen.append)
    assert seen == [journal.stat().st_size]


def test_meter_without_tty_prints_a_line_per_quarter_only() -> None:
    stream = io.StringIO()
    progress = Progress(stream)
    with progress.meter("read", 1000.0, unit="B", per_unit=1.0) as update:
        for done in range(1, 1001):
            update(float(done))
    lines = stream.getvalue().splitlines()
    assert lines[0] == "→ read …"
    assert [line.strip() for line in lines[1:-1]] == [
        "read: 25% (250 of 1,000 B)",
        "read: 50% (500 of 1,000 B)",
        "read: 75% (750 of 1,000 B)",
    ]
    assert lines[-1].startswith("✓ read (")


def test_meter_jumping_past_several_quarters_prints_one_line() -> None:
    stream = io.StringIO()
    with Progress(stream).meter("read", 100.0) as update:
        update(80.0)
        update(100.0)
    assert len(stream.getvalue().splitlines()) == 3  # start, 80 %, end


def test_quiet_meter_prints_nothing() -> None:
    stream = io.StringIO()
    with Progress(stream, quiet=True).meter("read", 100.0) as update:
        update(50.0)
        update(100.0)
    assert stream.getvalue() == ""


def test_library_is_quiet_by_default_and_results_match_with_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _small_blocks(monkeypatch)
    run_dir = _run_dir(tmp_path)
    analyse(run_dir)
    assert capsys.readouterr() == ("", "")
    quiet = (run_dir / "result.json").read_bytes()
    (run_dir / "result.json").unlink()
    stream = io.StringIO()
    analyse(run_dir, progress=Progress(stream))
    assert (run_dir / "result.json").read_bytes() == quiet
    shown = stream.getvalue()
    for stage in ("read the journal", "build the run data", "measures", "result"):
        assert f"✓ {stage} (" in shown


@pytest.mark.parametrize("command", ["analyze", "report"])
def test_cli_without_tty_prints_few_progress_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    _small_blocks(monkeypatch)
    run_dir = _run_dir(tmp_path)
    outcome = CliRunner().invoke(cli, ["--state-dir", str(tmp_path / "s"), command, str(run_dir)])
    assert outcome.exit_code in (0, 1), outcome.output
    lines = _progress_lines(outcome.stderr)
    # ~90 blocks read: a start and an end per stage, three quarter lines, whatever the size.
    assert len(lines) == 2 * len(STAGES) + 3, lines
    assert lines[0] == "→ read the journal …"
    assert lines[1].startswith("  read the journal: 2")  # 25 % or just past it
    assert lines[-1].startswith("✓ report (")
    assert not _progress_lines(outcome.stdout)


@pytest.mark.parametrize("command", ["analyze", "report"])
def test_cli_quiet_prints_no_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    _small_blocks(monkeypatch)
    run_dir = _run_dir(tmp_path)
    outcome = CliRunner().invoke(
        cli, ["--state-dir", str(tmp_path / "s"), command, str(run_dir), "-q"]
    )
    assert outcome.exit_code in (0, 1), outcome.output
    assert _progress_lines(outcome.output) == []


def test_cli_small_journal_prints_no_progress(tmp_path: Path) -> None:
    run_dir = _run_dir(tmp_path)  # 356 kB: one block of the scanner
    outcome = CliRunner().invoke(cli, ["--state-dir", str(tmp_path / "s"), "analyze", str(run_dir)])
    assert outcome.exit_code in (0, 1), outcome.output
    assert _progress_lines(outcome.stderr) == []


def test_cli_result_json_is_the_same_with_and_without_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_blocks(monkeypatch)
    run_dir = _run_dir(tmp_path)
    state = ["--state-dir", str(tmp_path / "s")]
    CliRunner().invoke(cli, [*state, "analyze", str(run_dir), "-q"])
    quiet = (run_dir / "result.json").read_bytes()
    shown = CliRunner().invoke(cli, [*state, "analyze", str(run_dir)])
    assert _progress_lines(shown.stderr)
    assert (run_dir / "result.json").read_bytes() == quiet
