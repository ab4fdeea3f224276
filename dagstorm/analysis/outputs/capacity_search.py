"""A breakpoint search's answer as files: ``search.json``, JUnit properties, a history line.

The search (:mod:`dagstorm.analysis.capacity.search`) decides which multipliers
ran and what each step's verdict was; each sub-run is a normal run directory with
its own ``result.json`` (:func:`sub_run_of` reads what a step needs from it). The
answer itself — sustained and breaking multipliers, headroom, the limiting stage
and resource, the steps and verify runs — is
:class:`~dagstorm.analysis.capacity.search_summary.CapacitySearchSummary`
(docs/capacity.md); here it is written out.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import orjson

from dagstorm.analysis.capacity.search import SubRun
from dagstorm.analysis.capacity.search_summary import ANSWERED, CapacitySearchSummary
from dagstorm.analysis.measures.sla import UNFINISHED_IN_TIME
from dagstorm.analysis.outputs.history import HistoryEntry, append_history
from dagstorm.analysis.outputs.jsonable import to_jsonable
from dagstorm.analysis.outputs.result import Result
from dagstorm.core.atomic import atomic_write
from dagstorm.core.errors import ExitCode
from dagstorm.run.events.lifecycle import LIVE_SLO_ABORT
from dagstorm.scenarios.slos import SlaSlo

__all__ = [
    "SEARCH_FILE",
    "search_document",
    "search_history_entry",
    "search_junit_tree",
    "search_properties",
    "sub_run_of",
    "write_search_outputs",
]

SEARCH_FILE = "search.json"
SEARCH_FORMAT = 1


def sub_run_of(result: Result, *, wall_s: float) -> SubRun:
    """What a finished sub-run adds to its step: the SLA's counts and the other SLOs failed.

    The SLA is the scenario's first ``sla`` SLO; an SLO other than it counts as failed
    only when it was measured and missed (an unmeasured one says nothing about the
    rate), and a run of the step still going when its drain ended (which the search
    ends before the next sub-run) is a miss. A run aborted by a live SLO check broke
    its step (k6's abort on a failed threshold); a fault after which no DAG run
    succeeded counts as a failure too.
    A run that could not be judged is an error that ends the search: an
    infrastructure error, an interruption, a run aborted because its probes failed
    (the stack was not observable), a fault left applied (the next step would run
    on a stack still under it).
    """
    code = result.exit_code
    run_dir = str(result.run_dir)

    def error(why: str) -> SubRun:
        return SubRun(0, 0, wall_s=wall_s, run_dir=run_dir, error=why)

    if code in (ExitCode.INFRASTRUCTURE, ExitCode.INTERRUPTED):
        why = "interrupted" if code == ExitCode.INTERRUPTED else "infrastructure error"
        return error(f"{why} (exit {int(code)})")
    reason = result.run.reason or ""
    live_abort = result.run.status == "aborted" and reason.startswith(LIVE_SLO_ABORT)
    if result.run.status != "completed" and not live_abort:
        return error(f"run {result.run.status}: {reason or 'no reason given'}")
    findings = result.verdict.findings
    left = [f.text for f in findings if f.kind == "fault_not_reverted"]
    if left:
        return error(f"a fault was left applied: {left[0]}")
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
    if live_abort:
        failures += (f"aborted live ({reason.removeprefix(LIVE_SLO_ABORT)})",)
    failures += tuple(f.subject for f in findings if f.kind == "fault_unrecovered")
    # A run still going at the end of the drain, within its deadline, is left out of the
    # run's own SLA; the search ends it before the next sub-run, so it is a miss here.
    going = sum(1 for r in measure.excluded_runs if r.reason == UNFINISHED_IN_TIME)
    return SubRun(measure.met, measure.missed + going, failures, wall_s=wall_s, run_dir=run_dir)


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
        "capacity.search.limiting_task": (
            "" if summary.limiting_task is None else summary.limiting_task.task
        ),
        "capacity.search.limiting_cpu": (
            "" if summary.limiting_cpu is None else summary.limiting_cpu.component
        ),
        "capacity.search.limiting_memory": (
            "" if summary.limiting_memory is None else summary.limiting_memory.component
        ),
        "capacity.search.saturated_first": (
            "" if summary.saturated_first is None else summary.saturated_first.text
        ),
        "capacity.search.pool_saturated_first": (
            "" if summary.pool_saturated_first is None else summary.pool_saturated_first.text
        ),
        "capacity.search.foreign_runs_most": str(
            max((r.profile.foreign.most for r in summary.steps if r.profile), default=0)
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
