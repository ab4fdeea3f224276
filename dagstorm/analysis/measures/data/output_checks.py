"""Completeness from the pipeline profile's ``count`` output checks.

Checks compared with the generator's ledger (``compare: ledger``) are measured by
:mod:`~dagstorm.analysis.measures.data.completeness`; the others give a count that is
compared with what the profile declares:

- ``basis: ids`` (the check names an ``id_column``): duplicated = rows − distinct
  ids; lost = expected − distinct ids (when an expected count is declared);
- ``basis: counts`` (no ids): lost = max(0, expected − rows), duplicated =
  max(0, rows − expected): a surplus can hide a loss, and the report says so;
- ``basis: lag`` (a Kafka consumer group's lag): lost = the lag at the end.

Expected = ``expected``, × the DAG runs this run triggered with ``per_run``.
A check that failed, or that declares nothing to compare with, is not measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dagstorm.analysis.rundata.pipeline import CheckFigures

__all__ = ["OutputCheckMeasure", "output_check_measures"]


@dataclass(frozen=True)
class OutputCheckMeasure:
    """One ``count`` output check's figures against what was expected."""

    name: str
    kind: str
    #: ``ids``, ``counts`` or ``lag`` (see the module docstring); None when not measured.
    basis: str | None
    found: int | None
    distinct_ids: int | None
    expected: int | None
    lost: int | None
    duplicated: int | None
    #: Why not measured (None when measured).
    reason: str | None


def output_check_measures(
    checks: Sequence[CheckFigures], triggered_runs: int
) -> tuple[OutputCheckMeasure, ...]:
    """The measure of each ``count`` check (ledger-compared checks are left out)."""
    return tuple(_measure(c, triggered_runs) for c in checks if c.compare == "count")


def _measure(check: CheckFigures, runs: int) -> OutputCheckMeasure:
    def unmeasured(reason: str) -> OutputCheckMeasure:
        return OutputCheckMeasure(
            check.name, check.kind, None, check.count, check.distinct_ids, None, None, None, reason
        )

    if check.error is not None or check.count is None:
        return unmeasured(check.error or "the check has no figures")
    if check.measure == "lag":
        return OutputCheckMeasure(
            check.name, check.kind, "lag", check.count, None, None, max(0, check.count), None, None
        )
    expected = None
    if check.expected is not None:
        expected = check.expected * runs if check.per_run else check.expected
    if check.distinct_ids is not None:
        lost = None if expected is None else max(0, expected - check.distinct_ids)
        duplicated = check.count - check.distinct_ids
        return OutputCheckMeasure(
            check.name,
            check.kind,
            "ids",
            check.count,
            check.distinct_ids,
            expected,
            lost,
            duplicated,
            None,
        )
    if expected is None:
        return unmeasured("no expected count declared and no id column")
    return OutputCheckMeasure(
        check.name,
        check.kind,
        "counts",
        check.count,
        None,
        expected,
        max(0, expected - check.count),
        max(0, check.count - expected),
        None,
    )
