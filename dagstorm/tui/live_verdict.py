"""The live verdict: each SLO green / amber / red, and the score so far.

Reuses the analysis (``dagstorm.analysis``) on the events :class:`RunState` keeps
for it, so the TUI and ``dagstorm analyze`` agree. During a run, an SLO that cannot
be measured yet is amber (pending), not red: the final verdict is the analysis's.

Once the run has ended, the verdict shown is ``result.json``'s (PASS / FAIL, exit
code, findings), the one every other output shows. Before the run is analysed,
the findings (a status other than completed, a fault never reverted or never
recovered) are judged from the events with the analysis' own rules, and can only
say FAIL: a PASS needs the analysis (ledger and serving data included).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson

from dagstorm.analysis.measures.compute import compute_measures
from dagstorm.analysis.measures.faults.fault_windows import fault_windows
from dagstorm.analysis.rundata.load import build_run_data
from dagstorm.analysis.verdict.judgement import SloVerdict, judge
from dagstorm.analysis.verdict.live import failed_live
from dagstorm.core.errors import DagstormError
from dagstorm.run.rundir import RunDirectory
from dagstorm.scenarios.slos import RecoveryTimeSlo

Light = Literal["green", "amber", "red"]


@dataclass(frozen=True)
class SloLight:
    """One SLO's live state."""

    name: str
    light: Light
    value_text: str
    target: str


@dataclass(frozen=True)
class LiveVerdict:
    """Every SLO's light and the score so far (None: no SLO or nothing to judge yet)."""

    slos: tuple[SloLight, ...]
    score: float | None
    final: bool
    #: The run's verdict once it ended: True / False, or None while not known.
    passed: bool | None = None
    exit_code: int | None = None
    #: The findings' texts (what fails the run besides its SLOs).
    findings: tuple[str, ...] = ()
    #: True when read from ``result.json`` (the analysis' own verdict, not the events').
    from_result: bool = False


EMPTY = LiveVerdict((), None, final=False)


def live_verdict(events: Sequence[Mapping[str, Any]], *, run_dir: Path) -> LiveVerdict:
    """Judge the SLOs on ``events`` (RunState.verdict_events()); never raises."""
    if not events:
        return EMPTY
    try:
        data = build_run_data(events, run_dir=run_dir)
        verdict = judge(data, compute_measures(data))
    except (DagstormError, ValueError, KeyError, TypeError):
        return EMPTY
    final = data.status != "unfinished"
    passed: bool | None = None
    exit_code: int | None = None
    findings: tuple[str, ...] = ()
    if final:
        stored = stored_verdict(run_dir)
        if stored is not None:
            return stored
        if verdict.findings:  # a finding fails the run whatever the analysis adds
            passed, exit_code = False, int(verdict.exit_code)
            findings = tuple(f.text for f in verdict.findings)
    applied = any(not w.reverted for w in fault_windows(data.faults, data.end_t).windows)
    lights: list[SloLight] = []
    weights: dict[Light, float] = {"green": 0.0, "amber": 0.0, "red": 0.0}
    for spec, slo in zip(data.scenario.slos, verdict.slos, strict=True):
        light: Light
        if slo.passed:
            light = "green"
        elif final or (slo.measured and failed_live(spec, data)):
            light = "red"  # certainly failed: no later event can make it pass
        else:
            light = "amber"  # failing or not measured so far, but could still pass
        weights[light] += spec.weight
        text = _live_text(slo, light, final)
        if text == "not yet" and isinstance(spec, RecoveryTimeSlo):
            # Recovery is timed from a fault's end: while one is applied, it has not begun.
            text = "fault still applied" if applied else "not recovered yet"
        lights.append(SloLight(slo.name, light, text, slo.target))
    score = verdict.score if final else _decided_score(weights)
    return LiveVerdict(tuple(lights), score, final, passed, exit_code, findings)


def _live_text(slo: SloVerdict, light: Light, final: bool) -> str:
    """The SLO's value as the run stands: nothing is "never" before the run is over."""
    if final or light != "amber":
        return slo.value_text
    if not slo.measured:
        return "pending"
    if slo.value is not None and math.isinf(slo.value):
        return "not yet"  # e.g. a fault not recovered yet: it still can
    return f"{slo.value_text} so far"


def _decided_score(weights: Mapping[Light, float]) -> float | None:
    """The weighted share of decided SLOs that passed (None while none is decided).

    During a run an SLO still pending (amber) could pass or fail: counting it as
    failed would show 0.0 for a run where nothing has gone wrong yet.
    """
    decided = weights["green"] + weights["red"]
    return 100.0 * weights["green"] / decided if decided else None


def stored_verdict(run_dir: Path) -> LiveVerdict | None:
    """The final verdict from ``result.json`` (ledger and serving data included), if any."""
    try:
        document = orjson.loads(RunDirectory(run_dir).result.read_bytes())
        slos = tuple(
            SloLight(
                str(s["name"]),
                "green" if s["passed"] else "red",
                str(s.get("value_text", "")),
                str(s.get("target", "")),
            )
            for s in document["slos"]
        )
        summary = document["verdict"]
        score = summary["score"]
        passed = bool(summary["passed"])
        exit_code = int(summary["exit_code"])
        findings = tuple(str(f["text"]) for f in summary.get("findings") or ())
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    return LiveVerdict(
        slos,
        float(score) if score is not None else None,
        final=True,
        passed=passed,
        exit_code=exit_code,
        findings=findings,
        from_result=True,
    )
