"""`dagstorm report RUN_DIR`: (re)write a run's self-contained HTML capacity report."""

from __future__ import annotations

from pathlib import Path

import click

from dagstorm.cli import cli
from dagstorm.cli.common import Settings, handle_errors


@cli.command("report")
@click.argument("run_dir", type=click.Path(path_type=Path))  # checked: journal_of
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the report here instead of RUN_DIR/report.html.",
)
@click.option(
    "--history",
    type=click.Path(path_type=Path, dir_okay=False),
    help="History file for the trend section (default: RUN_DIR/../history.jsonl, if present).",
)
@click.pass_obj
@handle_errors
def report(settings: Settings, run_dir: Path, output: Path | None, history: Path | None) -> None:
    """Write RUN_DIR's capacity report (report.html, or -o FILE) and print its path.

    Reads only the run directory; the page is one file with no script and no
    network access, so it can be attached to a CI job or mailed as is
    (docs/reports.md).

    How it differs from `dagstorm analyze`: report writes the page only —
    result.json and junit.xml stay as they are — and exits 0 whatever the verdict
    (2 if RUN_DIR is not a run). `analyze` rewrites result.json, junit.xml and
    report.html, prints the verdict and exits with its code.

    A journal over 64 MB shows its progress on stderr (-q: none).

    \b
    Example:
      dagstorm report runs/20261124T041804Z-smoke
      dagstorm report runs/20261124T041804Z-smoke -o /tmp/smoke.html
    """
    from dagstorm.analysis.outputs.history import default_history_path
    from dagstorm.cli.run_flow import analysis_progress
    from dagstorm.harness.flow import report as write_report

    chosen = default_history_path(run_dir.parent, history)
    progress = analysis_progress(settings, run_dir)
    click.echo(str(write_report(run_dir, history=chosen, output=output, progress=progress)))
