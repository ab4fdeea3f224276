"""Reports of a run directory: ``report.html``, the self-contained capacity report.

Reads only the run directory (docs/journal.md) and the analysis Result, never
engine internals, so any run can be reported again with newer code::

    from dagstorm.analysis import analyze
    from dagstorm.reports import write_report

    result = analyze(run_dir)
    write_report(run_dir, result)      # run_dir/report.html

The page has no script and loads nothing (docs/reports.md).
"""

from __future__ import annotations

from dagstorm.reports.page import REPORT_FILE, render_report, write_report

__all__ = ["REPORT_FILE", "render_report", "write_report"]
