"""A breakpoint search's answer: ``search.json``, JUnit properties, a history line.

The search (:mod:`dagstorm.analysis.capacity.search`) decides which multipliers
ran and what each step's verdict was; each sub-run is a normal run directory with
its own ``result.json``. Here the pieces become one answer (docs/capacity.md):

- **sustained** and **breaking** multipliers, and the rates they stand for at
  full scale (the workload's declared rate × the multiplier: *extrapolated*, like
  the ramp's headroom), with the measured generated rate of those steps;
- **headroom** = the sustained full-scale rate ÷ the declared target
  (``capacity.search.target``, else the workload's rate);
- the **limiting stage**: the stage whose time grew first from the lowest step up
  to the breaking one (the ramp's rule, :func:`~dagstorm.analysis.capacity.ramp.first_growth`);
- the **limiting resource**: :func:`~dagstorm.analysis.capacity.step_profile.limiting_resource`;
- per step the runs counted, the compliance and its Wilson interval; the verify
  runs' verdicts; how and why the search ended, and whether the wall budget did it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson

from dagstorm.analysis.capacity.ramp import Bottleneck, first_growth
from dagstorm.analysis.capacity.search import SearchResult, SearchSettings, SearchStep, SubRun
from dagstorm.analysis.capacity.step_profile import (
    LimitingResource,
    StepProfile,
    limiting_resource,
    merge_profiles,
)
from dagstorm.analysis.capacity.wilson import Interval
from dagstorm.analysis.outputs.history import HistoryEntry, append_history
from dagstorm.analysis.outputs.jsonable import to_jsonable
from dagstorm.analysis.outputs.result import Result
from dagstorm.core.atomic import atomic_write
from dagstorm.core.errors import ExitCode
from dagstorm.scenarios.slos import SlaSlo

__all__ = [
    "SEARCH_FILE",
    "CapacitySearchSummary",
    "StepRow",
    "VerifyCheck",
    "search_document",
    "search_exit_code",
    "search_history_entry",
    "search_junit_tree",
    "search_properties",
    "step_rows",
    "sub_run_of",
    "summarise",
    "write_search_outputs",
]

SEARCH_FILE = "search.json"
SEARCH_FORMAT = 1
#: How the search may end and still give an answer (the others fail the search).
ANSWERED = frozenset({"converged", "ceiling", "first step broke"})


def sub_run_of(result: Result, *, wall_s: float) -> SubRun:
    """What a finished sub-run adds to its step: the SLA's counts and the other SLOs failed.

    The SLA is the scenario's first ``sla`` SLO; an SLO other than it counts as failed
    only when it was measured and missed (an unmeasured one says nothing about the
    rate). A run that could not be judged (infrastructure error, interruption) is an
    error that ends the search.
    """
    code = result.exit_code
    run_dir = str(result.run_dir)
    if code in (ExitCode.INFRASTRUCTURE, ExitCode.INTERRUPTED):
        why = "interrupted" if code == ExitCode.INTERRUPTED else "infrastructure error"
        return SubRun(0, 0, wall_s=wall_s, run_dir=run_dir, error=f"{why} (exit {int(code)})")
    if result.data is None:
        raise ValueError("a sub-run's result needs its run data (analyze, not a hand-built one)")
    slos = result.data.scenario.slos
    index = next((i for i, slo in enumerate(slos) if isinstance(slo, SlaSlo)), None)
    if index is None:
        return SubRun(0, 0, wall_s=wall_s, run_dir=run_dir, error="the sub-run has no sla SLO")
    sla = slos[index]
    assert isinstance(sla, SlaSlo)
    measure = result.measures.sla_for(sla)
    failures = tuple(
        v.name
        for i, v in enumerate(result.verdict.slos)
        if i != index and v.measured and not v.passed
    )
    return SubRun(measure.met, measure.missed, failures, wall_s=wall_s, run_dir=run_dir)


@dataclass(frozen=True)
class StepRow:
    """One step of the search as reported."""

    index: int
    multiplier: float
    phase: str
    verdict: str
    reason: str
    early: bool
    run_dirs: tuple[str, ...]
    met: int
    counted: int
    compliance: float | None
    interval: Interval | None
    #: Extrapolated: the declared rate × the multiplier (bytes per second at full scale).
    full_scale_bytes_per_s: float | None
    profile: StepProfile | None


@dataclass(frozen=True)
class VerifyCheck:
    """A steady run after the search and whether it did what it must."""

    name: Literal["below", "above"]
    multiplier: float
    expected: Literal["holds", "breaks"]
    step: StepRow

    @property
    def passed(self) -> bool:
        """True when the run's verdict is the expected one."""
        return self.step.verdict == self.expected


