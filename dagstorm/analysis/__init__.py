"""Measures over a run directory, and its verdict: the scenario's SLOs and the findings.

Reads only the run directory (``journal.jsonl``, ``ledger/``, ``serving.parquet``),
never engine internals, so any run can be re-analysed with newer code::

    from dagstorm.analysis import analyze, write_result, write_junit, summary_lines

    result = analyze(run_dir)
    write_result(run_dir, result)      # result.json
    write_junit(run_dir, result)       # junit.xml
    for line in summary_lines(result):
        print(line)
    raise SystemExit(result.exit_code)  # the verdict's: SLOs and findings

Definitions of every measure: ``docs/measures.md``.
"""

from __future__ import annotations

from dagstorm.analysis.outputs.junit import write_junit
from dagstorm.analysis.outputs.result import (
    RESULT_FORMAT,
    Result,
    analyze,
    result_document,
    write_result,
)
from dagstorm.analysis.outputs.summary import summary_lines
from dagstorm.analysis.rundata.model import RunDirectoryError

__all__ = [
    "RESULT_FORMAT",
    "Result",
    "RunDirectoryError",
    "analyze",
    "result_document",
    "summary_lines",
    "write_junit",
    "write_result",
]
