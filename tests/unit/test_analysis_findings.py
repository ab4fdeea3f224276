"""Findings: a run that did not complete, faults never reverted or recovered, fault errors.

Each fails the verdict with or without an SLO naming it; the exit code is the worst.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dagstorm.analysis.measures.compute import compute_measures
from dagstorm.analysis.rundata.load import build_run_data
from dagstorm.analysis.verdict.findings import STATUS_EXIT_CODES, worst_exit_code
from dagstorm.analysis.verdict.judgement import Verdict, judge
from dagstorm.core.errors import ExitCode

ORIGIN = datetime(2026, 3, 1, 22, 0, tzinfo=UTC).timestamp()
SLA = {"type": "sla", "dag": "d", "within": 100, "compliance": ">= 50%"}


def iso(t: float) -> str:
    return datetime.fromtimestamp(ORIGIN + t, UTC).isoformat()


def ok_run(run_id: str, end: float) -> tuple[str, float, dict[str, Any]]:
    fields = {"dag_id": "d", "run_id": run_id, "state": "success", "queued_at": iso(end - 5),
              "start_date": iso(end - 5), "end_date": iso(end)}  # fmt: skip
    return ("dag_run", end, fields)


def applied(fault_id: str, t: float) -> tuple[str, float, dict[str, Any]]:
    return ("fault_applied", t, {"fault_id": fault_id, "fault": "network down on x", "took_s": 0})


def reverted(fault_id: str, t: float) -> tuple[str, float, dict[str, Any]]:
    return ("fault_reverted", t, {"fault_id": fault_id, "fault": "network down on x"})


def error(fault_id: str, t: float, text: str) -> tuple[str, float, dict[str, Any]]:
    return ("fault_error", t, {"fault_id": fault_id, "fault": "network down on x", "error": text})


def judged(
    body: list[tuple[str, float, dict[str, Any]]],
    *,
    slos: list[dict[str, Any]] | None = None,
    end: dict[str, Any] | None = None,
    end_t: float = 300,
) -> Verdict:
    """The verdict of a run with ``body``; ``end`` is run_end's fields (None: no run_end)."""
    events: list[dict[str, Any]] = [
        {
            "seq": 1,
            "t": 0,
            "wall": ORIGIN,
            "kind": "run_start",
            "time_compression": 1.0,
            "slos": slos or [],
        }
    ]
    for kind, t, fields in body:
        events.append({"seq": len(events) + 1, "t": t, "wall": ORIGIN + t, "kind": kind, **fields})
    if end is not None:
        events.append({"seq": len(events) + 1, "t": end_t, "kind": "run_end", **end})
    data = build_run_data(events, run_dir=Path("run"))
    return judge(data, compute_measures(data))


COMPLETED = {"status": "completed", "reason": "", "fault_errors": []}
RECOVERED = [ok_run("a", 40), applied("f", 50), reverted("f", 100), ok_run("b", 150)]


def kinds(verdict: Verdict) -> list[str]:
    return [f.kind for f in verdict.findings]


def test_no_slos_completed_and_recovered_passes() -> None:
    v = judged(RECOVERED, end=COMPLETED)
    assert v.passed and v.exit_code is ExitCode.OK
    assert v.findings == () and v.score is None


@pytest.mark.parametrize(
    ("status", "code"),
    [("interrupted", 130), ("aborted", 1), ("error", 3), ("something-new", 3)],
)
def test_a_run_that_did_not_complete_never_passes(status: str, code: int) -> None:
    v = judged(RECOVERED, end={"status": status, "reason": "why", "fault_errors": []})
    assert not v.passed and int(v.exit_code) == code
    (finding,) = v.findings
    assert finding.kind == "run_status" and finding.subject == "run"
    assert finding.text.startswith(f"run {status}: why — ")


def test_every_status_but_completed_has_an_exit_code_other_than_zero() -> None:
    assert set(STATUS_EXIT_CODES) == {"aborted", "interrupted", "error", "unfinished"}
    assert ExitCode.OK not in STATUS_EXIT_CODES.values()