@dataclass(frozen=True)
class CapacitySearchSummary:
    """The search's answer (``search.json``, docs/capacity.md)."""

    scenario: str
    started_at: str
    wall_s: float
    settings: SearchSettings
    sla_text: str
    ended: str
    ended_text: str
    bounded_by_wall: bool
    sustained: float | None
    breaking: float | None
    #: breaking ÷ sustained − 1 (None: one side missing).
    width: float | None
    declared_text: str | None
    declared_bytes_per_s: float | None
    target_text: str | None
    target_bytes_per_s: float | None
    sustained_full_scale_bytes_per_s: float | None
    breaking_full_scale_bytes_per_s: float | None
    #: Measured generated rate (simulated) at the sustained step.
    sustained_sim_bytes_per_s: float | None
    headroom: float | None
    limiting_stage: Bottleneck | None
    #: The multiplier of the step where the stage grew (``limiting_stage.step`` is its index).
    limiting_stage_multiplier: float | None
    limiting_cpu: LimitingResource | None
    limiting_memory: LimitingResource | None
    steps: tuple[StepRow, ...]
    verify: tuple[VerifyCheck, ...]

    @property
    def exit_code(self) -> ExitCode:
        """The search's exit code (:func:`search_exit_code`)."""
        return search_exit_code(self)


def step_rows(
    steps: Sequence[SearchStep],
    profiles: Mapping[str, StepProfile],
    declared_bytes_per_s: float | None,
) -> tuple[StepRow, ...]:
    """Each step with its counts, interval, extrapolated rate and merged profile."""
    rows = []
    for step in steps:
        dirs = tuple(s.run_dir for s in step.sub_runs if s.run_dir is not None)
        rows.append(
            StepRow(
                index=step.index,
                multiplier=step.multiplier,
                phase=step.phase,
                verdict=step.verdict,
                reason="" if step.decision is None else step.decision.reason,
                early=step.decision is not None and step.decision.early,
                run_dirs=dirs,
                met=step.met,
                counted=step.counted,
                compliance=step.compliance,
                interval=step.interval,
                full_scale_bytes_per_s=(
                    None if declared_bytes_per_s is None else declared_bytes_per_s * step.multiplier
                ),
                profile=merge_profiles([profiles[d] for d in dirs if d in profiles]),
            )
        )
    return tuple(rows)


