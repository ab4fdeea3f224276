"""The verdict: every SLO of the scenario judged against the measures, and the findings.

An SLO that cannot be measured (no runs of its DAG, no fault applied, no serving
data, …) fails with ``not measured: <why>`` — never a silent pass. The resilience
score is 100 × (weights of the passed SLOs) / (weights of all SLOs).

:func:`judge` adds the run's findings (:mod:`dagstorm.analysis.verdict.findings`): a run
that did not complete, a fault never reverted or never recovered, a fault error.
Each fails the verdict whether or not an SLO names it. The verdict is the one
source of result.json's ``verdict``, junit.xml, the report's badge, the history
line, the printed lines and the exit code of ``dagstorm run`` / ``analyze``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dagstorm.analysis.measures.compute import Measures
from dagstorm.analysis.rundata.model import RunData, Slo
from dagstorm.analysis.verdict.findings import Finding, run_findings, worst_exit_code
from dagstorm.analysis.verdict.slo_judges import RunEvidence
from dagstorm.core.errors import ExitCode
from dagstorm.plugin.slo import SloReading
from dagstorm.scenarios.slo_kinds import SLO_KINDS


@dataclass(frozen=True)
class SloVerdict:
    """One SLO: what was measured, against what target, and whether it held."""

    name: str
    type: str
    measured: bool
    #: The number compared with the target (a fraction for percentages, seconds for
    #: durations); None when not measured; may be infinite (never recovered).
    value: float | None
    value_text: str
    target: str
    passed: bool
    weight: float
    detail: str


@dataclass(frozen=True)
class Verdict:
    """All SLO verdicts, the findings, the weighted score, and whether the run passed.

    Build it with :func:`verdict_of` (or :func:`judge`, :func:`evaluate`), which
    derive ``passed`` and ``exit_code`` from the SLOs and the findings.
    """

    slos: tuple[SloVerdict, ...]
    #: True only when every SLO passed and there is no finding.
    passed: bool
    #: 0–100 over the SLOs only; None when the scenario declares no SLO.
    score: float | None
    #: The worst of: 1 for a failed SLO, each finding's code (findings.SEVERITY).
    exit_code: ExitCode
    #: What fails the run besides its SLOs (a status other than completed, faults).
    findings: tuple[Finding, ...] = ()

    @property
    def failed(self) -> tuple[SloVerdict, ...]:
        """The SLOs that failed (including the unmeasured)."""
        return tuple(v for v in self.slos if not v.passed)


def verdict_of(
    slos: Sequence[SloVerdict], findings: Sequence[Finding] = (), *, score: float | None
) -> Verdict:
    """The verdict of these SLO verdicts and findings: passed, and the worst exit code."""
    codes = [f.exit_code for f in findings]
    if any(not v.passed for v in slos):
        codes.append(ExitCode.SLO_FAILED)
    exit_code = worst_exit_code(codes)
    return Verdict(
        slos=tuple(slos),
        passed=exit_code == ExitCode.OK,
        score=score,
        exit_code=exit_code,
        findings=tuple(findings),
    )


def evaluate(
    slos: Sequence[Slo],
    measures: Measures,
    *,
    compression: float,
    data: RunData | None = None,
) -> Verdict:
    """Judge every SLO of ``slos`` against ``measures`` (the SLOs only: no findings).

    Each SLO is judged by its kind's judge (``SLO_KINDS``): dagstorm's own kinds
    by the measure they name, a plugin's by its own judge over ``data``'s events.
    The live views (the TUI, /metrics) use it on a run under way; the
    verdict of a run is :func:`judge`'s.
    """
    evidence = RunEvidence(measures, compression=compression, data=data)
    verdicts = tuple(_judge(slo, evidence) for slo in slos)
    total = sum(v.weight for v in verdicts)
    won = sum(v.weight for v in verdicts if v.passed)
    return verdict_of(verdicts, score=round(100.0 * won / total, 1) if total else None)


def judge(data: RunData, measures: Measures) -> Verdict:
    """The verdict of a run: its SLOs (:func:`evaluate`) and its findings."""
    slos = evaluate(data.scenario.slos, measures, compression=data.compression, data=data)
    findings = run_findings(
        status=data.status,
        reason=data.reason,
        recovery=measures.recovery_for(None),
        end_fault_errors=data.end_fault_errors,
    )
    return verdict_of(slos.slos, findings, score=slos.score)


def _judge(slo: Slo, evidence: RunEvidence) -> SloVerdict:
    reading: SloReading = SLO_KINDS.get(slo.type).build(slo, evidence)
    target = slo.target()
    measured = reading.measured and reading.value is not None
    return SloVerdict(
        name=slo.name,
        type=slo.type,
        measured=measured,
        value=reading.value if measured else None,
        value_text=reading.value_text if measured else "not measured",
        target=target.text,
        passed=measured and target.passes(reading.value or 0.0) and not reading.veto,
        weight=slo.weight,
        detail=reading.detail if measured else f"not measured: {reading.detail}",
    )
