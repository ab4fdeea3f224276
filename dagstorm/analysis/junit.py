"""``junit.xml``: one test suite per scenario, one test case per SLO.

A failed or unmeasured SLO is a ``<failure>`` whose message reads ``measured X vs
target Y`` and whose text is the detail. The suite's properties carry the
scenario, seed, time compression, score and run status. No wall-clock time of
the analysis goes in: the timestamp is the run's start.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from dagstorm.analysis.result import Result
from dagstorm.analysis.texts import number_text
from dagstorm.core.atomic import atomic_write

JUNIT_FILE = "junit.xml"


def junit_tree(result: Result) -> ET.ElementTree[ET.Element]:
    """The JUnit XML document of ``result``."""
    verdict = result.verdict
    tests, failures = str(len(verdict.slos)), str(len(verdict.failed))
    root = ET.Element("testsuites", name="dagstorm", tests=tests, failures=failures, errors="0")
    root.append(suite_element(result))
    ET.indent(root)
    return ET.ElementTree(root)


def suite_element(result: Result) -> ET.Element:
    """The ``<testsuite>`` of one run: one test case per SLO (and the baseline check)."""
    verdict = result.verdict
    tests, failures = str(len(verdict.slos)), str(len(verdict.failed))
    suite = ET.Element(
        "testsuite",
        name=result.scenario.name,
        tests=tests,
        failures=failures,
        errors="0",
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
        "story": result.story,
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
    return suite


def write_junit(run_dir: Path, result: Result) -> Path:
    """Write ``junit.xml`` into ``run_dir`` atomically; returns its path."""
    body = ET.tostring(junit_tree(result).getroot(), encoding="utf-8", xml_declaration=True)
    return atomic_write(Path(run_dir) / JUNIT_FILE, body + b"\n")