def summarise(
    *,
    scenario: str,
    started_at: str,
    wall_s: float,
    settings: SearchSettings,
    sla_text: str,
    result: SearchResult,
    profiles: Mapping[str, StepProfile],
    declared: tuple[str | None, float | None],
    target: tuple[str | None, float | None],
    verify: Sequence[tuple[Literal["below", "above"], float, SearchStep]] = (),
) -> CapacitySearchSummary:
    """The search's answer from its result, the sub-runs' profiles and the declarations."""
    declared_text, declared_rate = declared
    target_text, target_rate = target
    if target_rate is None:
        target_text, target_rate = declared_text, declared_rate
    rows = step_rows(result.steps, profiles, declared_rate)
    sustained_row = _row_at(rows, result.sustained)
    sustained_full = None if sustained_row is None else sustained_row.full_scale_bytes_per_s
    breaking_row = _row_at(rows, result.breaking)
    # The stage that grew first, from the lowest step up to the breaking one.
    judged = sorted(
        (r for r in rows if r.verdict in ("holds", "breaks") and r.profile is not None),
        key=lambda r: r.multiplier,
    )
    top = result.breaking if result.breaking is not None else result.sustained
    upto = [r for r in judged if top is None or r.multiplier <= top]
    grew = first_growth([(r.index, r.profile.stages) for r in upto if r.profile is not None])
    grew_at = next((r.multiplier for r in rows if grew and r.index == grew.step), None)
    cpu = memory = None
    if len(upto) >= 2 and upto[0].profile is not None and upto[-1].profile is not None:
        cpu, memory = limiting_resource(
            (upto[0].multiplier, upto[0].profile), (upto[-1].multiplier, upto[-1].profile)
        )
    checks = tuple(
        VerifyCheck(
            name,
            multiplier,
            "holds" if name == "below" else "breaks",
            step_rows([step], profiles, declared_rate)[0],
        )
        for name, multiplier, step in verify
    )
    return CapacitySearchSummary(
        scenario=scenario,
        started_at=started_at,
        wall_s=wall_s,
        settings=settings,
        sla_text=sla_text,
        ended=result.ended,
        ended_text=result.ended_text,
        bounded_by_wall=result.bounded_by_wall,
        sustained=result.sustained,
        breaking=result.breaking,
        width=result.width,
        declared_text=declared_text,
        declared_bytes_per_s=declared_rate,
        target_text=target_text,
        target_bytes_per_s=target_rate,
        sustained_full_scale_bytes_per_s=sustained_full,
        breaking_full_scale_bytes_per_s=(
            None if breaking_row is None else breaking_row.full_scale_bytes_per_s
        ),
        sustained_sim_bytes_per_s=(
            None
            if sustained_row is None or sustained_row.profile is None
            else sustained_row.profile.sim_bytes_per_s
        ),
        headroom=(
            None if sustained_full is None or not target_rate else sustained_full / target_rate
        ),
        limiting_stage=grew,
        limiting_stage_multiplier=grew_at,
        limiting_cpu=cpu,
        limiting_memory=memory,
        steps=rows,
        verify=checks,
    )


def _row_at(rows: Sequence[StepRow], multiplier: float | None) -> StepRow | None:
    if multiplier is None:
        return None
    return next((r for r in rows if r.multiplier == multiplier and r.verdict != "undecided"), None)


def search_exit_code(summary: CapacitySearchSummary) -> ExitCode:
    """0 an answer (and every verify check passed); 1 no answer or a verify failed; 3 error.

    An interrupted sub-run (Ctrl-C: its faults were reverted) is 130, like `dagstorm run`.
    """
    if summary.ended == "error":
        interrupted = summary.ended_text.endswith("interrupted") or "(exit 130)" in (
            summary.ended_text
        )
        return ExitCode.INTERRUPTED if interrupted else ExitCode.INFRASTRUCTURE
    if summary.ended not in ANSWERED or not all(c.passed for c in summary.verify):
        return ExitCode.SLO_FAILED
    return ExitCode.OK


def search_document(summary: CapacitySearchSummary) -> dict[str, Any]:
    """``search.json``: the summary as JSON, with its format and exit code."""
    body = to_jsonable(summary)
    body["settings"] = to_jsonable(summary.settings)
    for check, row in zip(body["verify"], summary.verify, strict=True):
        check["passed"] = row.passed
    return {
        "format": SEARCH_FORMAT,
        "kind": "dagstorm.capacity_search",
        "exit_code": int(summary.exit_code),
        "passed": summary.exit_code == ExitCode.OK,
        **body,
    }


def search_properties(summary: CapacitySearchSummary) -> dict[str, str]:
    """The answer as JUnit properties (``capacity.search.*``; empty: none)."""

    def figure(value: float | None) -> str:
        rounded = to_jsonable(value)
        return "" if rounded is None else str(rounded)

    stage = summary.limiting_stage
    return {
        "capacity.search.ended": summary.ended,
        "capacity.search.bounded_by_wall": str(summary.bounded_by_wall).lower(),
        "capacity.search.sustained_multiplier": figure(summary.sustained),
        "capacity.search.breaking_multiplier": figure(summary.breaking),
        "capacity.search.width": figure(summary.width),
        "capacity.search.sustained_full_scale_bytes_per_s": figure(
            summary.sustained_full_scale_bytes_per_s
        ),
        "capacity.search.breaking_full_scale_bytes_per_s": figure(
            summary.breaking_full_scale_bytes_per_s
        ),
        "capacity.search.headroom": figure(summary.headroom),
        "capacity.search.limiting_stage": "" if stage is None else stage.stage,
        "capacity.search.limiting_cpu": (
            "" if summary.limiting_cpu is None else summary.limiting_cpu.component
        ),
        "capacity.search.limiting_memory": (
            "" if summary.limiting_memory is None else summary.limiting_memory.component
        ),
        "capacity.search.steps": str(len(summary.steps)),
        "capacity.search.wall_s": figure(summary.wall_s),
    }