def test_a_journal_without_run_end_is_unfinished_and_fails_with_3() -> None:
    v = judged(RECOVERED, end=None)
    assert not v.passed and v.exit_code is ExitCode.INFRASTRUCTURE
    assert kinds(v) == ["run_status"]
    assert "no run_end" in v.findings[0].text


def test_a_fault_never_recovered_fails_without_an_slo() -> None:
    body = [ok_run("a", 40), applied("f", 50), reverted("f", 100)]  # nothing succeeds after
    v = judged(body, end=COMPLETED)
    assert not v.passed and v.exit_code is ExitCode.SLO_FAILED
    (finding,) = v.findings
    assert (finding.kind, finding.subject) == ("fault_unrecovered", "fault f")
    assert "never recovered: no DAG run succeeded after its end at 1m40s" in finding.text


def test_a_fault_never_reverted_is_one_finding_not_two() -> None:
    v = judged([ok_run("a", 40), applied("f", 50)], end=COMPLETED)
    assert kinds(v) == ["fault_not_reverted"]
    assert v.exit_code is ExitCode.SLO_FAILED
    assert "never reverted" in v.findings[0].text


def test_the_issue_case_interrupted_with_a_fault_applied_and_no_slo() -> None:
    interrupted = {"status": "interrupted", "reason": "interrupted by the user (signal)"}
    v = judged([ok_run("a", 40), applied("f", 50)], end=interrupted, end_t=90)
    assert not v.passed and v.exit_code is ExitCode.INTERRUPTED
    assert kinds(v) == ["run_status", "fault_not_reverted"]


def test_fault_errors_call_for_exit_3() -> None:
    body = [ok_run("a", 40), error("f", 50, "toxiproxy: 500"), *RECOVERED[1:]]
    v = judged(body, end={**COMPLETED, "fault_errors": ["toxiproxy: 500"]})
    assert kinds(v) == ["fault_error"]  # run_end's copy of the same error is not counted twice
    assert v.exit_code is ExitCode.INFRASTRUCTURE
    assert "could not be applied: toxiproxy: 500" in v.findings[0].text


def test_a_revert_error_says_it_may_still_be_applied() -> None:
    body = [ok_run("a", 40), applied("f", 50), error("f", 100, "timeout"), ok_run("b", 150)]
    v = judged(body, end=COMPLETED)
    assert kinds(v) == ["fault_error"]  # not also "never reverted": the error says why
    assert "could not be reverted (it may still be applied): timeout" in v.findings[0].text


def test_errors_only_in_run_end_are_findings_too() -> None:
    v = judged(RECOVERED, end={**COMPLETED, "fault_errors": ["leftover f0: revert failed"]})
    assert kinds(v) == ["fault_error"] and v.exit_code is ExitCode.INFRASTRUCTURE
    assert v.findings[0].text == "fault error: leftover f0: revert failed"


def test_the_exit_code_is_the_worst_of_slos_and_findings() -> None:
    body = [ok_run("a", 40), applied("f", 50), reverted("f", 100)]
    interrupted = {"status": "interrupted", "reason": "signal"}
    v = judged(body, slos=[{"type": "recovery_time", "max": "<= 1m"}], end=interrupted)
    assert [s.passed for s in v.slos] == [False]
    assert v.exit_code is ExitCode.INTERRUPTED
    assert v.score == 0.0  # the score stays the SLOs' own


def test_slos_all_passing_do_not_hide_a_finding() -> None:
    v = judged([*RECOVERED, applied("g", 200)], slos=[SLA], end=COMPLETED)
    assert all(s.passed for s in v.slos) and v.score == 100.0
    assert not v.passed and kinds(v) == ["fault_not_reverted"]


def test_worst_exit_code_order() -> None:
    assert worst_exit_code([]) is ExitCode.OK
    assert worst_exit_code([ExitCode.SLO_FAILED, ExitCode.INFRASTRUCTURE]) is (
        ExitCode.INFRASTRUCTURE
    )
    assert worst_exit_code([ExitCode.INFRASTRUCTURE, ExitCode.INTERRUPTED]) is (
        ExitCode.INTERRUPTED
    )
