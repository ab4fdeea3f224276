"""A suite's outputs: ``junit.xml`` with one test suite per scenario, and a summary.

Each scenario that produced a run directory contributes its own ``<testsuite>``
(one test case per SLO, as in the run's junit.xml). A scenario that failed
before or outside its SLOs (an infrastructure error) is a test suite with one
``<error>`` case; scenarios not run because the suite stopped are ``<skipped>``.
``summary.json`` (``"format": 1``) and ``summary.md`` list every scenario with
its verdict, exit code, run directory and the stack it ran on (an entry may
name its own stack config, docs/nightly.md).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from dagstorm.analysis.outputs.junit import suite_element
from dagstorm.analysis.outputs.result import Result, analyze
from dagstorm.analysis.texts import number_text
from dagstorm.analysis.verdict.findings import worst_exit_code
from dagstorm.core.atomic import atomic_write
from dagstorm.core.durations import duration_text
from dagstorm.core.errors import ExitCode
from dagstorm.run.rundir import RunDirectory

__all__ = [
    "SUMMARY_FORMAT",
    "ScenarioOutcome",
    "suite_exit_code",
    "suite_junit_tree",
    "write_suite_outputs",
]

SUMMARY_FORMAT = 1


@dataclass(frozen=True)
class ScenarioOutcome:
    """How one scenario of the suite ended."""

    scenario: str
    file: str
    exit_code: ExitCode
    run_dir: Path | None = None
    #: The error that ended it (infrastructure, interruption), if any.
    error: str | None = None
    #: Not run: the suite stopped before it.
    skipped: bool = False
    wall_s: float = 0.0
    #: The stack config it ran on (a file, or where the suite's own came from).
    stack: str | None = None
    #: ``local executor``, ``celery executor``, ``external stack``, …
    executor: str | None = None


def suite_exit_code(outcomes: Sequence[ScenarioOutcome]) -> ExitCode:
    """The worst exit code of the scenarios that ran (0 when none failed)."""
    return worst_exit_code(o.exit_code for o in outcomes if not o.skipped)


def _results(outcomes: Sequence[ScenarioOutcome]) -> list[Result | None]:
    return [
        analyze(o.run_dir) if o.run_dir is not None and RunDirectory(o.run_dir).is_run() else None
        for o in outcomes
    ]


def suite_junit_tree(
    name: str, outcomes: Sequence[ScenarioOutcome], results: Sequence[Result | None] | None = None
) -> ET.ElementTree[ET.Element]:
    """The suite's JUnit document."""
    results = list(results) if results is not None else _results(outcomes)
    root = ET.Element("testsuites", name=name)
    for outcome, result in zip(outcomes, results, strict=True):
        if result is not None:
            suite = suite_element(result)
            if outcome.error and outcome.exit_code != result.verdict.exit_code:
                # Not explained by the verdict's own findings (e.g. an error after the run).
                _add_case(suite, "run", "error", outcome.error)
            root.append(suite)
        elif outcome.skipped:
            root.append(_single(outcome, "skipped", outcome.error or "the suite stopped first"))
        else:
            root.append(_single(outcome, "error", outcome.error or "the run did not start"))
        _add_stack(root[-1], outcome)
    totals = {key: 0 for key in ("tests", "failures", "errors", "skipped")}
    for suite in root:
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return ET.ElementTree(root)