def search_junit_tree(summary: CapacitySearchSummary) -> ET.ElementTree[ET.Element]:
    """JUnit XML: one case for the search's answer, one per step, one per verify check."""
    cases: list[tuple[str, str | None, str]] = []  # (name, failure kind, message)
    answered = summary.ended in ANSWERED
    kind = None if answered else ("error" if summary.ended == "error" else "failure")
    cases.append(("capacity search", kind, summary.ended_text))
    for row in summary.steps:
        name = f"step {row.index + 1} ×{row.multiplier:.4g} {row.verdict}"
        cases.append((name, None, row.reason))
    for check in summary.verify:
        message = f"expected {check.expected}, got {check.step.verdict}: {check.step.reason}"
        cases.append(
            (f"verify {check.name} ×{check.multiplier:.4g}", None if check.passed else "failure",
             message)
        )  # fmt: skip
    failures = sum(1 for _, k, _ in cases if k == "failure")
    errors = sum(1 for _, k, _ in cases if k == "error")
    suite = ET.Element(
        "testsuite",
        name=f"capacity-search {summary.scenario}",
        tests=str(len(cases)),
        failures=str(failures),
        errors=str(errors),
        skipped="0",
        timestamp=summary.started_at[:19],
        time=f"{summary.wall_s:.3f}",
    )
    props = ET.SubElement(suite, "properties")
    for name, value in search_properties(summary).items():
        ET.SubElement(props, "property", name=name, value=value)
    for name, kind_of, message in cases:
        case = ET.SubElement(suite, "testcase", classname="capacity", name=name)
        if kind_of is not None:
            ET.SubElement(case, kind_of, message=message[:500]).text = message
        elif message:
            ET.SubElement(case, "system-out").text = message
    root = ET.Element(
        "testsuites", name="dagstorm", tests=str(len(cases)), failures=str(failures),
        errors=str(errors),
    )  # fmt: skip
    root.append(suite)
    ET.indent(root)
    return ET.ElementTree(root)


def search_history_entry(summary: CapacitySearchSummary, search_dir: Path) -> HistoryEntry:
    """The history line of a search: the capacity headline measures, verify checks as SLOs."""
    code = summary.exit_code
    return HistoryEntry(
        run=search_dir.name,
        path=str(search_dir.resolve()),
        scenario=summary.scenario,
        started_at=summary.started_at,
        status=summary.ended,
        passed=code == ExitCode.OK,
        exit_code=int(code),
        wall_s=summary.wall_s,
        measures={
            "capacity_sustained_full_scale_bytes_per_s": summary.sustained_full_scale_bytes_per_s,
            "capacity_headroom": summary.headroom,
            "capacity_sustained_multiplier": summary.sustained,
            "capacity_breaking_multiplier": summary.breaking,
        },
        slos={f"verify {c.name}": c.passed for c in summary.verify},
    )


def write_search_outputs(
    search_dir: Path, summary: CapacitySearchSummary, *, history: Path | None = None
) -> tuple[Path, Path]:
    """``search.json`` and ``junit.xml`` in ``search_dir``; the history line with ``history``."""
    search_dir.mkdir(parents=True, exist_ok=True)
    document = orjson.dumps(search_document(summary), option=orjson.OPT_INDENT_2) + b"\n"
    json_path = atomic_write(search_dir / SEARCH_FILE, document)
    tree = search_junit_tree(summary)
    body = ET.tostring(tree.getroot(), encoding="utf-8", xml_declaration=True) + b"\n"
    junit = atomic_write(search_dir / "junit.xml", body)
    if history is not None:
        append_history(history, search_history_entry(summary, search_dir))
    return json_path, junit
