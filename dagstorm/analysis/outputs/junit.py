"""``junit.xml``: one test suite per scenario, one test case per SLO and per finding.

A failed or unmeasured SLO is a ``<failure>`` whose message reads ``measured X vs
target Y`` and whose text is the detail. Each finding of the verdict (a run that
did not complete, a fault never reverted or recovered, a fault error) is one more
test case: a ``<failure>`` when it calls for exit code 1, an ``<error>`` for 3 or
130. The suite's properties carry the scenario, seed, time compression, score,
run status, exit code and story, and the capacity figures (``capacity.*``, the
same numbers as ``result.json``'s ``capacity``). No wall-clock time of the analysis
goes in: the timestamp is the run's start.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from dagstorm.analysis.capacity import Capacity
from dagstorm.analysis.outputs.jsonable import to_jsonable
from dagstorm.analysis.outputs.result import Result
from dagstorm.analysis.texts import number_text
from dagstorm.analysis.verdict.findings import Finding
from dagstorm.core.atomic import atomic_write
from dagstorm.core.errors import ExitCode
from dagstorm.run.rundir import RunDirectory

JUNIT_FILE = RunDirectory.JUNIT


def junit_tree(result: Result) -> ET.ElementTree[ET.Element]:
    """The JUnit XML document of ``result``."""
    suite = suite_element(result)
    root = ET.Element(
        "testsuites",
        name="dagstorm",
        tests=suite.get("tests", "0"),
        failures=suite.get("failures", "0"),
        errors=suite.get("errors", "0"),
    )
    root.append(suite)
    ET.indent(root)
    return ET.ElementTree(root)


def suite_element(result: Result) -> ET.Element:
    """The ``<testsuite>`` of one run: a test case per SLO (and baseline check) and finding."""
    verdict = result.verdict
    errors = [f for f in verdict.findings if _is_error(f)]
    failures = len(verdict.failed) + len(verdict.findings) - len(errors)
    suite = ET.Element(
        "testsuite",
        name=result.scenario.name,
        tests=str(len(verdict.slos) + len(verdict.findings)),
        failures=str(failures),
        errors=str(len(errors)),
        skipped="0",
        timestamp=result.run.started_at[:19],
        time=f"{result.run.wall_s:.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    values = {
        "scenario": result.scenario.name,
        "seed": "" if result.scenario.seed is None else str(result.scenario.seed),
        "time_compression": number_text(result.scenario.time_compression),
        "score": "" if verdict.score is None else number_text(verdict.score),
        "run_status": result.run.status,
        "exit_code": str(int(verdict.exit_code)),
        "story": result.story,
        **capacity_properties(result.capacity),
    }
    for name, value in values.items():
        ET.SubElement(properties, "property", name=name, value=value)
    for v in verdict.slos:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"dagstorm.{result.scenario.name}",
            name=v.name,
            time="0",
        )
        measured = f"measured {v.value_text}" if v.measured else "not measured"
        message = f"{measured} vs target {v.target}"
        if v.passed:
            ET.SubElement(case, "system-out").text = f"{message}; {v.detail}"
        else:
            kind = "slo_failed" if v.measured else "not_measured"
            failure = ET.SubElement(case, "failure", message=message, type=kind)
            failure.text = v.detail
    for finding in verdict.findings:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"dagstorm.{result.scenario.name}",
            name=finding.subject,
            time="0",
        )
        tag = "error" if _is_error(finding) else "failure"
        element = ET.SubElement(case, tag, message=finding.text, type=finding.kind)
        element.text = f"{finding.text} (exit code {int(finding.exit_code)})"
    return suite


def capacity_properties(capacity: Capacity) -> dict[str, str]:
    """The capacity figures as JUnit properties (empty value: not measured).

    Numbers are written as ``result.json`` has them (6 decimals), so both agree.
    """
    props = {"capacity.generated_vs_target": _figure(capacity.generated_vs_target)}
    for w in capacity.workloads:
        prefix = f"capacity.workload.{w.workload}"
        props[f"{prefix}.wall_bytes_per_s"] = _figure(w.wall_bytes_per_s)
        props[f"{prefix}.sim_bytes_per_s"] = _figure(w.sim_bytes_per_s)
        props[f"{prefix}.full_scale_bytes_per_s"] = _figure(w.full_scale_bytes_per_s)
        props[f"{prefix}.target_ratio"] = _figure(w.target_ratio)
    ramp = capacity.ramp
    if ramp is not None:
        props.update(
            {
                "capacity.ramp.sustained_step": _step(ramp.sustained),
                "capacity.ramp.broke_step": _step(ramp.broke),
                "capacity.ramp.bottleneck": ramp.bottleneck.stage if ramp.bottleneck else "",
                "capacity.ramp.sustained_sim_bytes_per_s": _figure(ramp.sustained_sim_bytes_per_s),
                "capacity.ramp.full_scale_bytes_per_s": _figure(ramp.full_scale_bytes_per_s),
                "capacity.ramp.headroom": _figure(ramp.headroom),
            }
        )
    return props


def _figure(value: float | None) -> str:
    rounded = to_jsonable(value)
    return "" if rounded is None else str(rounded)


def _step(index: int | None) -> str:
    """A step as people count them (1-based); empty for none."""
    return "" if index is None else str(index + 1)


def _is_error(finding: Finding) -> bool:
    """JUnit's error: the run could not be judged (interrupted, infrastructure)."""
    return finding.exit_code != ExitCode.SLO_FAILED


def write_junit(run_dir: Path, result: Result) -> Path:
    """Write ``junit.xml`` into ``run_dir`` atomically; returns its path."""
    body = ET.tostring(junit_tree(result).getroot(), encoding="utf-8", xml_declaration=True)
    return atomic_write(RunDirectory(Path(run_dir)).junit, body + b"\n")
