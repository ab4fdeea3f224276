"""Findings: what fails a run whatever its SLOs say (docs/measures.md, "Verdict").

A measuring tool never gives a pass it did not measure. So, besides the SLOs, the
verdict fails when:

- the run did not complete (``aborted``, ``interrupted``, ``error``, or
  ``unfinished``: no ``run_end`` in the journal);
- a fault was applied and never reverted (no ``fault_reverted`` in the journal);
- the pipeline never recovered after a fault (no DAG run succeeded after its end:
  the recovery measure's "never recovered");
- a fault could not be applied or reverted (a ``fault_error``, or an error in
  ``run_end``'s ``fault_errors``).

Each finding carries the exit code it calls for; the verdict's exit code is the
worst of them and of the SLOs' (:data:`SEVERITY`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from dagstorm.analysis.measures.faults.fault_windows import FaultErrorRow
from dagstorm.analysis.measures.faults.recovery import RetryRecovery
from dagstorm.core.durations import duration_text
from dagstorm.core.errors import ExitCode

__all__ = ["SEVERITY", "STATUS_EXIT_CODES", "Finding", "run_findings", "worst_exit_code"]

FindingKind = Literal["run_status", "fault_not_reverted", "fault_unrecovered", "fault_error"]

#: Worse first: a verdict exits with the worst code of its findings and SLOs.
SEVERITY = (
    ExitCode.INTERRUPTED,
    ExitCode.INFRASTRUCTURE,
    ExitCode.USAGE,
    ExitCode.SLO_FAILED,
    ExitCode.OK,
)

#: The exit code of each run status but ``completed`` (any other status: 3).
STATUS_EXIT_CODES = {
    # The scenario's own abort rule fired: an SLO with `abort: true` failed live,
    # or the probes failed too often. A failed run, like a failed SLO.
    "aborted": ExitCode.SLO_FAILED,
    # Ctrl-C, SIGTERM or an `abort` command: what the process itself exits with.
    "interrupted": ExitCode.INTERRUPTED,
    "error": ExitCode.INFRASTRUCTURE,
    # No run_end: the engine was killed (SIGKILL, OOM, a lost machine) or is still running.
    "unfinished": ExitCode.INFRASTRUCTURE,
}

#: Why a status fails the run, after ``run <status>: <reason>``.
_STATUS_WHY = {
    "aborted": "a run that stopped before its end never passes",
    "interrupted": "an interrupted run never passes",
    "error": "a run that ended in an error never passes",
    "unfinished": "the journal has no run_end (the engine was killed, or is still running)",
}


@dataclass(frozen=True)
class Finding:
    """One reason the run fails besides its SLOs."""

    kind: FindingKind
    #: What it is about: ``run``, or ``fault <fault_id>``.
    subject: str
    #: One line for people.
    text: str
    exit_code: ExitCode


def worst_exit_code(codes: Iterable[ExitCode]) -> ExitCode:
    """The worst of ``codes`` by :data:`SEVERITY` (OK when there is none)."""
    present = set(codes)
    return next((code for code in SEVERITY if code in present), ExitCode.OK)


def run_findings(
    *,
    status: str,
    reason: str | None,
    recovery: RetryRecovery,
    end_fault_errors: Sequence[str] = (),
) -> tuple[Finding, ...]:
    """The findings of a run: its status, then each fault's, in the order they happened.

    ``recovery`` is the all-DAG recovery measure (``Measures.recovery_for(None)``).
    """
    findings: list[Finding] = []
    if status != "completed":
        why = _STATUS_WHY.get(status, "only a completed run can pass")
        findings.append(
            Finding(
                "run_status",
                "run",
                f"run {status}: " + (f"{reason} — {why}" if reason else why),
                STATUS_EXIT_CODES.get(status, ExitCode.INFRASTRUCTURE),
            )
        )
    revert_errors = {e.fault_id for e in recovery.fault_errors if e.applied}
    for fault in recovery.faults:
        subject = f"fault {fault.fault_id}"
        if not fault.reverted:
            if fault.fault_id in revert_errors:
                continue  # its fault_error says why (below)
            findings.append(
                Finding(
                    "fault_not_reverted",
                    subject,
                    f"{fault.fault} [{fault.fault_id}] applied at {duration_text(fault.start_t)}"
                    " was never reverted (no fault_reverted in the journal;"
                    " `dagstorm recover` reverts what a run left applied)",
                    ExitCode.SLO_FAILED,
                )
            )
        elif not fault.recovered:
            findings.append(
                Finding(
                    "fault_unrecovered",
                    subject,
                    f"{fault.fault} [{fault.fault_id}] never recovered: no DAG run succeeded"
                    f" after its end at {duration_text(fault.end_t)}",
                    ExitCode.SLO_FAILED,
                )
            )
    findings.extend(_error(e) for e in recovery.fault_errors)
    journaled = {e.error for e in recovery.fault_errors}
    findings.extend(
        Finding("fault_error", "fault", f"fault error: {error}", ExitCode.INFRASTRUCTURE)
        for error in dict.fromkeys(end_fault_errors)
        if error not in journaled
    )
    return tuple(findings)


def _error(row: FaultErrorRow) -> Finding:
    what = "reverted (it may still be applied)" if row.applied else "applied"
    return Finding(
        "fault_error",
        f"fault {row.fault_id}",
        f"{row.fault} [{row.fault_id}] could not be {what}: {row.error}",
        ExitCode.INFRASTRUCTURE,
    )