def _single(outcome: ScenarioOutcome, kind: str, message: str) -> ET.Element:
    suite = ET.Element(
        "testsuite",
        name=outcome.scenario,
        tests="1",
        failures="0",
        errors="1" if kind == "error" else "0",
        skipped="1" if kind == "skipped" else "0",
        time=f"{outcome.wall_s:.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="scenario_file", value=outcome.file)
    _add_case(suite, "run", kind, message, count=False)
    return suite


def _add_stack(suite: ET.Element, outcome: ScenarioOutcome) -> None:
    """``stack`` and ``executor`` properties: which stack the scenario ran on."""
    properties = suite.find("properties")
    if properties is None:
        properties = ET.Element("properties")
        suite.insert(0, properties)  # the schema wants <properties> first
    for name, value in (("stack", outcome.stack), ("executor", outcome.executor)):
        if value is not None:
            ET.SubElement(properties, "property", name=name, value=value)


def _add_case(suite: ET.Element, name: str, kind: str, message: str, *, count: bool = True) -> None:
    case = ET.SubElement(
        suite, "testcase", classname=f"dagstorm.{suite.get('name')}", name=name, time="0"
    )
    if kind == "skipped":
        ET.SubElement(case, "skipped", message=message)
    else:
        ET.SubElement(case, "error", message=message, type="infrastructure").text = message
    if count:
        suite.set("tests", str(int(suite.get("tests", "0")) + 1))
        suite.set("errors", str(int(suite.get("errors", "0")) + 1))


def write_suite_outputs(
    suite_dir: Path,
    name: str,
    outcomes: Sequence[ScenarioOutcome],
    *,
    stack_error: str | None = None,
) -> tuple[Path, Path, Path]:
    """Write ``junit.xml``, ``summary.json`` and ``summary.md`` into ``suite_dir``.

    ``stack_error``: the suite could not bring its own stack back at the end
    (an entry ran on another); it makes the suite exit 3.
    """
    suite_dir.mkdir(parents=True, exist_ok=True)
    results = _results(outcomes)
    tree = suite_junit_tree(name, outcomes, results)
    body = ET.tostring(tree.getroot(), encoding="utf-8", xml_declaration=True) + b"\n"
    junit = atomic_write(suite_dir / RunDirectory.JUNIT, body)
    code = suite_exit_code(outcomes)
    if stack_error is not None:
        code = worst_exit_code([code, ExitCode.INFRASTRUCTURE])
    rows = [_row(o, r) for o, r in zip(outcomes, results, strict=True)]
    document = {
        "format": SUMMARY_FORMAT,
        "kind": "dagstorm.suite",
        "suite": name,
        "exit_code": int(code),
        "passed": code == ExitCode.OK,
        "scenarios": rows,
        "stack_error": stack_error,
    }
    summary = atomic_write(
        suite_dir / "summary.json", orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"
    )
    lines = [
        f"# {name}: {'PASS' if code == ExitCode.OK else 'FAIL'} (exit {int(code)})",
        "",
        "| scenario | verdict | exit | score | SLOs failed | wall | stack | run directory |",
        "|---|---|---|---|---|---|---|---|",
    ]
    if stack_error is not None:
        lines[1:1] = ["", f"**stack not brought back:** {stack_error}"]
    for row in rows:
        stack = f"{row['stack']} ({row['executor']})" if row["stack"] else "-"
        lines.append(
            f"| {row['scenario']} | {row['verdict']} | {row['exit_code']} | {row['score']} "
            f"| {row['slos_failed']} | {row['wall']} | {stack} | {row['run_dir'] or '-'} |"
        )
    markdown = atomic_write(suite_dir / "summary.md", ("\n".join(lines) + "\n").encode())
    return junit, summary, markdown


def _row(outcome: ScenarioOutcome, result: Result | None) -> dict[str, Any]:
    if outcome.skipped:
        verdict = "SKIPPED"
    elif outcome.error and result is None:
        verdict = "ERROR"
    elif outcome.exit_code == ExitCode.OK:
        verdict = "PASS"
    else:
        verdict = "FAIL"
    failed = [] if result is None else [v.name for v in result.verdict.failed]
    return {
        "scenario": outcome.scenario,
        "file": outcome.file,
        "verdict": verdict,
        "exit_code": int(outcome.exit_code),
        "score": ""
        if result is None or result.verdict.score is None
        else number_text(result.verdict.score),
        "slos_failed": ", ".join(failed) if failed else "-",
        "findings": [] if result is None else [f.text for f in result.verdict.findings],
        "wall": duration_text(result.run.wall_s if result else outcome.wall_s),
        "run_dir": None if outcome.run_dir is None else str(outcome.run_dir),
        "error": outcome.error,
        "stack": outcome.stack,
        "executor": outcome.executor,
    }
